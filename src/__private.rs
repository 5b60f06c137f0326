//! What the expansion of `#[specialize]` calls. Not a public API: names and
//! signatures here change without notice.

use core::sync::atomic::Ordering;

use crate::{Error, Origin, SiteStats};

#[cfg(feature = "runtime")]
pub use staged_runtime::{
    Dispatch, Enc, Encode, FnSource, Payload, Piece, Program, Sink, TOOLCHAIN, Value, Variant,
    index_reads, library_source, raise, raise_at, raise_pending,
};

/// What a `Specialized` handle calls.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The static variant with this index.
    Static(u16),
    /// A run-time variant.
    #[cfg(feature = "runtime")]
    Runtime(Variant),
}

impl Target {
    /// Where the variant came from.
    pub fn origin(&self) -> Origin {
        match self {
            Self::Static(_) => Origin::Static,
            #[cfg(feature = "runtime")]
            Self::Runtime(v) => match v.source() {
                staged_runtime::Source::Compiled => Origin::Compiled,
                staged_runtime::Source::Cached => Origin::Cached,
                staged_runtime::Source::Bundled => Origin::Bundled,
            },
        }
    }
}

/// The error for a value without a static variant, when the function has no
/// run-time stage.
pub fn runtime_false() -> Error {
    #[cfg(feature = "runtime")]
    return Error::RUNTIME_FALSE;
    #[cfg(not(feature = "runtime"))]
    return Error::FEATURE_OFF;
}

#[cfg(target_has_atomic = "64")]
type Count = core::sync::atomic::AtomicU64;
#[cfg(all(not(target_has_atomic = "64"), target_has_atomic = "32"))]
type Count = core::sync::atomic::AtomicU32;

/// The counters of a function without a run-time stage.
pub struct StaticSite {
    #[cfg(any(target_has_atomic = "64", target_has_atomic = "32"))]
    generic_calls: Count,
}

impl StaticSite {
    /// No calls yet.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self {
            #[cfg(any(target_has_atomic = "64", target_has_atomic = "32"))]
            generic_calls: Count::new(0),
        }
    }

    /// Counts a call that ran the generic body.
    ///
    /// A load and a store rather than a `fetch_add`: a locked increment costs
    /// several nanoseconds on every generic call, which a hot kernel would
    /// feel. Threads calling at once may lose a few counts.
    #[inline]
    pub fn generic_call(&self) {
        #[cfg(any(target_has_atomic = "64", target_has_atomic = "32"))]
        self.generic_calls.store(
            self.generic_calls.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    /// The counters; on targets without atomics, `generic_calls` stays 0.
    pub fn stats(&self) -> SiteStats {
        SiteStats {
            #[cfg(any(target_has_atomic = "64", target_has_atomic = "32"))]
            #[allow(clippy::useless_conversion)] // u32 where 64-bit atomics are missing
            generic_calls: self.generic_calls.load(Ordering::Relaxed).into(),
            ..SiteStats::default()
        }
    }
}

/// The run-time site of a function, with the facade's types.
#[cfg(feature = "runtime")]
pub struct Site<K: staged_runtime::Key>(staged_runtime::Site<K>);

#[cfg(feature = "runtime")]
impl<K: staged_runtime::Key> Site<K> {
    /// A site with nothing loaded.
    pub const fn new(source: &'static FnSource) -> Self {
        Self(staged_runtime::Site::new(source))
    }

    /// What to do with a call: run the loaded variant for `key`, or the
    /// generic body (with a timer to drop after it, when it is timed).
    #[inline]
    pub fn dispatch<B: staged_runtime::Key<Owned = K::Owned>>(&'static self, key: &B) -> Dispatch {
        self.0.dispatch(key)
    }

    /// The loaded variant for `key`; `None`: run the generic body.
    #[inline]
    pub fn lookup<B: staged_runtime::Key<Owned = K::Owned>>(
        &'static self,
        key: &B,
    ) -> Option<Variant> {
        self.0.lookup(key)
    }

    /// The variant for `key`, built now if need be.
    pub fn specialize<B: staged_runtime::Key<Owned = K::Owned>>(
        &'static self,
        key: &B,
    ) -> Result<Variant, Error> {
        self.0.specialize(key).map_err(Error::from)
    }

    /// Builds many values in one library.
    pub fn prepare<B: staged_runtime::Key<Owned = K::Owned>>(
        &'static self,
        keys: impl IntoIterator<Item = B>,
    ) -> Result<(), Error> {
        self.0.prepare(keys).map_err(Error::from)
    }

    /// The counters.
    pub fn stats(&self) -> SiteStats {
        let s = self.0.stats();
        SiteStats {
            compiled: s.compiled,
            cached: s.cached,
            bundled: s.bundled,
            failed: s.failed,
            generic_calls: s.generic_calls,
            pending: s.pending,
            building: s.building,
            last_error: s.last_error,
            warnings: s.warnings,
            notes: s.notes,
        }
    }
}
