//! The compiler: which rustc to run and what it says about itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::{self, ProcessError};
use crate::toolchain::Recorded;

/// What to do when rustc cannot be found.
pub const MISSING_HINT: &str =
    "install the toolchain that built this program, or point STAGED_RUSTC at its rustc";

/// A rustc that answered `rustc -vV`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rustc {
    /// The compiler to run.
    pub path: PathBuf,
    /// A wrapper to run it through (`wrapper rustc args...`), if any.
    pub wrapper: Option<PathBuf>,
    /// The full `rustc -vV` text: two compilers are the same only if these
    /// match.
    pub version: String,
    /// The `release:` line, such as `1.95.0`.
    pub release: String,
    /// The `host:` line: the target it builds for by default.
    pub host: String,
}

impl Rustc {
    /// Runs `path -vV` (through `wrapper`, if any).
    ///
    /// # Errors
    ///
    /// [`ProcessError::NotFound`] when there is no such program; another
    /// [`ProcessError`] when it does not answer like a rustc.
    pub fn probe(
        path: &Path,
        wrapper: Option<&Path>,
        limit: Duration,
    ) -> Result<Self, ProcessError> {
        let mut cmd = command(path, wrapper);
        cmd.arg("-vV");
        let out = process::run(&mut cmd, limit, MISSING_HINT)?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Self::known(path, wrapper, &version).ok_or_else(|| ProcessError::Failed {
            command: process::CommandLine::of(&cmd),
            status: "answered, but not like rustc -vV".into(),
            stderr: process::head(&out.stdout),
        })
    }

    /// The compiler at `path` whose `rustc -vV` is already known to be
    /// `version`; `None` if `version` does not read like one.
    pub fn known(path: &Path, wrapper: Option<&Path>, version: &str) -> Option<Self> {
        let version = version.trim();
        let field = |name: &str| {
            version
                .lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
        };
        Some(Self {
            path: path.to_owned(),
            wrapper: wrapper.map(Path::to_owned),
            version: version.to_owned(),
            release: field("release:")?,
            host: field("host:")?,
        })
    }

    /// A command that runs this compiler.
    pub fn command(&self) -> Command {
        command(&self.path, self.wrapper.as_deref())
    }
}

/// Why there is no rustc to build with. Exhaustive: the runtime maps each
/// case to an error of its own.
#[derive(Clone, Debug, thiserror::Error)]
pub enum FindError {
    /// It is missing or does not answer like a rustc.
    #[error(transparent)]
    Unavailable(ProcessError),
    /// It is another version than the one recorded at build time.
    #[error("{path} is rustc {found}, not rustc {expected}, which was recorded at build time")]
    Mismatch {
        /// The compiler that was found.
        path: PathBuf,
        /// Its release (the first line of its `rustc -vV`, without `rustc`).
        found: String,
        /// The release that was recorded.
        expected: String,
    },
}

/// The rustc to build with, for the toolchain `recorded` at build time:
/// `given` (`STAGED_RUSTC`), else the recorded binary, else `rustc` on
/// `PATH`, run through the recorded wrapper, and checked to be the
/// recorded version (unless none was recorded). The recorded binary,
/// untouched since (its [`stamp`]), answers `-vV` as it did then: it is
/// not asked again, which saves ~15 ms.
///
/// # Errors
///
/// [`FindError::Unavailable`] when the compiler is missing or does not
/// answer within `limit`; [`FindError::Mismatch`] when it is another
/// version than the recorded one.
pub fn resolve(
    recorded: &Recorded,
    given: Option<&Path>,
    limit: Duration,
) -> Result<Rustc, FindError> {
    let path = match given {
        Some(p) => p.to_owned(),
        None if Path::new(recorded.rustc).is_file() => PathBuf::from(recorded.rustc),
        None => PathBuf::from("rustc"),
    };
    let wrapper = wrapper(recorded.wrapper);
    let wrapper = wrapper.as_deref();
    let unchanged = path == Path::new(recorded.rustc)
        && !recorded.stamp.is_empty()
        && stamp(&path).as_deref() == Some(recorded.stamp);
    if unchanged && let Some(rustc) = Rustc::known(&path, wrapper, recorded.version) {
        return Ok(rustc);
    }
    let rustc = Rustc::probe(&path, wrapper, limit).map_err(FindError::Unavailable)?;
    if !recorded.version.is_empty() && rustc.version != recorded.version.trim() {
        return Err(FindError::Mismatch {
            path,
            found: release(&rustc.version),
            expected: release(recorded.version),
        });
    }
    Ok(rustc)
}

