//! Pieces of the expansion shared by every shape of function.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::punctuated::Punctuated;
use syn::{AttrStyle, Attribute, FnArg, Ident, ItemFn, Lifetime, Pat, Token};

use super::super::structured;
use super::super::valid::{Plan, Spec};
use super::super::value::Listed;

/// Where a function's copies live: its own isolated module `name::__staged`,
/// or, in a `#[staged::self_contained]` module, the module's shared one
/// `__staged`, where its names carry the function's name.
pub(super) struct Home {
    /// The isolated module, from the scope of the dispatcher.
    pub(super) outer: TokenStream,
    /// The isolated module, from the companion module.
    pub(super) inner: TokenStream,
    /// The argument block: `__Args` or `__Args_name`.
    pub(super) args: Ident,
    /// The layout probes: `__LAYOUT` or `__LAYOUT_name`.
    pub(super) layout: Ident,
    /// The static variants: `__v0`, .. or `__name_v0`, ...
    pub(super) variants: Vec<Ident>,
    /// In a `#[staged::self_contained]` module.
    pub(super) shared: bool,
}

impl Home {
    fn new(plan: &Plan, name: &Ident) -> Self {
        let shared = plan.module_types.is_some();
        let count = plan.combos.len();
        if shared {
            Self {
                outer: quote!(__staged),
                // Through the companion module's glob import of the
                // module (a `super::` would be moved by the rerooting).
                inner: quote!(__staged),
                args: format_ident!("__Args_{}", name),
                layout: format_ident!("__LAYOUT_{}", name),
                variants: (0..count)
                    .map(|i| format_ident!("__{}_v{}", name, i))
                    .collect(),
                shared,
            }
        } else {
            Self {
                outer: quote!(#name::__staged),
                inner: quote!(__staged),
                args: format_ident!("__Args"),
                layout: format_ident!("__LAYOUT"),
                variants: (0..count).map(|i| format_ident!("__v{}", i)).collect(),
                shared,
            }
        }
    }
}

/// The function taken apart for the expansion.
pub(super) struct Parts<'a> {
    pub(super) plan: &'a Plan,
    pub(super) home: Home,
    pub(super) func: &'a ItemFn,
    pub(super) name: &'a Ident,
    /// Attributes for the dispatcher: the user's, inner ones made outer.
    pub(super) outer_attrs: Vec<Attribute>,
    /// `#[cfg]` attributes, repeated on every item the expansion adds.
    pub(super) cfg_attrs: Vec<&'a Attribute>,
    /// Lint attributes and the body's inner attributes, for every copy of the
    /// body.
    pub(super) body_attrs: Vec<Attribute>,
    /// The dispatcher's parameters: the user's, with patterns replaced by
    /// names so that the arguments can be passed on.
    pub(super) inputs: Punctuated<FnArg, Token![,]>,
    /// The name of every typed parameter of `inputs`, in order.
    pub(super) arg_names: Vec<Ident>,
    /// `(user's parameter, name in inputs)` of the parameters that are not
    /// specialized.
    pub(super) rest: Vec<(&'a FnArg, Ident)>,
    /// The body's statements, `#[staged::unroll]` markers taken out: the
    /// generic body.
    pub(super) stmts: TokenStream,
    /// The body, markers kept, for the variants.
    pub(super) block: syn::Block,
}

impl<'a> Parts<'a> {
    /// `isolated` when the body's copies are in a module's text, whose
    /// modules then need the imports of their place.
    pub(super) fn new(plan: &'a Plan, isolated: bool) -> Self {
        let func = &plan.func;
        let mut inputs = Punctuated::new();
        let mut arg_names = Vec::new();
        let mut rest = Vec::new();
        for (i, input) in func.sig.inputs.iter().enumerate() {
            let FnArg::Typed(typed) = input else {
                inputs.push(input.clone());
                continue;
            };
            let name = match &*typed.pat {
                Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
                _ => format_ident!("__staged_arg{}", i),
            };
            let mut renamed = typed.clone();
            renamed.pat = Box::new(syn::parse_quote!(#name));
            renamed.attrs.clear();
            inputs.push(FnArg::Typed(renamed));
            if !plan.specs.iter().any(|s| s.position == i) {
                rest.push((input, name.clone()));
            }
            arg_names.push(name);
        }
        let is = |a: &Attribute, names: &[&str]| names.iter().any(|n| a.path().is_ident(n));
        let lints = ["allow", "warn", "deny", "forbid", "expect"];
        let as_outer = |a: &Attribute| Attribute {
            style: AttrStyle::Outer,
            ..a.clone()
        };
        let body_attrs = func
            .attrs
            .iter()
            .filter(|a| matches!(a.style, AttrStyle::Inner(_)) || is(a, &lints))
            .map(as_outer)
            .collect();
        Self {
            plan,
            home: Home::new(plan, &func.sig.ident),
            func,
            name: &func.sig.ident,
            outer_attrs: func.attrs.iter().map(as_outer).collect(),
            cfg_attrs: func.attrs.iter().filter(|a| is(a, &["cfg"])).collect(),
            body_attrs,
            inputs,
            arg_names,
            rest,
            stmts: stmts(&super::super::unroll::strip(&func.block), isolated),
            block: placed(&func.block, isolated),
        }
    }

    pub(super) fn specs(&self) -> &'a [Spec] {
        &self.plan.specs
    }

    pub(super) fn spec_names(&self) -> impl Iterator<Item = &'a Ident> + 'a {
        self.plan.specs.iter().map(|s| &s.ident)
    }

    pub(super) fn rest_names(&self) -> impl Iterator<Item = &Ident> {
        self.rest.iter().map(|(_, n)| n)
    }

    /// The dispatcher's parameters that are not specialized.
    pub(super) fn rest_inputs(&self) -> Vec<&FnArg> {
        let specialized: Vec<&Ident> = self.spec_names().collect();
        self.inputs
            .iter()
            .filter(|input| match input {
                FnArg::Typed(t) => match &*t.pat {
                    Pat::Ident(p) => !specialized.contains(&&p.ident),
                    _ => true,
                },
                FnArg::Receiver(_) => false,
            })
            .collect()
    }

    /// `::<T, N>` for the function's type and const parameters.
    pub(super) fn turbofish(&self) -> TokenStream {
        let args: Vec<TokenStream> = self
            .func
            .sig
            .generics
            .params
            .iter()
            .filter_map(|p| match p {
                syn::GenericParam::Type(t) => Some(t.ident.to_token_stream()),
                syn::GenericParam::Const(c) => Some(c.ident.to_token_stream()),
                syn::GenericParam::Lifetime(_) => None,
            })
            .collect();
        if args.is_empty() {
            TokenStream::new()
        } else {
            quote!(::<#(#args),*>)
        }
    }

    /// A call of `path` with `args`, inside `unsafe` for an `unsafe fn` and
    /// awaited for an `async fn`.
    pub(super) fn call<'i>(
        &self,
        path: TokenStream,
        args: impl IntoIterator<Item = &'i Ident>,
    ) -> TokenStream {
        let args = args.into_iter();
        let turbofish = self.turbofish();
        let mut call = quote!(#path #turbofish (#(#args),*));
        if self.is_unsafe() {
            call = quote!({
                const _: &str = "SAFETY: this call is made from an `unsafe fn` with the same \
                    signature and safety contract as the function it calls, so its caller \
                    upholds that contract";
                unsafe { #call }
            });
        }
        if self.func.sig.asyncness.is_some() {
            call = quote!(#call.await);
        }
        call
    }

    pub(super) fn is_unsafe(&self) -> bool {
        matches!(self.func.sig.safety, syn::Safety::Unsafe(_))
    }

    /// `let n: u32 = 2u32;` for each specialized parameter of `combo`.
    pub(super) fn bindings(&self, combo: &[Listed]) -> TokenStream {
        let lets = self
            .specs()
            .iter()
            .zip(combo)
            .map(|(spec, listed)| binding(spec, &value_expr(spec, listed)));
        quote!(#(#lets)*)
    }

    /// The body of the static variant of `combo`: its marked loops
    /// unrolled for the combination's lengths, unless that would make
    /// more copies than a static variant may.
    pub(super) fn variant_stmts(&self, combo: &[Listed]) -> TokenStream {
        use super::super::unroll::{self, Mode, STATIC_UNROLL_MAX};
        let lens = lens(self.specs(), combo);
        let mode = if unroll::copies(&self.block, self.specs(), &lens) > STATIC_UNROLL_MAX {
            Mode::Rolled
        } else {
            Mode::Unrolled(&lens)
        };
        unroll::expand(&self.block, self.specs(), mode)
    }

    /// Whether a specialized parameter is a structured value: the
    /// dispatcher then tests the listed values in turn instead of a
    /// `match`.
    pub(super) fn structured(&self) -> bool {
        self.specs().iter().any(|s| s.scalar().is_none())
    }

    /// `body` for the first combination of `arms` the arguments are,
    /// `fallback` when none: a `match` over scalars, tests in turn over
    /// structured values.
    pub(super) fn select(
        &self,
        arms: Vec<(&[Listed], TokenStream)>,
        fallback: TokenStream,
    ) -> TokenStream {
        if arms.is_empty() {
            return fallback;
        }
        if !self.structured() {
            let scrutinee = self.scrutinee();
            let arms = arms.into_iter().map(|(combo, body)| {
                let pattern = self.pattern(combo);
                quote!(#pattern => #body,)
            });
            return quote!(
                #[allow(unreachable_patterns)]
                match #scrutinee {
                    #(#arms)*
                    _ => #fallback,
                }
            );
        }
        let tests = arms
            .into_iter()
            .rev()
            .fold(fallback, |otherwise, (combo, body)| {
                let test = self.test(combo);
                quote!(if #test { #body } else { #otherwise })
            });
        quote!({ #tests })
    }

    /// Whether the arguments are the values of `combo`.
    fn test(&self, combo: &[Listed]) -> TokenStream {
        let tests = self.specs().iter().zip(combo).map(|(spec, listed)| {
            let ident = &spec.ident;
            structured::test(&listed.value, &spec.value, quote!(&#ident), 0)
        });
        quote!(true #(&& #tests)*)
    }

    /// The site's key of the specialized arguments, borrowing them
    /// (`owned` false: the dispatcher's) or taking them (`prepare`'s):
    /// scalars as they are, structured values behind `Enc`.
    pub(super) fn key_parts(&self, owned: bool) -> Vec<TokenStream> {
        let krate = crate::krate::path();
        self.specs()
            .iter()
            .map(|spec| {
                let ident = &spec.ident;
                match (spec.scalar(), owned) {
                    (Some(_), _) => quote!(#ident),
                    (None, false) => quote!(#krate::__private::Enc(&#ident)),
                    (None, true) => quote!(#krate::__private::Enc(#ident)),
                }
            })
            .collect()
    }

    /// A function holding the body with the values of `combo` bound, taking
    /// the other parameters.
    pub(super) fn variant_fn(
        &self,
        vis: TokenStream,
        name: &Ident,
        combo: &[Listed],
    ) -> TokenStream {
        let sig = &self.func.sig;
        let (asyncness, safety) = (&sig.asyncness, &sig.safety);
        let generics = &sig.generics;
        let where_clause = &generics.where_clause;
        let output = self.variant_output();
        let inputs = self.rest.iter().map(|(input, _)| input);
        let body_attrs = &self.body_attrs;
        let bindings = self.bindings(combo);
        let stmts = self.variant_stmts(combo);
        quote! {
            #(#body_attrs)*
            #[doc(hidden)]
            #[allow(unused_variables, unused_mut, unused_assignments, unused_labels, clippy::all)]
            #vis #asyncness #safety fn #name #generics (#(#inputs),*) #output #where_clause {
                #bindings
                #stmts
            }
        }
    }

    /// The return type of a variant. Where elision gave the result the
    /// lifetime of a specialized parameter (`fn f(s: &str) -> &str` with `s`
    /// specialized), a variant has no such parameter left and its result
    /// borrows the literal: it is written `'static`.
    pub(super) fn variant_output(&self) -> syn::ReturnType {
        use super::super::types::{lifetime_positions, name_elided};
        let sig = &self.func.sig;
        let syn::ReturnType::Type(arrow, ty) = &sig.output else {
            return sig.output.clone();
        };
        if lifetime_positions(ty).1 == 0 {
            return sig.output.clone();
        }
        let positions: Vec<(usize, usize)> = sig
            .inputs
            .iter()
            .enumerate()
            .filter_map(|(i, input)| match input {
                FnArg::Typed(t) => {
                    let (named, elided) = lifetime_positions(&t.ty);
                    Some((i, named + elided))
                }
                FnArg::Receiver(_) => None,
            })
            .filter(|&(_, n)| n > 0)
            .collect();
        match positions.as_slice() {
            [(i, 1)] if self.plan.specs.iter().any(|s| s.position == *i) => {
                let fixed = Lifetime::new("'static", Span::call_site());
                syn::ReturnType::Type(*arrow, Box::new(name_elided(ty, &fixed)))
            }
            _ => sig.output.clone(),
        }
    }

    /// A function holding the body unchanged, under `name`.
    pub(super) fn generic_fn(&self, vis: TokenStream, name: &Ident) -> TokenStream {
        let sig = &self.func.sig;
        let (asyncness, safety) = (&sig.asyncness, &sig.safety);
        let generics = &sig.generics;
        let where_clause = &generics.where_clause;
        let output = &sig.output;
        let inputs = &sig.inputs;
        let body_attrs = &self.body_attrs;
        let stmts = &self.stmts;
        quote! {
            #(#body_attrs)*
            #[doc(hidden)]
            #vis #asyncness #safety fn #name #generics (#inputs) #output #where_clause {
                #stmts
            }
        }
    }

    /// What the dispatcher matches on: the specialized arguments, floats by
    /// their bits.
    fn scrutinee(&self) -> TokenStream {
        let parts: Vec<TokenStream> = self
            .specs()
            .iter()
            .map(|s| {
                let ident = &s.ident;
                match s.scalar() {
                    Some(super::super::types::Scalar::F32 | super::super::types::Scalar::F64) => {
                        quote!(#ident.to_bits())
                    }
                    _ => quote!(#ident),
                }
            })
            .collect();
        match parts.as_slice() {
            [one] => one.clone(),
            many => quote!((#(#many),*)),
        }
    }

    /// The pattern of `combo` in the dispatcher's `match`.
    fn pattern(&self, combo: &[Listed]) -> TokenStream {
        let pats: Vec<TokenStream> = combo.iter().map(|l| l.pattern()).collect();
        match pats.as_slice() {
            [one] => one.clone(),
            many => quote!((#(#many),*)),
        }
    }

    /// The static variants' indices, as `u16` literals.
    pub(super) fn indices(&self) -> Vec<proc_macro2::Literal> {
        (0..self.plan.combos.len())
            .map(|i| proc_macro2::Literal::u16_suffixed(i as u16))
            .collect()
    }

    /// Parameters `(n: u32, s: &'__v str)` of the companion functions that take
    /// the specialized values, and their lifetime parameter if one is needed.
    pub(super) fn value_params(&self) -> (TokenStream, Vec<TokenStream>) {
        use super::super::types::{Scalar, erase_lifetimes, lifetime_positions};
        let lifetime = Lifetime::new("'__staged_v", Span::call_site());
        let needs = self.specs().iter().any(|s| match s.scalar() {
            Some(scalar) => scalar == Scalar::Str,
            None => lifetime_positions(&s.ty) != (0, 0),
        });
        let generics = if needs {
            quote!(<#lifetime>)
        } else {
            TokenStream::new()
        };
        let types = self
            .specs()
            .iter()
            .map(|s| match s.scalar() {
                Some(scalar) => scalar.tokens(&lifetime),
                None => erase_lifetimes(&s.ty, &lifetime).to_token_stream(),
            })
            .collect();
        (generics, types)
    }

    /// The tuple type, or single type, of the specialized values.
    pub(super) fn value_item(&self, types: &[TokenStream]) -> (TokenStream, TokenStream) {
        let names: Vec<&Ident> = self.spec_names().collect();
        match (types, names.as_slice()) {
            ([ty], [name]) => (ty.clone(), quote!(#name)),
            _ => (quote!((#(#types),*)), quote!((#(#names),*))),
        }
    }

    /// The user's `#[cfg]` attributes, for every item the expansion adds.
    pub(super) fn cfgs(&self) -> TokenStream {
        let cfgs = &self.cfg_attrs;
        quote!(#(#cfgs)*)
    }
}

/// The body's statements, with the imports of their place in the modules
/// they declare when the body is in a module's text.
fn stmts(block: &syn::Block, isolated: bool) -> TokenStream {
    placed(block, isolated)
        .stmts
        .iter()
        .map(ToTokens::to_token_stream)
        .collect()
}

/// The body, with the imports of their place in the modules it declares
/// when it is in a module's text.
fn placed(block: &syn::Block, isolated: bool) -> syn::Block {
    let mut block = block.clone();
    if isolated {
        super::scope::in_modules_of_block(&mut block);
    }
    block
}

/// The value of `listed` for `spec`, as an expression of its type.
pub(super) fn value_expr(spec: &Spec, listed: &Listed) -> TokenStream {
    match spec.scalar() {
        Some(_) => listed.expr(),
        None => structured::tokens(&listed.value, &spec.value, listed.span),
    }
}

/// `let n: u32 = <value>;` in a variant: a structured value as a constant
/// of its type, so that it sits in read-only data and every load from it
/// folds.
pub(super) fn binding(spec: &Spec, value: &TokenStream) -> TokenStream {
    let Spec {
        ident, mutability, ..
    } = spec;
    let ty = spec.value.canonical();
    let value = match spec.scalar() {
        Some(_) => value.clone(),
        None => quote!({
            const __STAGED_VALUE: #ty = #value;
            __STAGED_VALUE
        }),
    };
    quote!(#[allow(unused_variables, unused_mut)] let #mutability #ident: #ty = #value;)
}

/// The number of elements of each value of `combo` that is a slice or an
/// array.
fn lens(specs: &[Spec], combo: &[Listed]) -> Vec<Option<usize>> {
    specs
        .iter()
        .zip(combo)
        .map(
            |(spec, listed)| match (&listed.value, spec.value.element()) {
                (super::super::value::Value::Seq(items), Some(_)) => Some(items.len()),
                _ => None,
            },
        )
        .collect()
}
