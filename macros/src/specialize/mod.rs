//! `#[specialize]`: parse (`args.rs`), check (`valid.rs`), emit (`expand/`).

mod args;
mod expand;
mod isolation;
mod types;
mod valid;
mod value;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Item;

use crate::errors::Errors;

/// Whether the facade's `runtime` feature, and so stage 3, is on.
const STAGE3: bool = cfg!(feature = "runtime");

/// Expands `#[specialize(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = errors.take(syn::parse2::<args::Args>(args));
    let func = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => Some(func),
        Ok(other) => {
            errors.at(
                first_token(other.to_token_stream()),
                "`#[specialize]` applies to functions",
            );
            None
        }
        Err(_) => {
            errors.at(
                first_token(item),
                "`#[specialize]` applies to functions with a body",
            );
            None
        }
    };
    let plan = match (args, func) {
        (Some(args), Some(func)) => errors.take(valid::check(args, func, STAGE3)),
        // The missing half recorded its error.
        _ => None,
    };
    errors.finish(())?;
    Ok(plan.map(|plan| expand::expand(&plan)).unwrap_or_default())
}

/// The user's item unchanged, next to the errors, so that the rest of their
/// crate still type-checks against the function.
pub(crate) fn fallback(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut out = error.into_compile_error();
    out.extend(item);
    out
}

/// The first token of `tokens`, for an error that should point at an item
/// without underlining all of it.
fn first_token(tokens: TokenStream) -> TokenStream {
    let mut tokens = tokens.into_iter().peekable();
    match tokens.next() {
        // Skip an outer attribute `#[...]` to reach the item's keyword.
        Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '#' => {
            tokens.next();
            first_token(tokens.collect())
        }
        Some(t) => t.into_token_stream(),
        None => TokenStream::new(),
    }
}
