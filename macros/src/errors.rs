//! Collects independent user errors so that all of them are reported at once.

use std::fmt::Display;

use quote::ToTokens;

/// The errors found so far in one macro invocation.
#[derive(Default)]
pub(crate) struct Errors {
    first: Option<syn::Error>,
}

impl Errors {
    /// Records `error`.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.first {
            Some(first) => first.combine(error),
            None => self.first = Some(error),
        }
    }

    /// Records an error spanning `tokens`.
    pub(crate) fn at(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records the error of `result`, if any, and passes its value on.
    pub(crate) fn take<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// `Ok(value)` when nothing was recorded, else every recorded error.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.first {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

/// A warning at the macro's call site: the use of a deprecated constant
/// named `flag`, the one warning a macro can raise on stable Rust.
pub(crate) fn warning(flag: &str, message: &str) -> proc_macro2::TokenStream {
    let flag = proc_macro2::Ident::new(flag, proc_macro2::Span::call_site());
    quote::quote_spanned! {proc_macro2::Span::call_site()=>
        const _: () = {
            #[deprecated(note = #message)]
            #[allow(non_upper_case_globals)]
            const #flag: () = ();
            #flag
        };
    }
}
