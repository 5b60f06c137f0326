//! The build-and-load engine for one configuration: finds rustc, holds the
//! disk cache, and turns values into loaded variants, from the cache when it
//! has them and by one rustc run for all that it does not.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use staged_build::rustc::{Rustc, stamp, wrapper_serves_cdylib};
use staged_build::store::{Hash32, IndexEntry, Store};

use crate::codegen::{self, entry_symbol};
use crate::config::Config;
use crate::loader::{self, Expect};
use crate::source::FnSource;
use crate::variant::{Source, Variant};
use crate::{Error, permits};

/// The toolchain that built this crate, recorded by `build.rs`.
pub mod toolchain {
    include!(concat!(env!("OUT_DIR"), "/toolchain.rs"));
}

/// Changes whenever the build flags change meaning (the entry protocol has
/// its own version, `codegen::ABI_VERSION`).
const FORMAT: &str = "staged-variant-1";

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
    store: Result<Store, Error>,
    rustc: OnceLock<Result<Rustc, Error>>,
    /// Everything about the toolchain and CPU that a library depends on.
    built_for: Hash32,
}

/// What one value turned into.
pub(crate) type Outcome = Result<Variant, Error>;

impl Engine {
    fn new(config: Arc<Config>) -> Self {
        let store = match &config.cache_dir {
            Some(dir) => Store::open(dir).map_err(Error::from),
            None => Err(Error::NoCacheDir),
        };
        if let Err(e) = &store {
            log::warn!("staged: run-time variants are disabled: {e}");
        }
        let cpu = if config.target_cpu == "native" {
            cpu_fingerprint()
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
            store,
            rustc: OnceLock::new(),
            built_for,
        }
    }

    /// The key of one value of a function in the disk cache.
    fn value_key(&self, site: &Hash32, literals: &[String]) -> Hash32 {
        let mut parts: Vec<&[u8]> = vec![&site.0, &self.built_for.0];
        parts.extend(literals.iter().map(String::as_bytes));
        Hash32::of_parts(parts)
    }

