//! A specialization site: the run-time state of one `#[specialize]` function.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Error;
use crate::key::Key;
use crate::source::FnSource;
use crate::variant::Variant;

/// The counters of a site, as `stats()` reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Variants built by rustc in this process.
    pub compiled: u64,
    /// Variants loaded from the disk cache.
    pub cached: u64,
    /// Values whose variant could not be built or loaded.
    pub failed: u64,
    /// Calls that ran the generic body for a value without a variant.
    pub generic_calls: u64,
    /// Why the last build or load failed.
    pub last_error: Option<String>,
}

/// The run-time state of one function, held in a `static` by the expansion.
///
/// `K` is the tuple of the specialized parameter types, with `'static` for
/// any `&str`.
pub struct Site<K: Key> {
    source: &'static FnSource,
    generic_calls: AtomicU64,
    key: PhantomData<fn(K) -> K>,
}

impl<K: Key> Site<K> {
    /// A site with nothing loaded.
    pub const fn new(source: &'static FnSource) -> Self {
        Self {
            source,
            generic_calls: AtomicU64::new(0),
            key: PhantomData,
        }
    }

    /// The function this site specializes.
    pub fn source(&self) -> &'static FnSource {
        self.source
    }

    /// The variant for `key`, if one is loaded; `None` means the caller runs
    /// the generic body (the call is counted).
    #[inline]
    pub fn lookup<B: Key<Owned = K::Owned>>(&self, key: &B) -> Option<Variant> {
        self.miss(key)
    }

    #[cold]
    fn miss<B: Key<Owned = K::Owned>>(&self, _key: &B) -> Option<Variant> {
        // Not a locked increment: see `StaticSite::generic_call` in the facade.
        let calls = self.generic_calls.load(Ordering::Relaxed);
        self.generic_calls
            .store(calls.wrapping_add(1), Ordering::Relaxed);
        None
    }

    /// The variant for `key`, built now if need be.
    ///
    /// # Errors
    ///
    /// [`Error::Off`]: the run-time stage is not available.
    pub fn specialize<B: Key<Owned = K::Owned>>(&self, _key: &B) -> Result<Variant, Error> {
        Err(Error::Off)
    }

    /// Builds the variants of many values at once.
    ///
    /// # Errors
    ///
    /// [`Error::Off`]: the run-time stage is not available.
    pub fn prepare<B: Key<Owned = K::Owned>>(
        &self,
        keys: impl IntoIterator<Item = B>,
    ) -> Result<(), Error> {
        match keys.into_iter().next() {
            None => Ok(()),
            Some(_) => Err(Error::Off),
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        Stats {
            generic_calls: self.generic_calls.load(Ordering::Relaxed),
            ..Stats::default()
        }
    }
}
