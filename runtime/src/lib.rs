//! The run-time stage of staged: per-function sites that build, load and
//! dispatch to variants specialized on values known only at run time.
//!
//! Users reach this crate through `staged`; the expansion of
//! `#[staged::specialize]` holds one [`Site`] per function. Settings come
//! from the `STAGED_*` environment variables or from [`Config`].

mod codegen;
mod config;
mod engine;
mod error;
pub mod key;
mod loader;
mod permits;
mod site;
pub mod source;
mod variant;
mod worker;

pub use config::{Config, Mode};
#[doc(hidden)]
pub use engine::toolchain;
pub use error::Error;
pub use key::Key;
pub use site::{Site, Stats};
pub use source::{FnSource, Layout, Param};
pub use variant::{EntryFn, PanicSlot, Source, Variant};
