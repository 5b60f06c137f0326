//! The error of the run-time stage.

use std::path::PathBuf;

use staged_build::process::ProcessError;
use staged_build::rustc::FindError;
use staged_build::store::StoreError;

/// Why a run-time variant could not be had. Whatever it is, the function
/// keeps working through its generic body.
///
/// `Display` says what failed at this level; the cause (a [`StoreError`] or
/// a [`ProcessError`]) is `source()`, so a report that walks the chain says
/// each thing once. `stats().last_error` holds the whole chain.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Run-time specialization is switched off (`STAGED_MODE=off`).
    #[error("run-time specialization is off (STAGED_MODE=off)")]
    Off,
    /// Only the cache and the bundles were asked, and neither has the
    /// value (a build follows).
    #[error("not in the disk cache or a bundle")]
    NotCached,
    /// There is no cache directory to build into.
    #[error("no cache directory: set STAGED_CACHE_DIR (HOME is not set either)")]
    NoCacheDir,
    /// The disk cache cannot be used, or an entry in it cannot be trusted.
    #[error("disk cache")]
    Store(#[from] StoreError),
    /// rustc is missing or does not answer.
    #[error("rustc is unavailable")]
    Rustc(#[source] ProcessError),
    /// The rustc found is not the one that built the program.
    #[error(
        "{path} is rustc {found}, but this program was built by rustc {expected}; point STAGED_RUSTC at that toolchain's rustc"
    )]
    RustcMismatch {
        /// The compiler that was found.
        path: PathBuf,
        /// Its release.
        found: String,
        /// The release that built the program.
        expected: String,
    },
    /// As many builds as the machine has cores were running on the disk
    /// cache (started by any process), and this one could not wait for
    /// one of them to end.
    #[error(
        "one build per core runs on the disk cache at once, across processes; the value is left to a later process"
    )]
    NoSlot(#[source] StoreError),
    /// The variant did not compile (or rustc timed out).
    #[error("the variant did not compile")]
    Compile(#[source] ProcessError),
    /// A flag of `STAGED_RUSTFLAGS` (or `Config::rustflags`) would change
    /// the answer or the ABI of run-time variants, so nothing is built with
    /// it.
    #[error("STAGED_RUSTFLAGS: `{flag}` is refused: {why}")]
    RefusedFlag {
        /// The flag as given.
        flag: String,
        /// Why it is refused, and what to do instead.
        why: &'static str,
    },
    /// The library needs target features this CPU does not have.
    #[error(
        "{path} needs target features this CPU lacks: {features}; it was built for another CPU (STAGED_TARGET_CPU)"
    )]
    MissingFeatures {
        /// The library.
        path: PathBuf,
        /// The missing features.
        features: String,
    },
    /// The library could not be loaded.
    #[error("cannot load {path}: {cause}")]
    Load {
        /// The library.
        path: PathBuf,
        /// The loader's message.
        cause: String,
    },
    /// The library was not built for this caller: another protocol, another
    /// toolchain, or other argument or result layouts.
    #[error("{path} does not match this program: {what}")]
    Mismatch {
        /// The library.
        path: PathBuf,
        /// What differs.
        what: String,
    },
    /// The function has failed for as many values as it remembers; further
    /// values are not built.
    #[error(
        "{limit} values already failed to build for this function; other values run the generic body"
    )]
    TooManyFailures {
        /// How many failed values a function remembers.
        limit: usize,
    },
    /// Building or loading panicked: a bug in staged, caught so that waiting
    /// callers go on with the generic body.
    #[error("building the variant panicked (a bug in staged); the function runs its generic body")]
    Panicked,
    /// The function has as many run-time variants as it may load.
    #[error(
        "{limit} run-time variants are loaded for this function (STAGED_MAX_VARIANTS); other values run the generic body"
    )]
    Cap {
        /// The limit.
        limit: usize,
    },
    /// A structured value whose literal would be longer than
    /// `STAGED_VALUE_MAX_BYTES`: it runs the generic body.
    #[error(
        "the value's source is longer than STAGED_VALUE_MAX_BYTES ({limit} bytes); it runs the generic body"
    )]
    ValueTooLarge {
        /// The limit.
        limit: usize,
    },
}

impl From<FindError> for Error {
    fn from(e: FindError) -> Self {
        match e {
            FindError::Unavailable(e) => Self::Rustc(e),
            FindError::Mismatch {
                path,
                found,
                expected,
            } => Self::RustcMismatch {
                path,
                found,
                expected,
            },
        }
    }
}
