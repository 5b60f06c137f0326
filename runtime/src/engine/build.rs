//! One rustc run: a library for many values, written, built, checked and
//! published. rustc runs under a shell that marks the build done when it
//! succeeds and holds the keys' lock while it runs, so a build that
//! outlives its process (a short one that exited first) is not lost: the
//! next process that wants one of its values adopts it, with every check a
//! fresh build gets.

use std::ffi::OsString;
use std::os::fd::RawFd;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use staged_build::rustc::Invocation;
use staged_build::store::{BuildDir, Hash32, IndexEntry, KeyLock, Serves, Store, VerifiedObject};

use super::{Engine, Keys, support};
use crate::codegen::{self, Support, entry_symbol};
use crate::source::{FnSource, Value};
use crate::{Error, TOOLCHAIN};

/// The generated source and the library, in the build directory.
const SOURCE: &str = "variant.rs";
const OUTPUT: &str = "libvariant.so";

/// The unrolling policy of run-time variants (a later `-C llvm-args` in
/// `STAGED_RUSTFLAGS` overrides it).
pub(super) const UNROLL: &str = "llvm-args=-unroll-threshold=2000";

/// How much lower the priority of a build nobody waits for is.
const BACKGROUND_NICENESS: u32 = 10;

/// The shell that runs rustc, where there is one.
const SHELL: &str = "/bin/sh";

/// How many seconds past the build limit `timeout` ends a build: this
/// process's own limit ends one it waits for first.
const TIMEOUT_GRACE: u64 = 5;

/// The descriptors at which a build's shell holds its keys' lock and its
/// build slot. rustc, which the shell starts, does not get them: a program
/// a wrapper leaves running must not hold them after the build.
const KEYS_FD: RawFd = 8;
pub(super) const SLOT_FD: RawFd = 9;

/// What a build holds while it runs: the lock of its keys and one of the
/// store's build slots. Both are shared with the build's shell, so that a
/// build that outlives this process holds them until it ends.
pub(super) struct Holds {
    pub(super) keys: KeyLock,
    pub(super) slot: KeyLock,
}

/// Builds that hold their keys' lock but have not started rustc yet: a
/// process that exits waits for them (briefly), so that they outlive it.
static STARTING: AtomicUsize = AtomicUsize::new(0);

/// One build between taking its lock and starting rustc.
pub(super) struct Starting(());

