//! Procedural macros of staged. Use them through the `staged` crate, which
//! documents them: `#[staged::specialize]`, `#[staged::self_contained]` and
//! `staged::const_init!`. `ARCHITECTURE.md` at the root of the repository
//! describes how each is parsed, checked and expanded.

mod build_flags;
mod const_init;
mod edition;
mod errors;
mod krate;
mod self_contained;
mod specialize;

use proc_macro::TokenStream;

/// Specializes a function on the values of some of its parameters; see the
/// `staged` crate.
#[proc_macro_attribute]
pub fn specialize(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    specialize::expand(args.into(), item.clone())
        .unwrap_or_else(|error| specialize::fallback(item, error))
        .into()
}

/// Makes an inline module the unit that travels into run-time builds; see
/// the `staged` crate.
#[proc_macro_attribute]
pub fn self_contained(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    self_contained::expand(args.into(), item.clone())
        .unwrap_or_else(|error| self_contained::fallback(item, error))
        .into()
}

/// Marks a loop of a `#[specialize]` function's body to unroll in every
/// variant; see the `staged` crate. `#[specialize]` takes the marker out:
/// reached, it is misplaced.
#[proc_macro_attribute]
pub fn unroll(args: TokenStream, item: TokenStream) -> TokenStream {
    specialize::misplaced_unroll(args.into(), item.into()).into()
}

/// Evaluates `static` and `const` initializers on the build host and emits
/// their values as literals; see the `staged` crate.
#[proc_macro]
pub fn const_init(input: TokenStream) -> TokenStream {
    const_init::expand(input.into()).into()
}
