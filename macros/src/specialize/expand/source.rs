//! The function's source as data (`FnSource`), from which the runtime writes
//! the same isolated module the macro emits, with other values bound.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{FnArg, ReturnType, Type};

use super::super::types::erase_lifetimes;
use super::parts::Parts;

pub(super) fn fn_source(p: &Parts) -> TokenStream {
    let sig = &p.func.sig;
    let name = p.name.to_string();
    let generics = sig.generics.to_token_stream().to_string();
    let inferred = syn::Lifetime::new("'_", proc_macro2::Span::call_site());
    let fixed = syn::Lifetime::new("'static", proc_macro2::Span::call_site());
    let mut rest_static = Vec::new();
    let params = sig
        .inputs
        .iter()
        .enumerate()
        .filter_map(|(i, input)| {
            let FnArg::Typed(t) = input else { return None };
            let specialized = p.specs().iter().any(|s| s.position == i);
            if !specialized {
                rest_static.push(erase_lifetimes(&t.ty, &fixed));
            }
            let pat = t.pat.to_token_stream().to_string();
            let ty = t.ty.to_token_stream().to_string();
            let ty_erased = erase_lifetimes(&t.ty, &inferred)
                .to_token_stream()
                .to_string();
            Some(quote! {
                ::staged::__private::Param {
                    pat: #pat,
                    ty: #ty,
                    ty_erased: #ty_erased,
                    specialized: #specialized,
                }
            })
        })
        .collect::<Vec<_>>();
    let unit: Type = syn::parse_quote!(());
    let ret = match &sig.output {
        ReturnType::Default => &unit,
        ReturnType::Type(_, ty) => &**ty,
    };
    let output = ret.to_token_stream().to_string();
    let output_erased = erase_lifetimes(ret, &inferred)
        .to_token_stream()
        .to_string();
    let ret_static = erase_lifetimes(ret, &fixed);
    let attrs: String = p
        .body_attrs
        .iter()
        .map(|a| a.to_token_stream().to_string() + "\n")
        .collect();
    let body = p.stmts.to_string();
    let is_unsafe = p.is_unsafe();
    let edition = crate::edition::current();
    quote! {
        ::staged::__private::FnSource {
            name: #name,
            generics: #generics,
            params: &[#(#params),*],
            output: #output,
            output_erased: #output_erased,
            attrs: #attrs,
            body: #body,
            is_unsafe: #is_unsafe,
            edition: #edition,
            debug_assertions: ::core::cfg!(debug_assertions),
            args_layout: ::staged::__private::Layout::of::<(#(#rest_static,)*)>(),
            ret_layout: ::staged::__private::Layout::of::<#ret_static>(),
        }
    }
}
