//! Free functions: a dispatcher under the function's name and a companion
//! module of the same name (`generic`, `specialized`, `Specialized`,
//! `prepare`, `stats`).
//!
//! The body's copies (the generic function, under its own name so that
//! recursion works, and one function per static value) sit in
//! `name::__staged`. With stage 3 on, that module is isolated
//! (`#[no_implicit_prelude]`, `std` and `core` only): it is exactly the source
//! the runtime builds for other values. Without stage 3 it imports the user's
//! module, and relative paths are moved down to keep their meaning.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{FnArg, ReturnType};

use super::super::types::{lifetime_positions, name_elided};
use super::parts::{Home, Parts};
use super::reroot::reroot;
use super::text::{FnText, ModuleText, alone_module};

pub(super) fn expand(p: &Parts) -> TokenStream {
    let name = p.name;
    let text = p.plan.runtime.then(|| FnText::new(p));
    let (staged_module, module_text) = match &text {
        // The one text: exactly what the runtime builds for other values.
        Some(text) => {
            let (module, rendered) = alone_module(p, text);
            let variants = text.static_variants(p);
            let module = quote! {
                #[doc(hidden)]
                pub mod __staged {
                    #module
                    #variants
                }
            };
            (module, Some(rendered))
        }
        None => {
            let generic_fn = p.generic_fn(quote!(pub), name);
            let variant_fns = p
                .home
                .variants
                .iter()
                .zip(&p.plan.combos)
                .map(|(v, combo)| p.variant_fn(quote!(pub), v, combo));
            // The copies sit two modules below the user's.
            let fns = reroot(quote!(#generic_fn #(#variant_fns)*), 2);
            let module = quote! {
                #[doc(hidden)]
                pub mod __staged {
                    #[allow(unused_imports)]
                    use super::super::*;
                    #fns
                }
            };
            (module, None)
        }
    };
    let io = p.plan.runtime.then(io_module);
    let source = text.as_ref().zip(module_text.as_ref());
    outside(p, source, quote!(#io #staged_module))
}

/// The output macros the module text imports: std's own here, the host's
/// streams in a run-time library.
pub(super) fn io_module() -> TokenStream {
    if crate::edition::current() == "2015" {
        return TokenStream::new();
    }
    quote! {
        #[doc(hidden)]
        pub mod __staged_io {
            pub use ::std::{eprint, eprintln, print, println};
        }
    }
}

/// The dispatcher and the companion module, which holds `inside` too.
/// `source` is the function's part of the one text and the module's text,
/// for a function with a run-time stage.
pub(super) fn outside(
    p: &Parts,
    source: Option<(&FnText, &ModuleText)>,
    inside: TokenStream,
) -> TokenStream {
    let krate = crate::krate::path();
    let name = p.name;
    let runtime = p.plan.runtime;
    let Home {
        outer,
        inner,
        args: block,
        variants: variant_names,
        shared,
        ..
    } = &p.home;
    let cfgs = p.cfgs();
    let vis = &p.func.vis;

    let dispatcher = {
        let generic_call = p.call(quote!(#outer::#name), &p.arg_names);
        let fallback = if runtime {
            let keys = p.key_parts(false);
            let args = args_block(p, quote!(#outer::#block));
            let call = variant_call(&args);
            // A timed generic call's timer is dropped at the end of its
            // arm, right after the call.
            quote!(match #name::__SITE.dispatch(&(#(#keys,)*)) {
                #krate::__private::Dispatch::Variant(__staged_variant) => #call,
                #krate::__private::Dispatch::Generic => #generic_call,
                #krate::__private::Dispatch::Timed(__staged_timer) => #generic_call,
            })
        } else {
            quote!({
                #name::__SITE.generic_call();
                #generic_call
            })
        };
        let paths = variant_names.iter().map(|v| quote!(#outer::#v)).collect();
        dispatcher(p, paths, fallback)
    };

    let generic = {
        let call = p.call(quote!(#inner::#name), &p.arg_names);
        generic_item(p, call)
    };
    let handle = {
        let arms = variant_names.iter().zip(p.indices()).map(|(v, i)| {
            let call = p.call(quote!(#inner::#v), p.rest_names());
            quote!(#krate::__private::Target::Static(#i) => #call,)
        });
        let args = args_block(p, quote!(#inner::#block));
        let runtime_arm = runtime.then(|| {
            let call = variant_call(&args);
            quote!(#krate::__private::Target::Runtime(__staged_variant) => #call,)
        });
        handle_item(
            p,
            quote!(match self.__target {
                #(#arms)*
                #runtime_arm
                #[allow(unreachable_patterns)]
                _ => ::core::unreachable!(),
            }),
        )
    };
    let (site, specialized, prepare, stats_doc) = match source {
        Some((text, module_text)) => {
            let key = key_type(p);
            let keys = p.key_parts(false);
            let map = text.panic_map(module_text);
            let fn_source = text.fn_source(p, module_text, &map);
            let raise = map.trampoline();
            let site = quote! {
                #raise
                #[doc(hidden)]
                pub static __SOURCE: #krate::__private::FnSource = #fn_source;
                #[doc(hidden)]
                pub static __SITE: #krate::__private::Site<#key> = #krate::__private::Site::new(&__SOURCE);
            };
            let build = quote!(
                __SITE.specialize(&(#(#keys,)*)).map(|v| Specialized { __target: #krate::__private::Target::Runtime(v) })
            );
            (
                site,
                specialized_item(p, build),
                prepare_runtime(p),
                "The counters of this function's run-time stage.",
            )
        }
        None => {
            let site = quote! {
                #[doc(hidden)]
                pub static __SITE: #krate::__private::StaticSite = #krate::__private::StaticSite::new();
            };
            let refuse = quote!(::core::result::Result::Err(
                #krate::__private::runtime_false()
            ));
            (
                site,
                specialized_item(p, refuse),
                prepare_static(p),
                "The counters of this function: without a run-time stage, only `generic_calls` moves.",
            )
        }
    };
    // The signatures name what the user's module names: the companion
    // module imports it, and relative paths move one level down (a
    // function on its own with a run-time stage has only primitives there).
    let sees_module = !runtime || *shared;
    let signatures = reroot(quote!(#generic #handle), usize::from(sees_module));
    let glob = sees_module.then(|| {
        quote!(
            #[allow(unused_imports)]
            use super::*;
        )
    });
    let static_index = static_index_item(p);
    let warnings = p.plan.warnings.iter().map(|w| {
        crate::errors::warning(
            "staged_profile_value_skipped",
            &format!("#[specialize]: {w}"),
        )
    });
    let doc = format!(
        " Companion items of the function `{name}`: its generic body, handles on its variants, and its counters."
    );
    quote! {
        #(#warnings)*
        #dispatcher

        #cfgs
        #[doc = #doc]
        #[allow(dead_code, clippy::all)]
        #vis mod #name {
            #glob
            #inside
            #site
            #signatures
            #specialized
            #prepare

            #[doc = #stats_doc]
            pub fn stats() -> #krate::SiteStats {
                __SITE.stats()
            }

            #static_index
        }
    }
}

/// The user's function, keeping its signature, with a body that dispatches:
/// a `match` over the static values, and `fallback` for the others.
fn dispatcher(p: &Parts, variant_paths: Vec<TokenStream>, fallback: TokenStream) -> TokenStream {
    let attrs = &p.outer_attrs;
    let vis = &p.func.vis;
    let mut sig = p.func.sig.clone();
    sig.inputs = p.inputs.clone();
    let arms = variant_paths
        .iter()
        .zip(&p.plan.combos)
        .map(|(path, combo)| (combo.as_slice(), p.call(path.clone(), p.rest_names())))
        .collect();
    let body = p.select(arms, fallback);
    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}

fn generic_item(p: &Parts, call: TokenStream) -> TokenStream {
    let sig = &p.func.sig;
    let (asyncness, safety, generics, output) =
        (&sig.asyncness, &sig.safety, &sig.generics, &sig.output);
    let where_clause = &generics.where_clause;
    let inputs = &p.inputs;
    quote! {
        /// The generic body, unspecialized, for any value.
        pub #asyncness #safety fn generic #generics (#inputs) #output #where_clause {
            #call
        }
    }
}

fn handle_item(p: &Parts, call_body: TokenStream) -> TokenStream {
    let krate = crate::krate::path();
    let sig = &p.func.sig;
    let (asyncness, safety) = (&sig.asyncness, &sig.safety);
    let (generics, inputs, output) = call_signature(p);
    let where_clause = &generics.where_clause;
    quote! {
        /// A variant for one value, from `specialized`: calling it runs the
        /// specialized code directly, with no lookup.
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        pub struct Specialized {
            __target: #krate::__private::Target,
        }

        impl Specialized {
            /// Calls the variant with the parameters that are not specialized.
            #[inline]
            pub #asyncness #safety fn call #generics (&self, #(#inputs),*) #output #where_clause {
                #call_body
            }

            /// Where the variant's code came from.
            pub fn origin(&self) -> #krate::Origin {
                self.__target.origin()
            }
        }
    }
}

/// The signature of `Specialized::call`: the function's, without the
/// specialized parameters, and with the lifetime elision would have given the
/// result written out, since behind `&self` elision would pick `self`'s.
fn call_signature(p: &Parts) -> (syn::Generics, Vec<FnArg>, ReturnType) {
    let sig = &p.func.sig;
    let mut generics = sig.generics.clone();
    let mut inputs: Vec<FnArg> = p.rest_inputs().into_iter().cloned().collect();
    let mut output = sig.output.clone();
    let ReturnType::Type(arrow, ty) = &sig.output else {
        return (generics, inputs, output);
    };
    if lifetime_positions(ty).1 == 0 {
        return (generics, inputs, output);
    }
    let typed = |arg: &FnArg| match arg {
        FnArg::Typed(t) => lifetime_positions(&t.ty),
        FnArg::Receiver(_) => (0, 0),
    };
    let all: usize = sig
        .inputs
        .iter()
        .map(|a| {
            let (n, e) = typed(a);
            n + e
        })
        .sum();
    if all != 1 {
        // The function itself did not compile under elision's rules.
        return (generics, inputs, output);
    }
    let from_rest = inputs.iter_mut().find(|a| typed(a).1 == 1);
    let lifetime = match from_rest {
        Some(FnArg::Typed(t)) => {
            let named = syn::Lifetime::new("'__staged_r", Span::call_site());
            *t.ty = name_elided(&t.ty, &named);
            generics.params.insert(
                0,
                syn::GenericParam::Lifetime(syn::LifetimeParam::new(named.clone())),
            );
            named
        }
        // The result borrows a specialized `&str`, which is a literal in
        // every variant.
        _ => syn::Lifetime::new("'static", Span::call_site()),
    };
    output = ReturnType::Type(*arrow, Box::new(name_elided(ty, &lifetime)));
    (generics, inputs, output)
}

fn specialized_item(p: &Parts, not_static: TokenStream) -> TokenStream {
    let krate = crate::krate::path();
    let (generics, types) = p.value_params();
    let names: Vec<_> = p.spec_names().collect();
    quote! {
        /// A handle on the variant for these values: a static variant when
        /// they were listed in `#[specialize]`, else one built now at run time.
        ///
        /// # Errors
        ///
        /// When the values have no static variant and no run-time variant
        /// could be had; the function itself keeps working through its
        /// generic body.
        pub fn specialized #generics (#(#names: #types),*) -> ::core::result::Result<Specialized, #krate::Error> {
            match __static_index(#(&#names),*) {
                ::core::option::Option::Some(i) => ::core::result::Result::Ok(Specialized {
                    __target: #krate::__private::Target::Static(i),
                }),
                ::core::option::Option::None => #not_static,
            }
        }
    }
}

fn prepare_static(p: &Parts) -> TokenStream {
    let krate = crate::krate::path();
    let (generics, types) = p.value_params();
    let (item, pattern) = p.value_item(&types);
    let names = p.spec_names();
    quote! {
        /// Checks that every value has a static variant: without a run-time
        /// stage there is nothing to build.
        ///
        /// # Errors
        ///
        /// When a value has no static variant.
        pub fn prepare #generics (values: impl ::core::iter::IntoIterator<Item = #item>) -> ::core::result::Result<(), #krate::Error> {
            for #pattern in values {
                if __static_index(#(&#names),*).is_none() {
                    return ::core::result::Result::Err(#krate::__private::runtime_false());
                }
            }
            ::core::result::Result::Ok(())
        }
    }
}

fn prepare_runtime(p: &Parts) -> TokenStream {
    let krate = crate::krate::path();
    let (generics, types) = p.value_params();
    let (item, pattern) = p.value_item(&types);
    let names: Vec<_> = p.spec_names().collect();
    let keys = p.key_parts(true);
    quote! {
        /// Builds the variants of many values in one rustc invocation, into
        /// one library; values with a static variant are skipped.
        ///
        /// # Errors
        ///
        /// When the build or the load fails; the values then run the
        /// generic body.
        pub fn prepare #generics (values: impl ::core::iter::IntoIterator<Item = #item>) -> ::core::result::Result<(), #krate::Error> {
            __SITE.prepare(
                ::core::iter::Iterator::map(
                    ::core::iter::Iterator::filter(
                        ::core::iter::IntoIterator::into_iter(values),
                        // The item by reference: its parts are references.
                        |#pattern| __static_index(#(#names),*).is_none(),
                    ),
                    |#pattern| (#(#keys,)*),
                ),
            )
        }
    }
}

fn static_index_item(p: &Parts) -> TokenStream {
    let (generics, types) = p.value_params();
    let names: Vec<_> = p.spec_names().collect();
    let arms = p
        .plan
        .combos
        .iter()
        .zip(p.indices())
        .map(|(combo, i)| (combo.as_slice(), quote!(::core::option::Option::Some(#i))))
        .collect();
    let body = p.select(arms, quote!(::core::option::Option::None));
    // Values by reference, so that `prepare` can ask before it takes
    // them; scalars are copied out to be matched.
    let scalars = p
        .specs()
        .iter()
        .filter(|s| s.scalar().is_some())
        .map(|s| &s.ident);
    quote! {
        #[doc(hidden)]
        #[inline]
        #[allow(unused_variables)]
        pub fn __static_index #generics (#(#names: &#types),*) -> ::core::option::Option<u16> {
            #(let #scalars = *#scalars;)*
            #body
        }
    }
}

/// `path { x: x, .. }`: the argument block of a call, from the dispatcher's
/// names of the parameters that are not specialized.
fn args_block(p: &Parts, path: TokenStream) -> TokenStream {
    let names = p.rest_names();
    quote!(#path { #(#names),* })
}

/// The run-time table's key: the specialized types, `&'static str` for
/// strings.
fn key_type(p: &Parts) -> TokenStream {
    let krate = crate::krate::path();
    let lifetime = syn::Lifetime::new("'static", proc_macro2::Span::call_site());
    let types = p.specs().iter().map(|s| match s.scalar() {
        Some(scalar) => scalar.tokens(&lifetime),
        None => {
            let ty = super::super::types::erase_lifetimes(&s.ty, &lifetime);
            quote!(#krate::__private::Enc<#ty>)
        }
    });
    quote!((#(#types,)*))
}

/// The call of a run-time variant `__staged_variant` with the argument
/// block `args`. Its `unsafe` block carries its justification into the
/// expansion, where a reviewer of `cargo expand` reads it (a comment would
/// not survive `quote!`).
fn variant_call(args: &TokenStream) -> TokenStream {
    quote!({
        const _: &str = "SAFETY: the site hands out only variants of this function whose \
            library computed the same layout probes for the argument block and the \
            result as this crate did, so the entry reads this block and writes this \
            result type";
        unsafe { __staged_variant.call(#args) }
    })
}