impl Starting {
    pub(super) fn enter() -> Self {
        STARTING.fetch_add(1, Ordering::AcqRel);
        Self(())
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        STARTING.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Waits at most `limit` for the builds of this process that hold their
/// lock to have started rustc.
pub(crate) fn wait_for_starts(limit: Duration) {
    let deadline = Instant::now() + limit;
    while STARTING.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A build ready to start: its directory, the command, and the index
/// entries it will publish.
struct Prepared {
    dir: BuildDir,
    cmd: Command,
    entries: Vec<IndexEntry>,
}

impl Engine {
    /// Builds one library holding `values` (whose entries serve `keys`),
    /// under `holds`, linking the support rlib `support` (or holding its
    /// code), and publishes it and its index entries. `starting` ends when
    /// rustc starts.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn build(
        &self,
        store: &Store,
        holds: &Holds,
        starting: Starting,
        source: &FnSource,
        values: &[Value],
        keys: &[Keys],
        support: Option<Arc<[u8]>>,
    ) -> Result<VerifiedObject, Error> {
        let linked = self.build_with(
            store,
            holds,
            Some(starting),
            source,
            values,
            keys,
            support.as_deref(),
        );
        match linked {
            // The same library with the support code inline, in case the
            // rlib is what failed: if that builds, the rlib is not used again.
            // Not after a time-out: that build would take as long, and the
            // call would last twice the limit.
            Err(Error::Compile(e)) if support.is_some() && !e.is_timed_out() => {
                let inline = self.build_with(store, holds, None, source, values, keys, None);
                if inline.is_ok() {
                    log::warn!(
                        "staged: a library linking the support library failed where it inline built; not linking it again: {}",
                        staged_build::chain::Chain(&e)
                    );
                    self.give_up_support();
                }
                inline
            }
            other => other,
        }
    }

    /// One rustc run for `values`, linking the support rlib `support` or
    /// holding its code.
    #[allow(clippy::too_many_arguments)]
    fn build_with(
        &self,
        store: &Store,
        holds: &Holds,
        starting: Option<Starting>,
        source: &FnSource,
        values: &[Value],
        keys: &[Keys],
        support: Option<&[u8]>,
    ) -> Result<VerifiedObject, Error> {
        let Prepared {
            dir,
            mut cmd,
            entries,
        } = self.prepare(
            store,
            holds,
            source,
            values,
            keys,
            support,
            crate::worker::on_builder(),
        )?;
        let start = Instant::now();
        staged_build::process::Job::new(
            &mut cmd,
            self.config.build_timeout,
            staged_build::rustc::MISSING_HINT,
        )
        .on_start(move || drop(starting))
        .run()
        .map_err(|e| {
            if e.is_not_found() {
                Error::Rustc(e)
            } else {
                Error::Compile(e)
            }
        })?;
        log::info!(
            "staged: built {} variant(s) of `{}` in {:.0?}{}",
            values.len(),
            source.path,
            start.elapsed(),
            if support.is_some() {
                ""
            } else {
                " (support code inline)"
            }
        );
        publish(store, &dir, &entries)
    }

    /// Starts the build of `values` and leaves it to finish after this
    /// process, which is exiting: it holds `holds` from now on, and a later
    /// process adopts its library. Only a build under a shell can be
    /// adopted (the shell marks it done).
    pub(super) fn leave_behind(
        &self,
        store: &Store,
        holds: Holds,
        source: &FnSource,
        values: &[Value],
        keys: &[Keys],
    ) -> Result<(), Error> {
        if !Path::new(SHELL).is_file() {
            return Ok(());
        }
        let support = self.support(store, None).ok().flatten();
        let Prepared { dir, mut cmd, .. } = self.prepare(
            store,
            &holds,
            source,
            values,
            keys,
            support.as_deref(),
            true,
        )?;
        staged_build::process::detach(&mut cmd, staged_build::rustc::MISSING_HINT)
            .map_err(Error::Rustc)?;
        dir.leave();
        // The build holds the lock and the slot now.
        holds.keys.leave();
        holds.slot.leave();
        log::info!(
            "staged: left a build of {} value(s) of `{}` to finish after this process",
            values.len(),
            source.path
        );
        Ok(())
    }

    /// Writes the source and the keys of a build of `values` into a fresh
    /// build directory, with a copy of the support rlib `support` when
    /// there is one, and makes the command that builds it.
    #[allow(clippy::too_many_arguments)]
    fn prepare(
        &self,
        store: &Store,
        holds: &Holds,
        source: &FnSource,
        values: &[Value],
        keys: &[Keys],
        support: Option<&[u8]>,
        background: bool,
    ) -> Result<Prepared, Error> {
        let rustc = self.rustc().clone()?;
        let dir = store.build_dir()?;
        let mut served: Vec<Hash32> = keys.iter().map(|k| k.full).collect();
        if self.explicit_cpu() {
            served.extend(keys.iter().map(|k| k.portable));
        }
        let linking = if support.is_some() {
            Support::Linked
        } else {
            Support::Inline
        };
        let rolled: Vec<bool> = values.iter().map(|v| self.keeps_loops(source, v)).collect();
        let text = codegen::library(
            source,
            values,
            &rolled,
            &served,
            &self.built_for,
            &self.cpu,
            linking,
        );
        dir.write(SOURCE, text.as_bytes())?;
        if let Some(rlib) = support {
            dir.write(support::RLIB, rlib)?;
        }
        let entries = self.entries(source, values, keys);
        dir.record_entries(&entries)?;
        let mut rustc_cmd = rustc.command();
        self.library_invocation(source, &text, &rustc.host, linking)
            .apply(&mut rustc_cmd, Path::new(SOURCE), Path::new(OUTPUT));
        let mut cmd = self.under_shell(rustc_cmd, background, true);
        dir.set_as_cwd(&mut cmd)?;
        holds.keys.share_with(&mut cmd, KEYS_FD)?;
        holds.slot.share_with(&mut cmd, SLOT_FD)?;
        Ok(Prepared { dir, cmd, entries })
    }

    /// The index entries of a library for `values`: each value under its
    /// key, and, built for an explicit target CPU, under its portable key.
    fn entries(&self, source: &FnSource, values: &[Value], keys: &[Keys]) -> Vec<IndexEntry> {
        let explicit = self.explicit_cpu();
        let mut entries = Vec::new();
        for (n, (key, value)) in keys.iter().zip(values).enumerate() {
            let entry = IndexEntry {
                key: key.full,
                symbol: entry_symbol(n),
                serves: Serves {
                    function: source.path.to_owned(),
                    values: value.literals.clone(),
                },
            };
            let portable = explicit.then(|| IndexEntry {
                key: key.portable,
                ..entry.clone()
            });
            entries.push(entry);
            entries.extend(portable);
        }
        entries
    }

    /// Whether builds name their target CPU (so that their libraries also
    /// serve other CPUs with its features, under their portable keys).
    fn explicit_cpu(&self) -> bool {
        self.config.target_cpu != "native"
    }

    /// The build of a library of `source`'s variants (`text`), linking
    /// the support rlib when `support` says so.
    fn library_invocation(
        &self,
        source: &FnSource,
        text: &str,
        host: &str,
        support: Support,
    ) -> Invocation {
        let on = |b: bool| if b { "on" } else { "off" };
        let metadata = &Hash32::of_bytes(text.as_bytes()).to_string()[..16];
        let job = self
            .invocation("cdylib", "staged_variant", source.edition, host)
            .default("strip=symbols")
            .set(&format!("debug-assertions={}", on(source.debug_assertions)))
            .set(&format!("overflow-checks={}", on(source.overflow_checks)))
            .set(&format!("metadata={metadata}"));
        match support {
            Support::Linked => job
                .arg("--extern")
                .arg(&format!("staged_support={}", support::RLIB)),
            Support::Inline => job,
        }
    }

    /// What every build of this engine shares, the support rlib's too:
    /// the defaults, the extra flags (which may change the defaults), then
    /// the runtime's own settings (which win).
    pub(super) fn invocation(
        &self,
        crate_type: &str,
        name: &str,
        edition: &str,
        host: &str,
    ) -> Invocation {
        // A run-time variant is built because it is hot and its loops often
        // have a trip count the value fixed: unroll them further than LLVM's
        // default (300) would (it left the 32 steps of an 11-bit unpack
        // rolled, at 0.70x of bitpacking; fully unrolled, 1.09x, with no
        // other kernel of the report slower).
        Invocation::new(crate_type, name, edition, 3)
            .default(UNROLL)
            .linker(TOOLCHAIN.linker)
            .extra(&self.config.rustflags)
            .set(&format!("target-cpu={}", self.config.target_cpu))
            .target(TOOLCHAIN.target, host)
    }

    /// `rustc` run by a shell, which holds the build's lock and slot while
    /// rustc runs (see [`Holds`]) and, for a library (`adoptable`), marks
    /// the build done when rustc succeeds, so that a later process adopts
    /// a build this one did not see through. Without a shell, `rustc`
    /// itself (such a build is lost if this process exits first).
    ///
    /// `timeout` bounds the build by its limit (or, without it, the
    /// shell's `ulimit -t` its processor time), as this process does while
    /// it lives: a build left behind holds the keys' lock no longer than a
    /// build may take. It comes first, the shell under it: `timeout` makes
    /// itself a process group of its own, which must be the group this
    /// process started and ends at its limit. (Under the shell, it was a
    /// group apart that this process's limit did not reach: a wrapper and
    /// its children ran on until `timeout`'s own limit.) A `background`
    /// build runs at a lower priority (`nice`), so that it does not slow
    /// the program down on a small machine.
    pub(super) fn under_shell(&self, rustc: Command, background: bool, adoptable: bool) -> Command {
        if !Path::new(SHELL).is_file() {
            return rustc;
        }
        let installed =
            |names: [&'static str; 2]| names.into_iter().find(|p| Path::new(p).is_file());
        // Later than this process's own limit, which must be what ends a
        // build it waits for (a time-out, not a failed compile); `timeout`
        // ends a build nobody waits for any more.
        let seconds = self
            .config
            .build_timeout
            .as_secs()
            .max(1)
            .saturating_add(TIMEOUT_GRACE);
        let mut argv: Vec<OsString> = Vec::new();
        // A build nobody waits for (a background builder's, or one left to
        // finish after the process) yields the processor to the program.
        if let Some(nice) = installed(["/usr/bin/nice", "/bin/nice"]).filter(|_| background) {
            argv.extend([
                nice.into(),
                "-n".into(),
                BACKGROUND_NICENESS.to_string().into(),
            ]);
        }
        let timeout = installed(["/usr/bin/timeout", "/bin/timeout"]);
        if let Some(timeout) = timeout {
            argv.extend([
                timeout.into(),
                "-s".into(),
                "KILL".into(),
                seconds.to_string().into(),
            ]);
        }
        let ulimit = match timeout {
            Some(_) => String::new(),
            None => format!("ulimit -t {} 2>/dev/null; ", seconds.saturating_mul(4)),
        };
        let done = if adoptable {
            format!(" && : > {}", BuildDir::done_marker())
        } else {
            String::new()
        };
        let script = format!("{ulimit}\"$0\" \"$@\" {KEYS_FD}>&- {SLOT_FD}>&-{done}");
        argv.extend([SHELL.into(), "-c".into(), script.into()]);
        argv.push(rustc.get_program().to_owned());
        argv.extend(rustc.get_args().map(ToOwned::to_owned));
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        cmd
    }
}

/// Publishes the library `dir` holds and its index `entries`.
fn publish(store: &Store, dir: &BuildDir, entries: &[IndexEntry]) -> Result<VerifiedObject, Error> {
    let object = store.publish_object(dir, OUTPUT)?;
    for entry in entries {
        store.publish_index(&object.digest, entry)?;
    }
    Ok(object)
}

/// Adopts the builds that processes which exited first left done, if one
/// of them serves one of `keys`; whether one was. A done build whose
/// directory is still held is waited for up to `grace`: its last processes
/// are on their way out, and may let go of the keys' lock, which the
/// caller may just have been given, before they let go of the directory.
pub(super) fn adopt(store: &Store, keys: &[Hash32], grace: Duration) -> bool {
    let deadline = Instant::now() + grace;
    let mut adopted = false;
    loop {
        let mut ending = false;
        for orphan in store.orphans() {
            if !orphan.entries.iter().any(|e| keys.contains(&e.key)) {
                continue;
            }
            if orphan.held {
                ending = true;
                continue;
            }
            match store.adopt(&orphan, OUTPUT) {
                Ok(object) => {
                    log::info!(
                        "staged: adopted a build a process left in {} ({})",
                        store.root().display(),
                        object.digest
                    );
                    adopted = true;
                }
                Err(e) => log::warn!(
                    "staged: cannot adopt a build left behind: {}",
                    staged_build::chain::Chain(&e)
                ),
            }
        }
        if adopted || !ending || Instant::now() >= deadline {
            return adopted;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
