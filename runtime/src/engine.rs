//! The build-and-load engine for one configuration: finds rustc, holds the
//! disk cache, and turns values into loaded variants, from the cache when it
//! has them and by one rustc run for all that it does not.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use staged_build::rustc::{Rustc, stamp, wrapper_serves_cdylib};
use staged_build::store::{Hash32, IndexEntry, Store, StoreError, VerifiedObject};

use crate::codegen::{self, entry_symbol};
use crate::config::Config;
use crate::loader::{self, Expect};
use crate::source::FnSource;
use crate::variant::{Source, Variant};
use crate::{Error, cpu, permits, rustflags};

/// The generated source and the library, in the build directory.
const SOURCE: &str = "variant.rs";
const OUTPUT: &str = "libvariant.so";

/// What an index entry serves, for `staged cache list`: the function and
/// its value(s).
fn serves(source: &FnSource, literals: &[String]) -> String {
    format!("{}\t{}", source.path, literals.join("\t"))
}

/// The disk cache of `config`, or why there is none.
fn open_store(config: &Config) -> Result<Store, Error> {
    let store = match &config.cache_dir {
        Some(dir) => Store::open(dir).map_err(Error::from),
        None => Err(Error::NoCacheDir),
    };
    if let Err(e) = &store {
        log::warn!("staged: run-time variants are disabled: {e}");
    }
    store
}

/// The toolchain that built this crate, recorded by `build.rs`.
pub mod toolchain {
    include!(concat!(env!("OUT_DIR"), "/toolchain.rs"));
}

/// Changes whenever the build flags change meaning (the entry protocol has
/// its own version, `codegen::ABI_VERSION`).
const FORMAT: &str = "staged-variant-2";

/// The engine of the current configuration.
pub(crate) fn current() -> Arc<Engine> {
    static ENGINE: Mutex<Option<Arc<Engine>>> = Mutex::new(None);
    let config = Config::current();
    let mut slot = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    match &*slot {
        Some(engine) if Arc::ptr_eq(&engine.config, &config) => engine.clone(),
        _ => {
            let engine = Arc::new(Engine::new(config));
            *slot = Some(engine.clone());
            engine
        }
    }
}

pub(crate) struct Engine {
    config: Arc<Config>,
    /// The disk cache, or why there is none; opened again when the host
    /// closed its handles.
    store: Mutex<Result<Store, Error>>,
    /// The extra flags, or why they are refused.
    flags: Result<(), Error>,
    rustc: OnceLock<Result<Rustc, Error>>,
    /// Everything about the toolchain, CPU and flags that a library
    /// depends on.
    built_for: Hash32,
}

/// What one value turned into.
pub(crate) type Outcome = Result<Variant, Error>;

/// The outcomes of a batch of values, in order, and the problems met and
/// mended on the way (a damaged cache entry, removed and built again), for
/// `stats()` to report.
pub(crate) struct Materialized {
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) repaired: Vec<Error>,
}

/// How much longer than a build's own limit a process waits for another
/// one building the same values.
const LOCK_SLACK: Duration = Duration::from_secs(10);

impl Engine {
    fn new(config: Arc<Config>) -> Self {
        let store = open_store(&config);
        let flags = rustflags::check(&config.rustflags);
        if let Err(e) = &flags {
            log::warn!("staged: run-time variants are disabled: {e}");
        }
        let cpu = if config.target_cpu == "native" {
            cpu::fingerprint()
        } else {
            String::new()
        };
        let abi = codegen::ABI_VERSION.to_le_bytes();
        let mut parts: Vec<&[u8]> = vec![
            FORMAT.as_bytes(),
            &abi,
            env!("CARGO_PKG_VERSION").as_bytes(),
            toolchain::RUSTC_VERSION.as_bytes(),
            toolchain::TARGET.as_bytes(),
            config.target_cpu.as_bytes(),
            cpu.as_bytes(),
        ];
        // Extra flags change the code, so they are part of every key.
        parts.extend(config.rustflags.iter().map(String::as_bytes));
        let built_for = Hash32::of_parts(parts);
        Self {
            config,
            store: Mutex::new(store),
            flags,
            rustc: OnceLock::new(),
            built_for,
        }
    }

    /// The disk cache, opened again (and so checked again, from `/`) if
    /// the host closed or replaced its handles.
    fn store(&self) -> Result<Store, Error> {
        let mut slot = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(store) = &*slot
            && let Err(e) = store.verify()
        {
            log::warn!("staged: opening the disk cache again: {e}");
            *slot = open_store(&self.config);
        }
        slot.clone()
    }

    /// The key of one value of a function in the disk cache.
    fn value_key(&self, site: &Hash32, literals: &[String]) -> Hash32 {
        let mut parts: Vec<&[u8]> = vec![&site.0, &self.built_for.0];
        parts.extend(literals.iter().map(String::as_bytes));
        Hash32::of_parts(parts)
    }