    /// Variants for `values` (the literals of each), loaded from the disk
    /// cache where possible, the rest built by one rustc run. The outcome of
    /// each value, in order, with whether it was built or loaded.
    pub(crate) fn materialize(
        &self,
        source: &FnSource,
        site: &Hash32,
        values: &[Vec<String>],
    ) -> Vec<Outcome> {
        let store = match &self.store {
            Ok(store) => store,
            Err(e) => return values.iter().map(|_| Err(e.clone())).collect(),
        };
        let expect = Expect {
            args: source.args_layout,
            ret: source.ret_layout,
            built_for: self.built_for,
        };
        let keys: Vec<Hash32> = values.iter().map(|v| self.value_key(site, v)).collect();
        let mut outcomes: Vec<Option<Outcome>> = keys
            .iter()
            .map(|k| self.cached(store, k, &expect))
            .collect();
        if outcomes.iter().all(Option::is_some) {
            return outcomes.into_iter().flatten().collect();
        }
        let _permit = permits::acquire();
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| outcomes[i].is_none()).collect();
        let lock_key = Hash32::of_parts(missing.iter().map(|&i| keys[i].0.as_slice()));
        let lock = store.lock(&lock_key);
        if let Err(e) = lock {
            let e = Error::from(e);
            return outcomes
                .into_iter()
                .map(|o| o.unwrap_or_else(|| Err(e.clone())))
                .collect();
        }
        // Another process may have built them while we waited for the lock.
        for &i in &missing {
            outcomes[i] = self.cached(store, &keys[i], &expect);
        }
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| outcomes[i].is_none()).collect();
        if !missing.is_empty() {
            let built = self.build(
                store,
                source,
                &missing
                    .iter()
                    .map(|&i| values[i].clone())
                    .collect::<Vec<_>>(),
            );
            for (n, &i) in missing.iter().enumerate() {
                outcomes[i] = Some(built.clone().and_then(|digest| {
                    let entry = IndexEntry {
                        object: digest,
                        symbol: entry_symbol(n),
                    };
                    store.publish_index(&keys[i], &entry)?;
                    let library = loader::open(store, &digest)?;
                    let entry_fn = library.entry(store, &entry.symbol, &expect)?;
                    Ok(Variant::new(entry_fn, Source::Compiled))
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
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Err(Error::Off)))
            .collect()
    }

    /// The variant stored for `key`: `None` on a miss, an error when the
    /// entry exists but cannot be used (it is then forgotten, so that the
    /// next process builds it again).
    fn cached(&self, store: &Store, key: &Hash32, expect: &Expect) -> Option<Outcome> {
        let entry = match store.lookup(key) {
            Ok(Some(entry)) => entry,
            Ok(None) => return None,
            Err(e) => {
                store.forget(key);
                return Some(Err(e.into()));
            }
        };
        let result = loader::open(store, &entry.object)
            .and_then(|lib| lib.entry(store, &entry.symbol, expect));
        match result {
            Ok(entry_fn) => Some(Ok(Variant::new(entry_fn, Source::Cached))),
            Err(Error::Store(staged_build::store::StoreError::Io { cause, .. }))
                if cause.kind() == std::io::ErrorKind::NotFound =>
            {
                // The object was pruned: a plain miss.
                store.forget(key);
                None
            }
            Err(e) => {
                log::warn!("staged: dropping a cache entry that cannot be used: {e}");
                store.forget(key);
                if matches!(
                    e,
                    Error::Store(staged_build::store::StoreError::Corrupt { .. })
                ) {
                    store.remove_object(&entry.object);
                }
                Some(Err(e))
            }
        }
    }

    /// Builds one library holding `values` and publishes it; returns its
    /// digest.
    fn build(
        &self,
        store: &Store,
        source: &FnSource,
        values: &[Vec<String>],
    ) -> Result<Hash32, Error> {
        let rustc = self.rustc().clone()?;
        let dir = store.build_dir()?;
        let src_path = dir.path().join("variant.rs");
        let lib_path = dir.path().join("libvariant.so");
        let text = codegen::library(source, values, &self.built_for);
        std::fs::write(&src_path, &text).map_err(|e| {
            Error::Store(staged_build::store::StoreError::Io {
                path: src_path.clone(),
                cause: Arc::new(e),
            })
        })?;
        let mut cmd = rustc.command();
        cmd.current_dir(dir.path())
            .args([
                "--crate-type",
                "cdylib",
                "--crate-name",
                "staged_variant",
                "--edition",
                source.edition,
            ])
            .args([
                "-C",
                "opt-level=3",
                "-C",
                "debuginfo=0",
                "-C",
                "strip=symbols",
                "-C",
                "panic=unwind",
            ])
            .args(["--cap-lints", "allow"])
            .arg("-C")
            .arg(format!("target-cpu={}", self.config.target_cpu))
            .arg("-C")
            .arg(format!(
                "metadata={}",
                &Hash32::of_bytes(text.as_bytes()).to_string()[..16]
            ));
        let checks = if source.debug_assertions { "on" } else { "off" };
        cmd.arg("-C").arg(format!("debug-assertions={checks}"));
        cmd.arg("-C").arg(format!("overflow-checks={checks}"));
        if !toolchain::LINKER.is_empty() {
            cmd.arg("-C").arg(format!("linker={}", toolchain::LINKER));
        }
        if !toolchain::TARGET.is_empty() && toolchain::TARGET != rustc.host {
            cmd.args(["--target", toolchain::TARGET]);
        }
        cmd.args(&self.config.rustflags);
        cmd.arg("-o").arg(&lib_path).arg(&src_path);
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
            source.name,
            start.elapsed()
        );
        Ok(store.publish_object(&lib_path)?)
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

/// What `-C target-cpu=native` resolves to on this machine, so that a cache
/// shared between machines never hands one machine's code to another.
fn cpu_fingerprint() -> String {
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
        return std::env::consts::ARCH.to_owned();
    };
    let first = info.split("\n\n").next().unwrap_or("");
    first
        .lines()
        .filter(|l| {
            let key = l.split(':').next().unwrap_or("").trim();
            matches!(
                key,
                "vendor_id"
                    | "cpu family"
                    | "model"
                    | "stepping"
                    | "flags"
                    | "Features"
                    | "CPU implementer"
                    | "CPU part"
                    | "isa"
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
