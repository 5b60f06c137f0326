//! The build-and-load engine for one configuration: finds rustc, holds the
//! disk cache and the bundles, and turns values into loaded variants, from
//! a bundle or the cache when they have them and by one rustc run for all
//! that they do not.
//!
//! Keys. A library is built for a toolchain, a target and flags
//! (`built_for`) and for a CPU (`cpu`: `STAGED_TARGET_CPU`, and for
//! `native` what this machine's CPU is). A value's key in the cache names
//! all of that. A library built for an explicit target CPU is also indexed
//! under its *portable* key, without the CPU, by which a bundle serves any
//! machine whose CPU has the library's target features (the loader checks
//! them before loading).

mod build;
mod known;
mod support;

pub(crate) use build::wait_for_starts;
pub(crate) use known::index_reads;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use staged_build::chain::Chain;
use staged_build::rustc::{self, Rustc};
use staged_build::store::{Hash32, Store};

use crate::codegen::{self, entry_symbol};
use crate::config::Config;
use crate::loader::{self, Expect};
use crate::source::{FnSource, Value};
use crate::variant::{Source, Variant};
use crate::{Error, TOOLCHAIN, cpu, rustflags, slots};

/// Changes whenever the build flags change meaning (the entry protocol has
/// its own version, `codegen::ABI_VERSION`).
const FORMAT: &str = "staged-variant-3";

/// How much longer than a build's own limit a process waits for another
/// one building the same values.
const LOCK_SLACK: Duration = Duration::from_secs(10);

/// How long a build of the values wanted, done but still ending, is
/// waited for once its keys' lock was let go (see `build::adopt`).
const ADOPT_GRACE: Duration = Duration::from_secs(1);

/// How far a request for variants may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Bundles and the cache only: a miss is [`Error::NotCached`].
    CacheOnly,
    /// Build what they do not have.
    Build,
    /// Start building what they do not have, unless another build of it
    /// holds the lock, and leave the build to finish after this process
    /// (which is exiting); every value not found is [`Error::NotCached`].
    LeaveBehind,
}

/// What one value turned into.
pub(crate) type Outcome = Result<Variant, Error>;

/// The outcomes of a batch of values, in order, and the problems met and
/// mended on the way (a damaged cache entry, removed and built again; a
/// bundle that cannot be used), for `stats()` to report.
pub(crate) struct Materialized {
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) repaired: Vec<Error>,
}

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
    /// The bundles, in order, or why each cannot be used.
    bundles: Vec<Result<Store, Error>>,
    /// The extra flags, or why they are refused.
    flags: Result<(), Error>,
    rustc: OnceLock<Result<Rustc, Error>>,
    /// The toolchain, target and flags a library depends on.
    built_for: Hash32,
    /// The CPU it is built for.
    cpu: Hash32,
    /// The support rlib every library links (`None`: they carry its code),
    /// once known; and the lock of its build.
    support: OnceLock<Option<Arc<[u8]>>>,
    support_lock: Mutex<()>,
    /// The keys the cache and the bundles hold.
    known: known::Known,
}

/// The keys of one value: in the cache, and without the CPU.
#[derive(Clone, Copy)]
struct Keys {
    full: Hash32,
    portable: Hash32,
}

impl Engine {
    fn new(config: Arc<Config>) -> Self {
        let store = open_store(&config);
        let bundles = config
            .bundles
            .iter()
            .map(|dir| {
                let bundle = Store::open_read_only(dir).map_err(Error::from);
                if let Err(e) = &bundle {
                    log::warn!("staged: bundle {} is not used: {}", dir.display(), Chain(e));
                }
                bundle
            })
            .collect();
        let flags = rustflags::check(&config.rustflags);
        if let Err(e) = &flags {
            log::warn!("staged: run-time variants are disabled: {}", Chain(e));
        }
        let abi = codegen::ABI_VERSION.to_le_bytes();
        let mut parts: Vec<&[u8]> = vec![
            FORMAT.as_bytes(),
            &abi,
            env!("CARGO_PKG_VERSION").as_bytes(),
            TOOLCHAIN.version.as_bytes(),
            TOOLCHAIN.target.as_bytes(),
        ];
        // Extra flags change the code, so they are part of every key.
        parts.extend(config.rustflags.iter().map(String::as_bytes));
        let built_for = Hash32::of_parts(parts);
        let native = if config.target_cpu == "native" {
            cpu::fingerprint()
        } else {
            String::new()
        };
        let cpu = Hash32::of_parts([config.target_cpu.as_bytes(), native.as_bytes()]);
        Self {
            config,
            store: Mutex::new(store),
            bundles,
            flags,
            rustc: OnceLock::new(),
            built_for,
            cpu,
            support: OnceLock::new(),
            support_lock: Mutex::new(()),
            known: known::Known::new(),
        }
    }

