//! The run-time stage of staged: per-function sites that build, load and
//! dispatch to variants specialized on values known only at run time.
//!
//! Users reach this crate through `staged`; the expansion of
//! `#[staged::specialize]` holds one [`Site`] per function. Settings come
//! from the `STAGED_*` environment variables or from [`Config`].
//! `ARCHITECTURE.md` at the root of the repository follows a value from a
//! miss to a loaded library through these modules.

mod at_exit;
mod codegen;
mod config;
mod cpu;
mod engine;
mod error;
mod facts;
pub mod key;
mod loader;
mod profile;
mod rustflags;
mod site;
mod slots;
pub mod source;
mod trigger;
mod variant;
mod worker;

pub use config::{
    BUILD_TIMEOUT_RANGE, Config, DEFAULT_CACHE_MAX_BYTES, DEFAULT_UNROLL_MAX,
    DEFAULT_VALUE_MAX_BYTES, MAX_VARIANTS_LIMIT, Mode, THRESHOLD_LIMIT, THRESHOLD_MS_LIMIT,
    UNROLL_MAX_LIMIT, VALUE_MAX_BYTES_LIMIT,
};
pub use error::Error;
// The causes an `Error` carries, nameable where it is.
pub use key::{Enc, Encode, Key, Sink};
pub use site::{Dispatch, Site, Stats};
pub use source::{FnSource, Layout, PROGRAM_GROUP, Piece, Program, Value};
pub use staged_build::process::{CommandLine, ProcessError};
pub use staged_build::store::StoreError;
pub use trigger::Timer;
pub use variant::{Payload, Source, Variant, raise, raise_at, raise_pending};

/// The toolchain that built this crate, recorded by `build.rs`: run-time
/// builds use its rustc (unless `STAGED_RUSTC` says otherwise, and only at
/// its version), its target and its linker.
#[doc(hidden)]
pub const TOOLCHAIN: staged_build::toolchain::Recorded =
    include!(concat!(env!("OUT_DIR"), "/toolchain.rs"));

/// Writes to the profile (`STAGED_PROFILE`) the calls counted since it was
/// last written; done when the process exits, and for a program that ends
/// otherwise (`_exit`, a signal), worth calling before. A failure to write
/// is logged; the program goes on.
///
/// ```no_run
/// # mod staged { pub mod runtime { pub use staged_runtime::flush_profile; } }
/// // Right before a program ends without running its exit handlers:
/// staged::runtime::flush_profile();
/// ```
pub fn flush_profile() {
    profile::flush();
}

/// How many times this process read a store's index (an entry looked up,
/// a folder listed): for tests that check a miss does not touch the disk.
#[doc(hidden)]
pub fn index_reads() -> u64 {
    engine::index_reads()
}

/// The source of a library with variants of `source` for `values` (the
/// literals of each, and the element counts of slices and arrays), as the
/// runtime writes it, every loop unrolled: for tests that check it holds
/// the macro's text verbatim.
#[doc(hidden)]
pub fn library_source(source: &FnSource, values: &[Value]) -> String {
    let keys: Vec<staged_build::store::Hash32> = values
        .iter()
        .map(|v| staged_build::store::Hash32::of_parts(v.literals.iter().map(String::as_bytes)))
        .collect();
    let zero = staged_build::store::Hash32([0; 32]);
    codegen::library(
        source,
        values,
        &[],
        &keys,
        &zero,
        &zero,
        codegen::Support::Linked,
    )
}
