//! The run-time stage of staged: per-function sites that build, load and
//! dispatch to variants specialized on values known only at run time.
//!
//! Users reach this crate through `staged`; the expansion of
//! `#[staged::specialize]` holds one [`Site`] per function.

mod error;
pub mod key;
mod site;
pub mod source;
mod variant;

pub use error::Error;
pub use key::Key;
pub use site::{Site, Stats};
pub use source::{FnSource, Layout, Param};
pub use variant::{EntryFn, PanicSlot, Source, Variant};