    /// The disk cache, opened again (and so checked again, from `/`) if
    /// the host closed or replaced its handles.
    fn store(&self) -> Result<Store, Error> {
        let mut slot = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(store) = &*slot
            && let Err(e) = store.verify()
        {
            log::warn!("staged: opening the disk cache again: {}", Chain(&e));
            *slot = open_store(&self.config);
        }
        slot.clone()
    }

    /// Whether the variant of `value` keeps its `#[staged::unroll]` loops:
    /// unrolled, they would make more than `STAGED_UNROLL_MAX` copies.
    pub(crate) fn keeps_loops(&self, source: &FnSource, value: &Value) -> bool {
        codegen::keeps_loops(source.variant, value, self.config.unroll_max)
    }

    /// The keys of one value of a function (whose variant keeps its loops
    /// or not: two different libraries).
    fn keys(&self, source: &FnSource, site: &Hash32, value: &Value) -> Keys {
        Keys {
            full: self.key(source, site, value, &self.cpu.0),
            portable: self.key(source, site, value, known::ANY_CPU),
        }
    }

    /// The key of one value of a function, for `cpu`.
    fn key(&self, source: &FnSource, site: &Hash32, value: &Value, cpu: &[u8]) -> Hash32 {
        let rolled: &[u8] = if self.keeps_loops(source, value) {
            b"loops kept"
        } else {
            b""
        };
        let mut parts: Vec<&[u8]> = vec![&site.0, &self.built_for.0, cpu];
        parts.extend(value.literals.iter().map(String::as_bytes));
        parts.push(rolled);
        Hash32::of_parts(parts)
    }

    /// Variants for `values` (the literals of each): from a bundle or the
    /// disk cache where they have them, the rest built by one rustc run
    /// (with [`Reach::Build`]). The outcome of each value, in order.
    pub(crate) fn materialize(
        &self,
        source: &'static FnSource,
        site: &Hash32,
        values: &[Value],
        reach: Reach,
    ) -> Materialized {
        let mut repaired = Vec::new();
        let outcomes = self.outcomes(source, site, values, reach, &mut repaired);
        Materialized { outcomes, repaired }
    }

