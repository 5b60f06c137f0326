//! `#[staged::self_contained]`: an inline module whose items travel together
//! into run-time builds, so that its `#[specialize]` functions may use
//! helpers, constants and the module's own row types. Check (`valid.rs`,
//! with the rule for `static`s in `statics.rs`), then emit (`expand.rs`).

mod expand;
mod statics;
mod valid;

use proc_macro2::TokenStream;
use syn::{Item, ItemMod};

use crate::errors::Errors;

/// Expands `#[staged::self_contained] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.at(&args, "`#[staged::self_contained]` takes no arguments");
    }
    let module = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Mod(module)) => module,
        _ => {
            let first: TokenStream = item.into_iter().take(1).collect();
            errors.at(
                first,
                "`#[staged::self_contained]` applies to an inline module, `mod name { .. }`",
            );
            return errors.finish(TokenStream::new());
        }
    };
    let Some((_, items)) = &module.content else {
        errors.at(
            &module.ident,
            format_args!(
                "`#[staged::self_contained]` needs the module inline, `mod {} {{ .. }}`: a module in a file of its own cannot travel into run-time builds",
                module.ident
            ),
        );
        return errors.finish(TokenStream::new());
    };
    let checked = valid::check(items, &mut errors);
    errors.finish(())?;
    Ok(expand::expand(&module, checked))
}

/// The module unchanged but for its `#[specialize]` attributes, next to
/// the errors, so that the rest of the crate still type-checks.
pub(crate) fn fallback(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut out = error.into_compile_error();
    match syn::parse2::<ItemMod>(item.clone()) {
        Ok(module) => out.extend(expand::stripped(&module)),
        Err(_) => out.extend(item),
    }
    out
}
