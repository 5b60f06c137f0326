//! The shapes of function `#[specialize]` supports, and what a run-time
//! function's signature may hold.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

use super::*;
use crate::errors::Errors;
use crate::specialize::enclosing::{self, Enclosing};
use crate::specialize::module_types::{self};
use crate::specialize::types::{display, non_portable};
use crate::specialize::{hygiene, isolation, names};

/// Checks the shapes of function `#[specialize]` supports, and for stage 3,
/// that the function can be built on its own.
/// `specialized` are the positions of the specialized parameters: values
/// written into a variant as constants, which do not cross into it.
pub(super) fn check_signature(
    func: &ItemFn,
    shape: Shape,
    runtime: bool,
    ctx: Context<'_>,
    specialized: &[usize],
    errors: &mut Errors,
) {
    let sig = &func.sig;
    if let Some(c) = &sig.constness {
        errors.at(
            c,
            "a `const fn` cannot be specialized: its dispatcher could not be `const`; remove `const`",
        );
    }
    if let Some(v) = &sig.variadic {
        errors.at(v, "a variadic function cannot be specialized");
    }
    if let ReturnType::Type(_, ty) = &sig.output
        && let Some(t) = find_impl_trait(ty)
    {
        errors.at(
            t,
            format_args!(
                "a return type of `{}` cannot be specialized: every variant would return a different type; name a concrete type",
                display(t)
            ),
        );
    }
    if !runtime {
        return;
    }
    if let Some(a) = &sig.asyncness {
        errors.at(
            a,
            format_args!("an `async fn` cannot be specialized at run time; {RUNTIME_HINT}"),
        );
    }
    if let Some(receiver) = sig.receiver() {
        errors.at(
            receiver.self_token,
            format_args!("a method cannot be specialized at run time: the variant is built without its type; {RUNTIME_HINT}"),
        );
    } else if shape == Shape::Assoc {
        match find_self_type(func.to_token_stream()) {
            Some(token) => errors.push(syn::Error::new(
                token,
                format_args!("an associated function using `Self` cannot be specialized at run time; {RUNTIME_HINT}"),
            )),
            None => errors.at(
                &sig.ident,
                format_args!(
                    "an associated function cannot be specialized at run time: its companion module (`{0}::specialized`, `{0}::stats`) cannot sit in an `impl` block; {RUNTIME_HINT}, or move `{0}` out of the block to make it a free function",
                    sig.ident
                ),
            ),
        }
    }
    let generic_params: Vec<_> = sig
        .generics
        .params
        .iter()
        .filter(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
        .collect();
    if let Some(first) = generic_params.first() {
        errors.at(
            first,
            format_args!("a generic function cannot be specialized at run time: the variant is built without its type arguments; {RUNTIME_HINT}"),
        );
    }
    // A type naming a generic parameter, or `Self`, is covered by an error
    // above.
    let self_type = Ident::new("Self", Span::call_site());
    let generic_names: Vec<&Ident> = generic_params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(&t.ident),
            syn::GenericParam::Const(c) => Some(&c.ident),
            syn::GenericParam::Lifetime(_) => None,
        })
        .chain([&self_type])
        .collect();
    for (position, input) in sig.inputs.iter().enumerate() {
        if specialized.contains(&position) {
            continue;
        }
        if let FnArg::Typed(t) = input {
            if let Some(t) = find_impl_trait(&t.ty) {
                errors.at(
                    t,
                    format_args!("an `impl Trait` parameter makes the function generic, which cannot be specialized at run time; {RUNTIME_HINT}"),
                );
            } else {
                portable(&t.ty, &generic_names, ctx, errors);
            }
        }
    }
    // An `impl Trait` return type has its own error above.
    if let ReturnType::Type(_, ty) = &sig.output
        && find_impl_trait(ty).is_none()
    {
        portable(ty, &generic_names, ctx, errors);
    }
    let body = func
        .block
        .stmts
        .iter()
        .map(ToTokens::to_token_stream)
        .collect::<TokenStream>();
    match ctx.module {
        Some(_) => isolation::check_in(body, isolation::Scope::Module, errors),
        None => {
            isolation::check(body.clone(), errors);
            // A method has its own error already; its names are its type's.
            if shape == Shape::Free {
                names::check(func, errors);
            }
        }
    }
    hygiene::check(func, RUNTIME_HINT, errors);
}

