//! The tokens `const_init!` emits: each item with its baked value, its
//! run-time fallback, or (next to an error) a placeholder of its type, plus
//! a dependency on every file the block includes. Uses `core` and
//! `::staged` only, so it builds in `#![no_std]` crates.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use super::evaluate::{Evaluated, Result};
use super::parse::{Helper, Kind};
use super::types;
use super::valid::{Plan, Planned};

/// The expansion of a block, with a warning for each of `settings`
/// (what is wrong with the evaluator's settings).
pub(crate) fn expand(plan: &Plan, evaluated: &Evaluated, settings: &[String]) -> TokenStream {
    let items = plan
        .items
        .iter()
        .zip(&evaluated.results)
        .map(|(planned, result)| item(planned, result, &plan.helpers));
    let files = evaluated.files.iter().map(|path| {
        let path = path.to_string_lossy();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    let settings = settings.iter().map(|problem| settings_warning(problem));
    let sandbox = sandbox_gaps_once().map(|gaps| {
        call_site_warning(
            "staged_sandbox_incomplete",
            &format!(
                "the build-time evaluator runs without a full sandbox on this host: {}",
                gaps.join("; ")
            ),
        )
    });
    quote! {
        #(#items)*
        #(#files)*
        #(#settings)*
        #sandbox
    }
}

/// What the evaluator's sandbox lacks on this host, the first time a block
/// is expanded in this compilation (rustc runs the macro for every block of
/// the crate in one process): the build says so once, not once per block.
fn sandbox_gaps_once() -> Option<Vec<String>> {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SAID: AtomicBool = AtomicBool::new(false);
    let gaps = staged_build::eval::sandbox::gaps();
    if gaps.is_empty() || SAID.swap(true, Ordering::Relaxed) {
        return None;
    }
    Some(gaps)
}

/// A warning at the macro call about a setting that cannot be used.
fn settings_warning(problem: &str) -> TokenStream {
    call_site_warning("staged_setting_ignored", problem)
}

/// A warning at the macro call.
fn call_site_warning(flag: &str, problem: &str) -> TokenStream {
    crate::errors::warning(flag, &format!("const_init!: {problem}"))
}

/// The expansion of items whose evaluation never happened (the block has
/// errors): each with a placeholder value, so uses elsewhere still
/// type-check.
pub(crate) fn placeholders(plan: &Plan) -> TokenStream {
    let items = plan.items.iter().map(|p| item(p, &Result::Failed, &[]));
    quote!(#(#items)*)
}

fn item(planned: &Planned, result: &Result, helpers: &[Helper]) -> TokenStream {
    let item = &planned.item;
    let attrs = &planned.attrs;
    let vis = &item.vis;
    let ident = &item.ident;
    let keyword = match item.kind {
        Kind::Static => quote_spanned!(item.keyword=> static),
        Kind::Const => quote_spanned!(item.keyword=> const),
    };
    if !planned.fallback {
        let ty = &item.ty;
        let value = match result {
            Result::Baked(value) => value.clone(),
            _ => types::placeholder(&planned.shape, ty),
        };
        return quote_spanned! {ident.span()=>
            #(#attrs)*
            #vis #keyword #ident: #ty = #value;
        };
    }
    let ty = types::with_static_lifetimes(&planned.ty);
    let staged = {
        let krate = crate::krate::path_at(item.ident.span());
        quote_spanned!(item.ident.span()=> #krate::Staged<#ty>)
    };
    let value = match result {
        Result::Baked(value) => baked(&ty, value),
        Result::Failed => baked(&ty, &types::placeholder(&planned.shape, &planned.ty)),
        Result::Lazy(reason) => {
            let init = lazy(planned, &ty, helpers);
            let warning = warning(planned, reason);
            quote!({ #warning #init })
        }
    };
    quote_spanned! {ident.span()=>
        #(#attrs)*
        #vis #keyword #ident: #staged = #value;
    }
}

/// A `Staged` holding a value in read-only data.
fn baked(ty: &syn::Type, value: &TokenStream) -> TokenStream {
    let krate = crate::krate::path();
    quote! {{
        static __STAGED_VALUE: #ty = #value;
        #krate::Staged::baked(&__STAGED_VALUE)
    }}
}

/// A `Staged` computed on first access, with the block's helpers in scope.
fn lazy(planned: &Planned, ty: &syn::Type, helpers: &[Helper]) -> TokenStream {
    let krate = crate::krate::path();
    let helpers = helpers.iter().map(|h| h.tokens.stream());
    let init = planned.item.init.stream();
    let convert = if planned.shape.needs_conversion() {
        let krate = crate::krate::path_at(planned.item.ident.span());
        quote_spanned! {planned.item.ident.span()=>
            <_ as #krate::__const_init::BakeAs<#ty>>::bake_as
        }
    } else {
        TokenStream::new()
    };
    quote! {
        static __STAGED_CELL: #krate::__const_init::Lazy<#ty> =
            #krate::__const_init::Lazy::new({
                #[allow(unused)]
                fn __staged_init() -> #ty {
                    #(#helpers)*
                    #convert(#init)
                }
                __staged_init
            });
        #krate::Staged::lazy(&__STAGED_CELL)
    }
}

/// A warning at the item saying that, and why, it is initialized at run
/// time: a use of a deprecated constant is the one warning a macro can
/// raise on stable Rust.
fn warning(planned: &Planned, reason: &str) -> TokenStream {
    let ident = &planned.item.ident;
    let note = format!("`{ident}` is initialized at run time: {reason}");
    let flag = format_ident!(
        "{}_is_initialized_at_run_time",
        ident.to_string().trim_start_matches("r#")
    );
    let flag_use = {
        let mut f = flag.clone();
        f.set_span(ident.span());
        f
    };
    let definition = Span::mixed_site().located_at(ident.span());
    quote_spanned! {definition=>
        const _: () = {
            #[deprecated(note = #note)]
            #[allow(non_upper_case_globals)]
            const #flag: () = ();
            #flag_use
        };
    }
}
