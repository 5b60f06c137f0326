//! What a specialization site reports: where a variant came from and how the
//! site has fared.

/// Where the code behind a [`Specialized`](crate#) handle came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// A variant emitted at compile time for a value listed in `#[specialize]`.
    Static,
    /// A variant built by rustc in this process.
    Compiled,
    /// A variant loaded from the disk cache, built by an earlier process.
    Cached,
    /// A variant loaded from a read-only bundle (`STAGED_BUNDLE`), built by
    /// a training run.
    Bundled,
}

/// Counters of one `#[specialize]` function, returned by its companion
/// module's `stats()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteStats {
    /// Run-time variants built by rustc in this process.
    pub compiled: u64,
    /// Run-time variants loaded from the disk cache.
    pub cached: u64,
    /// Run-time variants loaded from a bundle (`STAGED_BUNDLE`).
    pub bundled: u64,
    /// Values whose run-time variant could not be built or loaded.
    pub failed: u64,
    /// Calls that ran the generic body because their value had no variant.
    pub generic_calls: u64,
    /// Values waiting for a background builder (`STAGED_MODE=background`).
    pub pending: u64,
    /// Values being built or loaded right now.
    pub building: u64,
    /// Why the last build or load failed, if one did.
    ///
    /// Without the `alloc` feature this is an `Option<&'static str>` and is
    /// always `None`: nothing can fail when there is no run-time stage.
    pub last_error: Option<ErrorText>,
    /// What is wrong with the run-time settings in effect (a value out of
    /// range and clamped, one that cannot be read, such as
    /// `STAGED_MODE=synch`), if anything: the same text is logged as a
    /// warning.
    pub warnings: Option<ErrorText>,
    /// What the last run-time variant gave up that costs speed but not
    /// answers, if anything: its `#[staged::unroll]` loops kept because
    /// unrolling them would pass `STAGED_UNROLL_MAX` copies.
    pub notes: Option<ErrorText>,
}

/// The text of [`SiteStats::last_error`]: a `String` with the `alloc` feature.
#[cfg(feature = "alloc")]
pub type ErrorText = alloc::string::String;
/// The text of [`SiteStats::last_error`]: a `String` with the `alloc` feature.
#[cfg(not(feature = "alloc"))]
pub type ErrorText = &'static str;
