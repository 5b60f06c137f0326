//! Which keys the cache and the bundles hold, known without touching the
//! disk on a miss: read from the names in their `idx/` folders when the
//! engine first needs them, and again when a folder's modification time
//! says that it changed (looked at once a second at most). Builds that
//! processes left finished in the cache's `tmp/` count too: a load adopts
//! them.
//!
//! So the first call of a value the stores do not hold costs two hashes
//! and a set lookup, whatever the number of values; one they hold is
//! loaded at once. A key listed here may still fail to load (pruned since,
//! damaged): the value is then dismissed, and runs generic until its
//! threshold, when the disk is asked again.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

use staged_build::store::{Hash32, Store};

use super::Engine;
use crate::source::{FnSource, Value};

/// How often the folders' modification times are looked at.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// A listing made within this time of a folder's last change may have
/// missed a change made in the same tick of the file system's clock: the
/// next look lists again.
const SETTLED: Duration = Duration::from_secs(1);

/// The index reads of this process (entries looked up, folders listed).
static INDEX_READS: AtomicU64 = AtomicU64::new(0);

/// How many times this process read a store's index: an entry looked up
/// (one `openat`), or an `idx/` folder listed.
pub(crate) fn index_reads() -> u64 {
    INDEX_READS.load(Ordering::Relaxed)
}

/// Counts one read of a store's index.
pub(super) fn count_index_read() {
    INDEX_READS.fetch_add(1, Ordering::Relaxed);
}

/// The keys the stores hold, listed once and kept up to date.
pub(super) struct Known {
    sets: OnceLock<RwLock<Sets>>,
    epoch: Instant,
    /// When to look at the folders next, in milliseconds from `epoch`.
    next_look: AtomicU64,
}

#[derive(Default)]
struct Sets {
    /// Keys of the cache (the index, and builds left finished).
    cache: HashSet<Hash32>,
    /// Keys of the bundles: for this CPU, and portable ones.
    bundles: HashSet<Hash32>,
    /// The modification time of each store's `idx/` (the cache's, then
    /// each bundle's) when it was listed.
    stamps: Vec<Option<SystemTime>>,
    /// Whether a change in the same clock tick as the listing may have
    /// been missed.
    unsettled: bool,
}

impl Known {
    pub(super) fn new() -> Self {
        Self {
            sets: OnceLock::new(),
            epoch: Instant::now(),
            next_look: AtomicU64::new(0),
        }
    }
}

impl Known {
    /// Milliseconds since `epoch`.
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Puts the next look `LOOK_EVERY` from now.
    fn look_later(&self) {
        let next = self.now().saturating_add(LOOK_EVERY.as_millis() as u64);
        self.next_look.store(next, Ordering::Relaxed);
    }

    /// Whether a look is due, and this thread is the one to make it.
    fn look_due(&self) -> bool {
        let now = self.now();
        let due = self.next_look.load(Ordering::Relaxed);
        let next = now.saturating_add(LOOK_EVERY.as_millis() as u64);
        now >= due
            && self
                .next_look
                .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

impl Sets {
    fn holds(&self, full: &Hash32, portable: Option<&Hash32>) -> bool {
        self.cache.contains(full)
            || self.bundles.contains(full)
            || portable.is_some_and(|k| self.bundles.contains(k))
    }
}

/// The modification times of the stores' `idx/` folders.
fn stamps(
    cache: Option<&Store>,
    bundles: &[Result<Store, crate::Error>],
) -> Vec<Option<SystemTime>> {
    let bundles = bundles.iter().map(|b| b.as_ref().ok());
    std::iter::once(cache)
        .chain(bundles)
        .map(|s| s.and_then(Store::index_modified))
        .collect()
}

impl Engine {
    /// Whether the cache or a bundle may hold a variant for `value` of
    /// the function `source`, whose fingerprint is `site`, without a look
    /// at the disk (but for the first listing, and a look at the folders
    /// once a second at most).
    pub(crate) fn holds(&self, source: &FnSource, site: &Hash32, value: &Value) -> bool {
        if self.flags.is_err() {
            return false;
        }
        let sets = self.known.sets.get_or_init(|| {
            let sets = self.list();
            self.known.look_later();
            RwLock::new(sets)
        });
        self.look(sets);
        let full = self.key(source, site, value, &self.cpu.0);
        let portable = self
            .has_bundles()
            .then(|| self.key(source, site, value, ANY_CPU));
        let sets = sets.read().unwrap_or_else(|e| e.into_inner());
        sets.holds(&full, portable.as_ref())
    }

    /// Forgets that the stores hold `value`: its entry could not be used.
    pub(crate) fn dismiss(&self, source: &FnSource, site: &Hash32, value: &Value) {
        let Some(sets) = self.known.sets.get() else {
            return;
        };
        let mut sets = sets.write().unwrap_or_else(|e| e.into_inner());
        for cpu in [&self.cpu.0[..], ANY_CPU] {
            let key = self.key(source, site, value, cpu);
            sets.cache.remove(&key);
            sets.bundles.remove(&key);
        }
    }

    fn has_bundles(&self) -> bool {
        self.bundles.iter().any(Result::is_ok)
    }

    /// Lists the keys of every store.
    fn list(&self) -> Sets {
        let cache = self.store().ok();
        // Before the listing: a change made during it moves them on.
        let stamps = stamps(cache.as_ref(), &self.bundles);
        let mut sets = Sets::default();
        if let Some(store) = &cache {
            count_index_read();
            sets.cache.extend(store.index_keys().unwrap_or_default());
            for orphan in store.orphans() {
                sets.cache
                    .extend(orphan.entries.iter().map(|entry| entry.key));
            }
        }
        for bundle in self.bundles.iter().flatten() {
            count_index_read();
            sets.bundles.extend(bundle.index_keys().unwrap_or_default());
        }
        let now = SystemTime::now();
        sets.unsettled = stamps
            .iter()
            .flatten()
            .any(|stamp| now.duration_since(*stamp).map_or(true, |age| age < SETTLED));
        sets.stamps = stamps;
        sets
    }

    /// Lists the stores again if their folders changed since they were
    /// listed; once a `LOOK_EVERY` at most, by one thread while the others
    /// go on with the keys they have.
    fn look(&self, sets: &RwLock<Sets>) {
        if !self.known.look_due() {
            return;
        }
        let changed = {
            let sets = sets.read().unwrap_or_else(|e| e.into_inner());
            sets.unsettled || stamps(self.store().ok().as_ref(), &self.bundles) != sets.stamps
        };
        if changed {
            let fresh = self.list();
            *sets.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        }
    }
}

/// The CPU part of a portable key.
pub(super) const ANY_CPU: &[u8] = b"any cpu";

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::sync::Arc;

    use staged_build::store::{IndexEntry, Serves, Store};

    use super::*;
    use crate::config::Config;
    use crate::source::Piece;

    /// A directory of its own, private as a store's must be.
    fn private_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        dir
    }