/// The release a `rustc -vV` names on its first line (`1.95.0 (x 2026-04-14)`).
fn release(version: &str) -> String {
    version
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("rustc ")
        .to_owned()
}

/// A command that runs the compiler at `path`, through `wrapper` if any
/// (`wrapper rustc args...`, as cargo runs `RUSTC_WRAPPER`).
pub fn command(path: &Path, wrapper: Option<&Path>) -> Command {
    match wrapper {
        Some(w) => {
            let mut cmd = Command::new(w);
            cmd.arg(path);
            cmd
        }
        None => Command::new(path),
    }
}

/// One build staged asks of rustc, described once for every kind it makes:
/// a run-time library (`cdylib`), the support library (`rlib`) and a
/// `const_init!` evaluator program (`bin`).
///
/// The arguments come in one order: the crate, staged's defaults, the
/// user's extra flags (which may change a default), staged's own settings
/// (which win, being later), the target, and the files. Two builds given
/// the same description get the same arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    crate_args: Vec<String>,
    defaults: Vec<String>,
    extra: Vec<String>,
    fixed: Vec<String>,
    target: Option<String>,
}

impl Invocation {
    /// A build of the crate `name` of `crate_type` in `edition`, optimized
    /// at `opt_level`, without debug information, lints capped and panics
    /// unwinding (the host catches them; a panic never aborts it).
    pub fn new(crate_type: &str, name: &str, edition: &str, opt_level: u8) -> Self {
        let crate_args = [
            "--crate-type",
            crate_type,
            "--crate-name",
            name,
            "--edition",
            edition,
            "--cap-lints",
            "allow",
        ];
        Self {
            crate_args: crate_args.map(str::to_owned).to_vec(),
            defaults: codegen(&[&format!("opt-level={opt_level}"), "debuginfo=0"]),
            extra: Vec::new(),
            fixed: codegen(&["panic=unwind"]),
            target: None,
        }
    }

    /// A `-C` option the user's extra flags may change.
    #[must_use]
    pub fn default(mut self, option: &str) -> Self {
        self.defaults.extend(codegen(&[option]));
        self
    }

    /// Links with `linker` (empty: rustc's own choice).
    #[must_use]
    pub fn linker(self, linker: &str) -> Self {
        if linker.is_empty() {
            return self;
        }
        self.default(&format!("linker={linker}"))
    }

    /// The user's extra flags, checked by the caller.
    #[must_use]
    pub fn extra(mut self, flags: &[String]) -> Self {
        self.extra.extend(flags.iter().cloned());
        self
    }

    /// A `-C` option of staged's that nothing changes.
    #[must_use]
    pub fn set(mut self, option: &str) -> Self {
        self.fixed.extend(codegen(&[option]));
        self
    }

    /// Another argument of staged's (`--extern`, `--error-format=json`),
    /// after everything the user gives.
    #[must_use]
    pub fn arg(mut self, arg: &str) -> Self {
        self.fixed.push(arg.to_owned());
        self
    }

    /// Builds for `target`, unless it is empty or the compiler's `host`.
    #[must_use]
    pub fn target(mut self, target: &str, host: &str) -> Self {
        self.target = (!target.is_empty() && target != host).then(|| target.to_owned());
        self
    }

    /// Adds every argument to `cmd` (made by [`Rustc::command`]): the
    /// build of `source` into `output`.
    pub fn apply(&self, cmd: &mut Command, source: &Path, output: &Path) {
        cmd.args(&self.crate_args)
            .args(&self.defaults)
            .args(&self.extra)
            .args(&self.fixed);
        if let Some(target) = &self.target {
            cmd.args(["--target", target]);
        }
        cmd.arg("-o").arg(output).arg(source);
    }
}

fn codegen(options: &[&str]) -> Vec<String> {
    options
        .iter()
        .flat_map(|o| ["-C".to_owned(), (*o).to_owned()])
        .collect()
}

