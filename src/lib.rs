//! Staged specialization: one source, specialized at the latest stage where a
//! value is known.
//!
//! ```
//! use staged::specialize;
//!
//! /// `x` to the power `n`.
//! #[specialize(n = [2, 3, 4], runtime = false)]
//! pub fn power(x: u64, n: u32) -> u64 {
//!     let mut p = 1u64;
//!     for _ in 0..n {
//!         p = p.wrapping_mul(x);
//!     }
//!     p
//! }
//!
//! assert_eq!(power(3, 4), 81); // the variant for n = 4
//! assert_eq!(power(3, 5), 243); // no variant: the generic body
//! assert_eq!(power::generic(3, 4), 81);
//! let square = power::specialized(2).unwrap();
//! assert_eq!(square.origin(), staged::Origin::Static);
//! assert_eq!(square.call(9), 81);
//! ```
//!
//! - **Stage 1, compile time**: `#[specialize(n = [2, 3, 4])]` emits one
//!   variant per listed value and a dispatcher that keeps the function's
//!   signature; a constant argument folds to a direct call.
//! - **Stage 3, run time** (feature `runtime`, on by default): other values are
//!   built by rustc into a library at run time, cached on disk and loaded; until
//!   then, and whenever that fails, the generic body runs.
//!
//! With `default-features = false` this crate is `#![no_std]` and needs no
//! allocator; `#[specialize(..., runtime = false)]` works there.
//!
//! The design, the public API contract and the invariants are in `DESIGN.md`.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
mod stats;

#[doc(hidden)]
pub mod __private;

pub use error::Error;

/// Settings of the run-time stage (feature `runtime`): the same settings as
/// the `STAGED_*` environment variables, as a typed builder.
///
/// ```no_run
/// use staged::runtime::{Config, Mode};
///
/// Config::from_env().mode(Mode::Sync).max_variants(16).install();
/// ```
#[cfg(feature = "runtime")]
pub mod runtime {
    pub use staged_runtime::{Config, Error, Mode};
}
pub use staged_macros::specialize;
pub use stats::{Origin, SiteStats};