    fn outcomes(
        &self,
        source: &'static FnSource,
        site: &Hash32,
        values: &[Value],
        reach: Reach,
        repaired: &mut Vec<Error>,
    ) -> Vec<Outcome> {
        let fail_all = |e: &Error| values.iter().map(|_| Err(e.clone())).collect();
        if let Err(e) = &self.flags {
            return fail_all(e);
        }
        for bundle in &self.bundles {
            if let Err(e) = bundle {
                repaired.push(e.clone());
            }
        }
        let expect = Expect {
            layout: source.layout,
            built_for: self.built_for,
            cpu: Some(self.cpu),
        };
        let keys: Vec<Keys> = values.iter().map(|v| self.keys(source, site, v)).collect();
        let store = self.store();
        let lookup = |k: &Keys, repaired: &mut Vec<Error>| {
            self.in_bundles(source, k, &expect, repaired).or_else(|| {
                store
                    .as_ref()
                    .ok()
                    .and_then(|s| cached(s, source, &k.full, &expect, repaired))
            })
        };
        let mut outcomes: Vec<Option<Outcome>> = keys.iter().map(|k| lookup(k, repaired)).collect();
        let missing = |o: &[Option<Outcome>]| {
            (0..keys.len())
                .filter(|&i| o[i].is_none())
                .collect::<Vec<_>>()
        };
        // A build a process exited before publishing, finished since.
        if let Ok(store) = &store
            && !missing(&outcomes).is_empty()
            && build::adopt(
                store,
                &missing(&outcomes)
                    .iter()
                    .map(|&i| keys[i].full)
                    .collect::<Vec<_>>(),
                Duration::ZERO,
            )
        {
            for i in missing(&outcomes) {
                outcomes[i] = lookup(&keys[i], repaired);
            }
        }
        if outcomes.iter().all(Option::is_some) || reach == Reach::CacheOnly {
            return outcomes
                .into_iter()
                .map(|o| o.unwrap_or(Err(Error::NotCached)))
                .collect();
        }
        let store = match store.clone() {
            Ok(store) => store,
            Err(e) => return failing(outcomes, &e),
        };
        let lock_key = Hash32::of_parts(
            missing(&outcomes)
                .iter()
                .map(|&i| keys[i].full.0.as_slice()),
        );
        if reach == Reach::LeaveBehind {
            // Neither waits: another build of these values under way, or as
            // many builds running as the store has slots, leaves them to a
            // later process.
            let holds = store
                .lock(&lock_key, Duration::ZERO)
                .map_err(Error::from)
                .and_then(|keys| {
                    let slot = slots::take(&store, Duration::ZERO)?;
                    Ok(build::Holds { keys, slot })
                });
            let todo = missing(&outcomes);
            let values: Vec<Value> = todo.iter().map(|&i| values[i].clone()).collect();
            let wanted: Vec<Keys> = todo.iter().map(|&i| keys[i]).collect();
            match holds {
                Ok(holds) => {
                    if let Err(e) = self.leave_behind(&store, holds, source, &values, &wanted) {
                        log::warn!("staged: cannot leave a build behind: {}", Chain(&e));
                    }
                }
                Err(e) => log::info!("staged: no build left behind: {}", Chain(&e)),
            }
            return outcomes
                .into_iter()
                .map(|o| o.unwrap_or(Err(Error::NotCached)))
                .collect();
        }
        // A background builder does not wait for a build slot: the value
        // is left to a later process. A caller waiting for its variant
        // waits as long as for the keys' lock. Either goes on without one,
        // to wait for a build of these very values that may be what holds
        // a slot, and use what it leaves.
        let wait = if crate::worker::on_builder() {
            Duration::ZERO
        } else {
            self.config.build_timeout + LOCK_SLACK
        };
        let slot = slots::take(&store, wait);
        // The support rlib, built first if need be: before the keys' lock,
        // so that a process exiting meanwhile can still leave the build of
        // these values behind.
        let support = match slot.as_ref().map(|slot| self.support(&store, Some(slot))) {
            Ok(Err(e)) => return failing(outcomes, &e),
            Ok(Ok(support)) => support,
            Err(_) => None,
        };
        let lock = match store.lock(&lock_key, self.config.build_timeout + LOCK_SLACK) {
            Ok(lock) => lock,
            Err(e) => return failing(outcomes, &e.into()),
        };
        let starting = build::Starting::enter();
        if let Some(what) = &lock.repaired {
            log::warn!("staged: {what}");
        }
        // Another process may have built them while we waited for the
        // lock, or left a build that finished meanwhile.
        let wanted: Vec<Hash32> = missing(&outcomes).iter().map(|&i| keys[i].full).collect();
        build::adopt(&store, &wanted, ADOPT_GRACE);
        for i in missing(&outcomes) {
            outcomes[i] = lookup(&keys[i], repaired);
        }
        let missing = missing(&outcomes);
        let holds = match slot {
            Ok(slot) => build::Holds { keys: lock, slot },
            Err(e) => return failing(outcomes, &e),
        };
        if !missing.is_empty() {
            let values: Vec<Value> = missing.iter().map(|&i| values[i].clone()).collect();
            let wanted: Vec<Keys> = missing.iter().map(|&i| keys[i]).collect();
            let built = self
                .build(&store, &holds, starting, source, &values, &wanted, support)
                .and_then(|object| loader::load(object, &expect));
            for (n, &i) in missing.iter().enumerate() {
                outcomes[i] = Some(built.clone().and_then(|library| {
                    let (entry_fn, lines) = library.entry(&entry_symbol(n), &keys[i].full)?;
                    Ok(Variant::new(entry_fn, Source::Compiled, source, lines))
                }));
            }
            let removed = store
                .prune_by(Some(self.config.cache_max_bytes), None)
                .map_or(0, |p| p.removed);
            if removed > 0 {
                log::info!(
                    "staged: pruned {removed} old libraries from {}",
                    store.root().display()
                );
            }
        }
        drop(holds);
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Err(Error::Panicked)))
            .collect()
    }

    /// The variant the bundles hold for `keys`: built for this CPU, else
    /// for another whose target features this CPU has.
    fn in_bundles(
        &self,
        source: &'static FnSource,
        keys: &Keys,
        expect: &Expect,
        repaired: &mut Vec<Error>,
    ) -> Option<Outcome> {
        let portable = Expect {
            cpu: None,
            ..*expect
        };
        for bundle in self.bundles.iter().flatten() {
            let found = cached(bundle, source, &keys.full, expect, repaired)
                .or_else(|| cached(bundle, source, &keys.portable, &portable, repaired))
                .map(|found| found.map(Variant::bundled));
            match found {
                Some(Ok(variant)) => return Some(Ok(variant)),
                // A bad entry in a bundle: the next bundle, the cache or a
                // build serve the value instead, and stats() says why.
                Some(Err(e)) => repaired.push(e),
                None => {}
            }
        }
        None
    }

    /// The rustc to build with, found and checked once.
    fn rustc(&self) -> &Result<Rustc, Error> {
        self.rustc.get_or_init(|| {
            let given = self.config.rustc.as_deref();
            rustc::resolve(&TOOLCHAIN, given, self.config.build_timeout).map_err(Error::from)
        })
    }
}

