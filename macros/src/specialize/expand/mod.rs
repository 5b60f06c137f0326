//! Turns a checked [`Plan`] into code. This folder is the only home of
//! `quote!` for `#[specialize]`.
//!
//! - `parts.rs`: the pieces every shape uses (variant functions, calls, the
//!   dispatcher's `match`);
//! - `free.rs`: free functions, with their companion module;
//! - `reroot.rs`: relative paths moved into the companion module;
//! - `assoc.rs`: methods, whose variants are arms of their own body;
//! - `text.rs`: the one text of a run-time function's module, for the
//!   static expansion and run-time builds alike;
//! - `printer.rs`: tokens written as that text.

mod assoc;
mod free;
mod parts;
mod printer;
mod reroot;
mod text;

use proc_macro2::TokenStream;

use super::valid::{Plan, Shape};
use parts::Parts;

/// The code for `plan`.
pub(crate) fn expand(plan: &Plan) -> TokenStream {
    let parts = Parts::new(plan);
    match plan.shape {
        Shape::Assoc => assoc::expand(&parts),
        Shape::Free => free::expand(&parts),
    }
}