pub(super) fn portable(ty: &Type, generic_names: &[&Ident], ctx: Context<'_>, errors: &mut Errors) {
    let types = ctx.module.unwrap_or(&[]);
    let Some(bad) = non_portable(ty, types) else {
        return;
    };
    let mentions_generic = bad
        .to_token_stream()
        .into_iter()
        .any(|t| mentions(t, generic_names));
    if mentions_generic {
        return;
    }
    match module_types::named(bad, types) {
        Some(t) if t.generic => errors.at(
            bad,
            format_args!(
                "type `{}` has type parameters, so its layout is not known until it is used; a run-time variant takes the module's `#[repr(C)]` types without them; {RUNTIME_HINT}",
                display(bad)
            ),
        ),
        Some(t) if t.repr_c => {
            let field = crate::specialize::types::module_field_not_crossing(t, types)
                .map(display)
                .unwrap_or_default();
            errors.at(
                bad,
                format_args!(
                    "type `{}` holds a field of type `{field}`, which cannot cross into a run-time variant; {RUNTIME_HINT}",
                    display(bad)
                ),
            )
        }
        Some(_) => errors.at(
            bad,
            format_args!(
                "type `{}` is declared in this module without `#[repr(C)]`, so its layout may differ between this program and a run-time library; add `#[repr(C)]` to it, or {RUNTIME_HINT}",
                display(bad)
            ),
        ),
        None => {
            let also = if ctx.module.is_some() {
                ", and the `#[repr(C)]` structs and enums of this module"
            } else {
                ""
            };
            errors.at(
                bad,
                format_args!(
                    "type `{}` cannot cross into a run-time variant, which takes primitives, arrays, tuples, references, slices, `&str`, `Vec`, `String`, `Box`, `Option` and `Result`{also}; {RUNTIME_HINT}",
                    display(bad)
                ),
            );
        }
    }
}

pub(super) fn mentions(token: TokenTree, names: &[&Ident]) -> bool {
    match token {
        TokenTree::Ident(i) => names.iter().any(|n| **n == i),
        TokenTree::Group(g) => g.stream().into_iter().any(|t| mentions(t, names)),
        _ => false,
    }
}

pub(super) fn find_impl_trait(ty: &Type) -> Option<&Type> {
    match ty {
        Type::ImplTrait(_) => Some(ty),
        Type::Group(g) => find_impl_trait(&g.elem),
        Type::Paren(p) => find_impl_trait(&p.elem),
        Type::Reference(r) => find_impl_trait(&r.elem),
        Type::Slice(s) => find_impl_trait(&s.elem),
        Type::Array(a) => find_impl_trait(&a.elem),
        Type::Tuple(t) => t.elems.iter().find_map(find_impl_trait),
        _ => None,
    }
}

/// A method, an associated function that mentions `Self`, or a function
/// written in an `impl` block or a trait (see `enclosing.rs`).
pub(super) fn shape_of(func: &ItemFn) -> Shape {
    if func.sig.receiver().is_some() || find_self_type(func.to_token_stream()).is_some() {
        return Shape::Assoc;
    }
    match enclosing::of(func.sig.ident.span()) {
        Some(Enclosing::Impl | Enclosing::Trait) => Shape::Assoc,
        Some(Enclosing::Module) | None => Shape::Free,
    }
}

pub(super) fn find_self_type(tokens: TokenStream) -> Option<Span> {
    tokens.into_iter().find_map(|t| match t {
        TokenTree::Ident(i) if i == "Self" => Some(i.span()),
        TokenTree::Group(g) => find_self_type(g.stream()),
        _ => None,
    })
}

/// The parameter bound to the plain name `name`.
pub(super) fn param_named<'a>(
    func: &'a ItemFn,
    name: &Ident,
) -> Option<(usize, &'a syn::PatIdent, &'a Type)> {
    func.sig
        .inputs
        .iter()
        .enumerate()
        .find_map(|(i, input)| match input {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) if p.ident == *name && p.by_ref.is_none() && p.subpat.is_none() => {
                    Some((i, p, &*t.ty))
                }
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
}

/// The parameters that can be named in `#[specialize]`, quoted.
pub(super) fn param_names(func: &ItemFn) -> Vec<String> {
    func.sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) if param_named(func, &p.ident).is_some() => {
                    Some(format!("`{}`", p.ident))
                }
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// The pattern of a parameter that binds `name` without being that
/// parameter: `(a, b)`, `ref a`, `a @ ..`.
pub(super) fn pattern_binding<'a>(func: &'a ItemFn, name: &Ident) -> Option<&'a Pat> {
    struct Finder<'n> {
        name: &'n Ident,
        found: bool,
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.found |= p.ident == *self.name;
            syn::visit::visit_pat_ident(self, p);
        }
    }
    func.sig.inputs.iter().find_map(|input| {
        let FnArg::Typed(t) = input else { return None };
        let mut finder = Finder { name, found: false };
        syn::visit::Visit::visit_pat(&mut finder, &t.pat);
        finder.found.then_some(&*t.pat)
    })
}