/// The outcomes found, and `e` for each value not found.
fn failing(outcomes: Vec<Option<Outcome>>, e: &Error) -> Vec<Outcome> {
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(e.clone())))
        .collect()
}

/// The variant stored in `store` for `key`: `None` on a miss, an error when
/// the entry exists but cannot be used (in a writable store it is then
/// forgotten, so that the next process builds it again).
fn cached(
    store: &Store,
    source: &'static FnSource,
    key: &Hash32,
    expect: &Expect,
    repaired: &mut Vec<Error>,
) -> Option<Outcome> {
    known::count_index_read();
    let entry = match store.lookup(key) {
        Ok(Some(entry)) => entry,
        Ok(None) => return None,
        Err(e) => {
            log::warn!(
                "staged: dropping a cache entry that cannot be used: {}",
                Chain(&e)
            );
            store.forget(key);
            // Removed (or not a file): a miss, built again now.
            if e.is_bad_entry() {
                repaired.push(e.into());
                return None;
            }
            return Some(Err(e.into()));
        }
    };
    let result = loader::open(store, &entry.object, expect)
        .and_then(|library| library.entry(&entry.entry.symbol, key));
    match result {
        Ok((entry_fn, lines)) => {
            log::info!(
                "staged: loaded a variant of `{}` from {}",
                source.path,
                store.root().display()
            );
            Some(Ok(Variant::new(entry_fn, Source::Cached, source, lines)))
        }
        // Fits another CPU sharing the cache: left for it.
        Err(e @ Error::MissingFeatures { .. }) => Some(Err(e)),
        Err(e) => {
            log::warn!(
                "staged: dropping a cache entry that cannot be used: {}",
                Chain(&e)
            );
            store.forget(key);
            match e {
                // Pruned, damaged, not ours alone, or serving another value:
                // a miss, and the value is built again now.
                Error::Store(e) if e.is_not_found() => None,
                Error::Store(ref s) if s.is_bad_entry() => {
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

/// The disk cache of `config`, or why there is none.
fn open_store(config: &Config) -> Result<Store, Error> {
    let store = match &config.cache_dir {
        Some(dir) => Store::open(dir).map_err(Error::from),
        None => Err(Error::NoCacheDir),
    };
    if let Err(e) = &store {
        log::warn!("staged: run-time variants are disabled: {}", Chain(e));
    }
    store
}
