//! How the expansion names the `staged` crate: `::staged`, or the name the
//! user's crate gave it (`foo = { package = "staged", .. }` in its
//! manifest makes every path `::foo::…`). The name comes from rustc's own
//! `--extern` arguments (see `build_flags.rs`); where those are not seen
//! (rust-analyzer), `staged` is assumed.

use proc_macro2::{Span, TokenStream};

/// The name of the `staged` crate in the crate being compiled.
pub(crate) fn name() -> &'static str {
    crate::build_flags::current()
        .staged_as
        .as_deref()
        .unwrap_or("staged")
}

/// `::staged`, or `::foo` for a renamed dependency, for paths of the
/// expansion.
pub(crate) fn path() -> TokenStream {
    path_at(Span::call_site())
}

/// The same path with the tokens at `span`: a call spanned at the user's
/// source (a panic raised again there) must not point at the attribute.
pub(crate) fn path_at(span: Span) -> TokenStream {
    let ident = syn::Ident::new(name(), span);
    quote::quote_spanned!(span=> ::#ident)
}

/// Whether `segment`, the first of a path, names the `staged` crate.
pub(crate) fn is_staged(segment: &syn::Ident) -> bool {
    segment == "staged" || segment == name()
}