    fn engine(cache: &Path, bundle: Option<&Path>) -> Engine {
        let mut config = Config::from_env().cache_dir(cache);
        if let Some(bundle) = bundle {
            config = config.bundle(bundle);
        }
        Engine::new(Arc::new(config))
    }

    /// The library every test entry names.
    const OBJECT: Hash32 = Hash32([7; 32]);

    fn entry(key: Hash32) -> IndexEntry {
        IndexEntry {
            key,
            symbol: "__staged_entry_0".into(),
            serves: Serves::default(),
        }
    }

    /// A function with one `u32` value, for its keys.
    static SOURCE: FnSource = FnSource {
        name: "f",
        krate: "demo",
        path: "demo::f",
        module: "",
        variant: &[Piece::Value(0)],
        entry: &[],
        layout: &[],
        layout_path: "",
        edition: "2021",
        debug_assertions: false,
        overflow_checks: false,
        fingerprint: "",
        module_marks: &[],
        variant_marks: &[],
        raise: |_| panic!("not raised in these tests"),
    };

    fn value(v: u32) -> Value {
        Value::of_literals(vec![format!("{v}u32")])
    }

    #[test]
    fn the_keys_held_are_known_without_reading_the_index_per_value() {
        let dir = private_dir();
        let cache = dir.path().join("cache");
        let site = Hash32([1; 32]);
        let store = Store::open(&cache).unwrap();
        let e = engine(&cache, None);
        store
            .publish_index(&OBJECT, &entry(e.key(&SOURCE, &site, &value(7), &e.cpu.0)))
            .unwrap();
        let reads = index_reads();
        assert!(e.holds(&SOURCE, &site, &value(7)));
        for v in 0..1000 {
            assert_eq!(e.holds(&SOURCE, &site, &value(v)), v == 7, "{v}");
        }
        // Another function's key, the same value: not held.
        assert!(!e.holds(&SOURCE, &Hash32([2; 32]), &value(7)));
        // One listing (other tests may read meanwhile: at least one).
        assert!(index_reads() > reads);
        // Dismissed, it is not held any more.
        e.dismiss(&SOURCE, &site, &value(7));
        assert!(!e.holds(&SOURCE, &site, &value(7)));
    }

    #[test]
    fn a_changed_index_is_listed_again_at_the_next_look() {
        let dir = private_dir();
        let cache = dir.path().join("cache");
        let site = Hash32([3; 32]);
        let store = Store::open(&cache).unwrap();
        let e = engine(&cache, None);
        assert!(!e.holds(&SOURCE, &site, &value(9)));
        store
            .publish_index(&OBJECT, &entry(e.key(&SOURCE, &site, &value(9), &e.cpu.0)))
            .unwrap();
        // Not before the next look; at it, listed again.
        e.known.look_later();
        assert!(!e.holds(&SOURCE, &site, &value(9)));
        e.known.next_look.store(0, Ordering::Relaxed);
        assert!(e.holds(&SOURCE, &site, &value(9)));
    }

    #[test]
    fn a_bundle_serves_its_keys_for_this_cpu_and_portable_ones() {
        let dir = private_dir();
        let bundle = dir.path().join("bundle");
        let site = Hash32([4; 32]);
        let writer = Store::open(&bundle).unwrap();
        // Keys as any engine of these settings makes them.
        let k = engine(&dir.path().join("cache"), None);
        writer
            .publish_index(&OBJECT, &entry(k.key(&SOURCE, &site, &value(1), &k.cpu.0)))
            .unwrap();
        writer
            .publish_index(&OBJECT, &entry(k.key(&SOURCE, &site, &value(2), ANY_CPU)))
            .unwrap();
        let e = engine(&dir.path().join("cache"), Some(&bundle));
        assert!(e.holds(&SOURCE, &site, &value(1)));
        assert!(e.holds(&SOURCE, &site, &value(2)));
        assert!(!e.holds(&SOURCE, &site, &value(3)));
    }
}