    /// Variants for `values` (the literals of each), loaded from the disk
    /// cache where possible, the rest built by one rustc run. The outcome of
    /// each value, in order.
    pub(crate) fn materialize(
        &self,
        source: &'static FnSource,
        site: &Hash32,
        values: &[Vec<String>],
    ) -> Materialized {
        let mut repaired = Vec::new();
        let outcomes = self.outcomes(source, site, values, &mut repaired);
        Materialized { outcomes, repaired }
    }

    fn outcomes(
        &self,
        source: &'static FnSource,
        site: &Hash32,
        values: &[Vec<String>],
        repaired: &mut Vec<Error>,
    ) -> Vec<Outcome> {
        let fail_all = |e: &Error| values.iter().map(|_| Err(e.clone())).collect();
        if let Err(e) = &self.flags {
            return fail_all(e);
        }
        let store = match self.store() {
            Ok(store) => store,
            Err(e) => return fail_all(&e),
        };
        let store = &store;
        let expect = Expect {
            layout: source.layout,
            built_for: self.built_for,
        };
        let keys: Vec<Hash32> = values.iter().map(|v| self.value_key(site, v)).collect();
        let mut outcomes: Vec<Option<Outcome>> = keys
            .iter()
            .map(|k| self.cached(store, source, k, &expect, repaired))
            .collect();
        if outcomes.iter().all(Option::is_some) {
            return outcomes.into_iter().flatten().collect();
        }
        let _permit = permits::acquire();
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| outcomes[i].is_none()).collect();
        let lock_key = Hash32::of_parts(missing.iter().map(|&i| keys[i].0.as_slice()));
        let lock = match store.lock(&lock_key, self.config.build_timeout + LOCK_SLACK) {
            Ok(lock) => lock,
            Err(e) => {
                let e = Error::from(e);
                return outcomes
                    .into_iter()
                    .map(|o| o.unwrap_or_else(|| Err(e.clone())))
                    .collect();
            }
        };
        if let Some(what) = &lock.repaired {
            log::warn!("staged: {what}");
        }
        // Another process may have built them while we waited for the lock.
        for &i in &missing {
            outcomes[i] = self.cached(store, source, &keys[i], &expect, repaired);
        }
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| outcomes[i].is_none()).collect();
        if !missing.is_empty() {
            let values: Vec<Vec<String>> = missing.iter().map(|&i| values[i].clone()).collect();
            let wanted: Vec<Hash32> = missing.iter().map(|&i| keys[i]).collect();
            let built = self
                .build(store, source, &values, &wanted)
                .and_then(|object| {
                    // The entries are right whether or not this process can use
                    // the library (another CPU sharing the cache may).
                    for (n, key) in wanted.iter().enumerate() {
                        let entry = IndexEntry {
                            object: object.digest,
                            symbol: entry_symbol(n),
                            serves: serves(source, &values[n]),
                        };
                        store.publish_index(key, &entry)?;
                    }
                    loader::load(object, &expect)
                });
            for (n, &i) in missing.iter().enumerate() {
                outcomes[i] = Some(built.clone().and_then(|library| {
                    let (entry_fn, _) = library.entry(&entry_symbol(n), &keys[i])?;
                    Ok(Variant::new(entry_fn, Source::Compiled, source, n))
                }));
            }
            let removed = store.prune(self.config.cache_max_bytes);
            if removed > 0 {
                log::info!(
                    "staged: pruned {removed} old libraries from {}",
                    store.root().display()
                );
            }
        }
        drop(lock);
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Err(Error::Panicked)))
            .collect()
    }

    /// The variant stored for `key`: `None` on a miss, an error when the
    /// entry exists but cannot be used (it is then forgotten, so that the
    /// next process builds it again).
    fn cached(
        &self,
        store: &Store,
        source: &'static FnSource,
        key: &Hash32,
        expect: &Expect,
        repaired: &mut Vec<Error>,
    ) -> Option<Outcome> {
        let entry = match store.lookup(key) {
            Ok(Some(entry)) => entry,
            Ok(None) => return None,
            Err(e) => {
                log::warn!("staged: dropping a cache entry that cannot be used: {e}");
                store.forget(key);
                return match e {
                    // Removed (or not a file): a miss, built again now.
                    StoreError::Corrupt { .. } | StoreError::Unsafe { .. } => {
                        repaired.push(e.into());
                        None
                    }
                    e => Some(Err(e.into())),
                };
            }
        };
        let result = loader::open(store, &entry.object, expect)
            .and_then(|library| library.entry(&entry.symbol, key));
        match result {
            Ok((entry_fn, index)) => {
                log::info!("staged: loaded a variant from {}", store.root().display());
                Some(Ok(Variant::new(entry_fn, Source::Cached, source, index)))
            }
            // Fits another CPU sharing the cache: left for it.
            Err(e @ Error::MissingFeatures { .. }) => Some(Err(e)),
            Err(e) => {
                log::warn!("staged: dropping a cache entry that cannot be used: {e}");
                store.forget(key);
                match e {
                    // Pruned, damaged, not ours alone, or serving another
                    // value: a miss, and the value is built again now.
                    Error::Store(e) if e.is_not_found() => None,
                    Error::Store(StoreError::Corrupt { .. } | StoreError::Unsafe { .. }) => {
                        store.remove_object(&entry.object);
                        repaired.push(e);
                        None
                    }
                    Error::Mismatch { .. } => {
                        repaired.push(e);
                        None
                    }
                    e => Some(Err(e)),
                }
            }
        }
    }

    /// Builds one library holding `values` (whose entries serve `keys`) and
    /// publishes its object.
    fn build(
        &self,
        store: &Store,
        source: &FnSource,
        values: &[Vec<String>],
        keys: &[Hash32],
    ) -> Result<VerifiedObject, Error> {
        let rustc = self.rustc().clone()?;
        let dir = store.build_dir()?;
        let text = codegen::library(source, values, keys, &self.built_for);
        dir.write(SOURCE, text.as_bytes())?;
        let mut cmd = rustc.command();
        dir.set_as_cwd(&mut cmd)?;
        cmd.args([
            "--crate-type",
            "cdylib",
            "--crate-name",
            "staged_variant",
            "--edition",
            source.edition,
        ])
        // Defaults the extra flags may change.
        .args([
            "-C",
            "opt-level=3",
            "-C",
            "debuginfo=0",
            "-C",
            "strip=symbols",
        ])
        .args(["--cap-lints", "allow"]);
        if !toolchain::LINKER.is_empty() {
            cmd.arg("-C").arg(format!("linker={}", toolchain::LINKER));
        }
        cmd.args(&self.config.rustflags);
        // The runtime's own flags come last, so they win.
        let on = |b: bool| if b { "on" } else { "off" };
        cmd.args(["-C", "panic=unwind"])
            .arg("-C")
            .arg(format!("target-cpu={}", self.config.target_cpu))
            .arg("-C")
            .arg(format!("debug-assertions={}", on(source.debug_assertions)))
            .arg("-C")
            .arg(format!("overflow-checks={}", on(source.overflow_checks)))
            .arg("-C")
            .arg(format!(
                "metadata={}",
                &Hash32::of_bytes(text.as_bytes()).to_string()[..16]
            ));
        if !toolchain::TARGET.is_empty() && toolchain::TARGET != rustc.host {
            cmd.args(["--target", toolchain::TARGET]);
        }
        cmd.args(["-o", OUTPUT, SOURCE]);
        let start = Instant::now();
        staged_build::process::run(
            &mut cmd,
            self.config.build_timeout,
            staged_build::rustc::MISSING_HINT,
        )
        .map_err(|e| match e {
            staged_build::process::ProcessError::NotFound { .. } => Error::Rustc(e),
            other => Error::Compile(other),
        })?;
        log::info!(
            "staged: built {} variant(s) of `{}` in {:.0?}",
            values.len(),
            source.path,
            start.elapsed()
        );
        Ok(store.publish_object(&dir, OUTPUT)?)
    }

    /// The rustc to build with, found and checked once.
    fn rustc(&self) -> &Result<Rustc, Error> {
        self.rustc.get_or_init(|| {
            let path = match &self.config.rustc {
                Some(p) => p.clone(),
                None if Path::new(toolchain::RUSTC).is_file() => PathBuf::from(toolchain::RUSTC),
                None => PathBuf::from("rustc"),
            };
            let wrapper = Some(Path::new(toolchain::RUSTC_WRAPPER))
                .filter(|w| w.is_file() && wrapper_serves_cdylib(w));
            // The recorded binary, untouched since it built this program,
            // answers `-vV` as it did then: skip the ~15 ms of asking.
            let unchanged = path == Path::new(toolchain::RUSTC)
                && !toolchain::RUSTC_STAMP.is_empty()
                && stamp(&path).as_deref() == Some(toolchain::RUSTC_STAMP);
            if unchanged && let Some(rustc) = Rustc::known(&path, wrapper, toolchain::RUSTC_VERSION)
            {
                return Ok(rustc);
            }
            let rustc =
                Rustc::probe(&path, wrapper, self.config.build_timeout).map_err(Error::Rustc)?;
            if !toolchain::RUSTC_VERSION.is_empty()
                && rustc.version != toolchain::RUSTC_VERSION.trim()
            {
                let release = |vv: &str| {
                    vv.lines()
                        .next()
                        .unwrap_or("")
                        .trim_start_matches("rustc ")
                        .to_owned()
                };
                return Err(Error::RustcMismatch {
                    path,
                    found: release(&rustc.version),
                    expected: release(toolchain::RUSTC_VERSION),
                });
            }
            Ok(rustc)
        })
    }
}