/// What identifies one installed compiler binary without running it: size,
/// modification time and inode. A toolchain update replaces the file, so a
/// matching stamp means the binary whose `-vV` was recorded with it.
pub fn stamp(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(format!(
        "{}:{}.{}:{}",
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ino()
    ))
}

/// The wrapper to record for later builds, in a build script: cargo's
/// `RUSTC_WRAPPER` (`given`, empty for none) as an absolute path, a bare
/// name looked up on cargo's `PATH` as cargo runs it, unless it is a
/// caching wrapper. Caching wrappers refuse to cache what staged builds
/// (cdylibs, binaries) and only add their start-up time; other wrappers (a
/// remote executor, a logging shim) are kept, for every build staged makes.
pub fn find_wrapper(given: &str) -> Option<PathBuf> {
    if given.is_empty() {
        return None;
    }
    let given = Path::new(given);
    let name = given.file_stem().and_then(|n| n.to_str()).unwrap_or("");
    if matches!(name, "sccache" | "cachepot" | "ccache") {
        return None;
    }
    if given.components().count() > 1 {
        return std::path::absolute(given).ok().filter(|p| p.is_file());
    }
    let path = crate::settings::search_path()?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(given))
        .find(|p| p.is_absolute() && p.is_file())
}

/// The wrapper [`find_wrapper`] recorded (`recorded`), if it is still
/// there. Only an absolute path is used: a program never looks a wrapper
/// up on the `PATH` it runs with, which need not be the build's.
pub fn wrapper(recorded: &str) -> Option<PathBuf> {
    let path = Path::new(recorded);
    (path.is_absolute() && path.is_file()).then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_the_rustc_on_path() {
        let rustc = Rustc::probe(Path::new("rustc"), None, Duration::from_secs(60)).unwrap();
        assert!(rustc.version.starts_with("rustc "), "{}", rustc.version);
        assert!(!rustc.release.is_empty() && !rustc.host.is_empty());
    }

    #[test]
    fn a_missing_compiler_says_what_to_do() {
        let err = Rustc::probe(
            Path::new("/nonexistent/rustc"),
            None,
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(matches!(err, ProcessError::NotFound { .. }));
        assert!(err.to_string().contains("STAGED_RUSTC"));
    }

    #[test]
    fn something_else_is_not_a_rustc() {
        let err = Rustc::probe(Path::new("echo"), None, Duration::from_secs(5)).unwrap_err();
        assert!(err.to_string().contains("not like rustc"), "{err}");
    }

    #[test]
    fn a_known_version_needs_no_run() {
        let vv = "rustc 1.95.0 (x 2026-04-14)\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\n";
        let rustc = Rustc::known(Path::new("/r/rustc"), None, vv).unwrap();
        assert_eq!(
            (rustc.release.as_str(), rustc.host.as_str()),
            ("1.95.0", "x86_64-unknown-linux-gnu")
        );
        assert!(Rustc::known(Path::new("/r/rustc"), None, "not a version").is_none());
        assert!(stamp(Path::new("/nonexistent/rustc")).is_none());
    }

    #[test]
    fn a_stamp_changes_when_the_compiler_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rustc");
        std::fs::write(&path, b"one").unwrap();
        let first = stamp(&path).unwrap();
        assert_eq!(stamp(&path).unwrap(), first);
        // Same size, another modification time: a rustup update in place.
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::SystemTime::UNIX_EPOCH)
            .unwrap();
        drop(file);
        let touched = stamp(&path).unwrap();
        assert_ne!(touched, first);
        std::fs::write(&path, b"longer").unwrap();
        assert_ne!(stamp(&path).unwrap(), touched);
    }

    fn recorded(rustc: &'static str, version: &'static str, stamp: &'static str) -> Recorded {
        Recorded {
            rustc,
            version,
            stamp,
            target: "",
            wrapper: "",
            linker: "",
        }
    }

    #[test]
    fn the_recorded_rustc_is_checked_or_known_by_its_stamp() {
        let limit = Duration::from_secs(60);
        // Gone: `rustc` on PATH, of any version when none was recorded.
        let found = resolve(&recorded("/nonexistent/rustc", "", ""), None, limit).unwrap();
        assert_eq!(found.path, Path::new("rustc"));
        // Another version than the recorded one.
        let other = "rustc 0.1.0 (x 2015-01-01)\nhost: x\nrelease: 0.1.0";
        let err = resolve(&recorded("/nonexistent/rustc", other, ""), None, limit).unwrap_err();
        assert!(
            matches!(&err, FindError::Mismatch { expected, .. } if expected == "0.1.0 (x 2015-01-01)"),
            "{err}"
        );
        // Given and missing.
        let err = resolve(
            &recorded("", "", ""),
            Some(Path::new("/nonexistent/rustc")),
            limit,
        );
        assert!(matches!(
            err,
            Err(FindError::Unavailable(ProcessError::NotFound { .. }))
        ));
        // The recorded binary, unchanged: known without running it (this
        // one would fail if it ran).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rustc");
        std::fs::write(&path, b"not a program").unwrap();
        let path: &'static str = path.to_str().unwrap().to_owned().leak();
        let stamp: &'static str = stamp(Path::new(path)).unwrap().leak();
        let known = resolve(&recorded(path, other, stamp), None, limit).unwrap();
        assert_eq!(
            (known.path.to_str(), known.release.as_str()),
            (Some(path), "0.1.0")
        );
        assert!(resolve(&recorded(path, other, "0:0.0:0"), None, limit).is_err());
    }

    #[test]
    fn caching_wrappers_are_skipped_and_others_found() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["sccache", "remote-exec"] {
            std::fs::write(dir.path().join(name), b"#!/bin/sh\n").unwrap();
        }
        let sccache = dir.path().join("sccache");
        assert_eq!(find_wrapper(sccache.to_str().unwrap()), None);
        assert_eq!(find_wrapper("sccache"), None);
        let remote = dir.path().join("remote-exec");
        assert_eq!(find_wrapper(remote.to_str().unwrap()), Some(remote.clone()));
        assert_eq!(find_wrapper(""), None);
        assert_eq!(find_wrapper("/nonexistent/remote-exec"), None);
        // A bare name is looked up on PATH when it is recorded, as cargo
        // would run it, and recorded as an absolute path.
        let sh = find_wrapper("sh").expect("sh is on PATH");
        assert!(sh.is_absolute() && sh.is_file(), "{}", sh.display());
        assert_eq!(find_wrapper("no-such-wrapper-anywhere"), None);
        // What was recorded is used as it is; a program never searches its
        // own PATH for one.
        assert_eq!(wrapper(sh.to_str().unwrap()), Some(sh));
        assert_eq!(wrapper(remote.to_str().unwrap()), Some(remote));
        assert_eq!(wrapper("sh"), None);
        assert_eq!(wrapper(""), None);
        assert_eq!(wrapper("/nonexistent/remote-exec"), None);
    }

    #[test]
    fn invocations_put_the_users_flags_between_defaults_and_our_settings() {
        let job = Invocation::new("cdylib", "v", "2021", 3)
            .default("strip=symbols")
            .linker("")
            .extra(&["-Copt-level=2".to_owned()])
            .set("target-cpu=native")
            .arg("--error-format=json")
            .target("x86_64-unknown-linux-gnu", "x86_64-unknown-linux-gnu");
        let mut cmd = Command::new("rustc");
        job.apply(&mut cmd, Path::new("src.rs"), Path::new("out.so"));
        let args: Vec<_> = cmd.get_args().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args.join(" "),
            "--crate-type cdylib --crate-name v --edition 2021 --cap-lints allow \
             -C opt-level=3 -C debuginfo=0 -C strip=symbols -Copt-level=2 \
             -C panic=unwind -C target-cpu=native --error-format=json -o out.so src.rs"
        );
        let cross = job
            .clone()
            .target("aarch64-unknown-linux-gnu", "x86_64-unknown-linux-gnu");
        let mut cmd = Command::new("rustc");
        cross.apply(&mut cmd, Path::new("src.rs"), Path::new("out.so"));
        let args: Vec<_> = cmd.get_args().map(|a| a.to_str().unwrap()).collect();
        assert!(
            args.join(" ")
                .ends_with("--target aarch64-unknown-linux-gnu -o out.so src.rs"),
            "{args:?}"
        );
        assert_ne!(cross, job);
    }
}
