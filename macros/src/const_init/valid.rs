//! The semantic checks of a parsed block, each an error on the offending
//! token, all reported together. What passes becomes a [`Plan`]: the items
//! with their shapes and options, ready to evaluate and expand.

use std::time::Duration;

use proc_macro2::Span;
use syn::{Attribute, Expr, Ident, Item, Lit, Meta, Type};

use super::parse::{Entry, Helper, Input, Kind, ValueItem};
use super::types::{self, Shape};
use crate::errors::Errors;

/// A checked block.
pub(crate) struct Plan {
    pub(crate) helpers: Vec<Helper>,
    pub(crate) items: Vec<Planned>,
    /// `#![eval_timeout = N]`.
    pub(crate) timeout: Option<Duration>,
}

/// A checked `static` or `const`.
pub(crate) struct Planned {
    pub(crate) item: ValueItem,
    /// The attributes to emit (without `#[fallback]`).
    pub(crate) attrs: Vec<Attribute>,
    /// The value's type: the declared one, or `T` of `Staged<T>`.
    pub(crate) ty: Type,
    pub(crate) shape: Shape,
    /// Marked `#[fallback(lazy)]`.
    pub(crate) fallback: bool,
}

/// Checks `input`; the items that pass are planned even when others fail,
/// so that the expansion can still declare them.
pub(crate) fn check(input: Input, errors: &mut Errors) -> Plan {
    let timeout = block_attributes(&input.inner_attrs, errors);
    let mut helpers = Vec::new();
    let mut items = Vec::new();
    let mut names: Vec<Ident> = Vec::new();
    for entry in input.entries {
        match entry {
            Entry::Helper(helper) => {
                if let Some(name) = helper_check(&helper.item, errors) {
                    names.push(name);
                }
                helpers.push(*helper);
            }
            Entry::Value(item) => {
                if let Some(planned) = value_check(*item, errors) {
                    items.push(planned);
                }
            }
        }
    }
    // A repeated name is reported once, and the repeat is not declared, so
    // that rustc does not report it again.
    let mut unique: Vec<Planned> = Vec::with_capacity(items.len());
    for planned in items {
        let ident = &planned.item.ident;
        let taken =
            unique.iter().any(|p| p.item.ident == *ident) || names.iter().any(|n| n == ident);
        if ident != "_" && taken {
            errors.at(
                ident,
                format_args!("`{ident}` is defined more than once in this block"),
            );
        } else {
            unique.push(planned);
        }
    }
    let items = unique;
    Plan {
        helpers,
        items,
        timeout,
    }
}

/// `#![eval_timeout = seconds]` is the only attribute of a block.
fn block_attributes(attrs: &[Attribute], errors: &mut Errors) -> Option<Duration> {
    let mut timeout = None;
    for attr in attrs {
        let Meta::NameValue(nv) = &attr.meta else {
            errors.at(
                attr,
                "unknown block attribute; the only one is `#![eval_timeout = <seconds>]`",
            );
            continue;
        };
        if !nv.path.is_ident("eval_timeout") {
            errors.at(
                &nv.path,
                "unknown block attribute; the only one is `#![eval_timeout = <seconds>]`",
            );
            continue;
        }
        if timeout.is_some() {
            errors.at(&nv.path, "`eval_timeout` is given twice");
            continue;
        }
        let seconds = match &nv.value {
            Expr::Lit(l) => match &l.lit {
                Lit::Int(i) => i.base10_parse::<f64>().ok(),
                Lit::Float(f) => f.base10_parse::<f64>().ok(),
                _ => None,
            },
            _ => None,
        };
        match seconds.and_then(|s| staged_build::eval::config::parse_seconds(&s.to_string())) {
            Some(limit) => timeout = Some(limit),
            None => errors.at(
                &nv.value,
                "`eval_timeout` takes a number of seconds greater than 0, such as `30`",
            ),
        }
    }
    timeout
}

/// Refuses helpers the evaluator cannot build; returns the name the
/// helper declares in the value namespace, if any.
fn helper_check(item: &Item, errors: &mut Errors) -> Option<Ident> {
    match item {
        Item::Fn(f) => Some(f.sig.ident.clone()),
        Item::Struct(s) => Some(s.ident.clone()),
        Item::Enum(_) | Item::Union(_) | Item::Impl(_) | Item::Use(_) | Item::Type(_) => None,
        Item::Trait(_) | Item::TraitAlias(_) | Item::Mod(_) => None,
        Item::Const(c) => Some(c.ident.clone()),
        Item::Macro(m) if m.mac.path.is_ident("macro_rules") => None,
        Item::Macro(m) => {
            errors.at(
                &m.mac.path,
                "a macro call cannot be a helper of `const_init!`: what it expands to is not known here; write the items out, or define the macro with `macro_rules!` inside the block",
            );
            None
        }
        Item::ExternCrate(e) => {
            errors.at(
                e,
                "the evaluator links only `std`; to bake data that needs other crates, compute it in build.rs and write it with `staged_build::baked_file`",
            );
            None
        }
        Item::ForeignMod(f) => {
            errors.at(
                &f.abi,
                "`extern` blocks cannot be helpers of `const_init!`: the evaluator links only `std`",
            );
            None
        }
        other => {
            errors.at(other, "this item cannot be a helper of `const_init!`");
            None
        }
    }
}

fn value_check(mut item: ValueItem, errors: &mut Errors) -> Option<Planned> {
    let mut ok = true;
    if let Some(m) = &item.mutability {
        errors.at(
            m,
            "a baked `static` cannot be `mut`: its value is read-only data",
        );
        ok = false;
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.at(&item.generics, "a baked `const` cannot be generic");
        ok = false;
    }
    let (fallback, attrs) = fallback_attribute(std::mem::take(&mut item.attrs), errors);
    let fallback = match fallback {
        Some(FallbackAttr::Lazy(span)) if item.kind == Kind::Const => {
            errors.push(syn::Error::new(
                span,
                "`#[fallback(lazy)]` needs a `static`: a `const` has no place to keep a value computed at run time",
            ));
            ok = false;
            false
        }
        Some(FallbackAttr::Lazy(_)) => true,
        Some(FallbackAttr::Invalid) => {
            ok = false;
            false
        }
        None => false,
    };
    let ty = match (fallback, types::staged_inner(&item.ty)) {
        (true, Some(inner)) => inner.clone(),
        _ => item.ty.clone(),
    };
    let shape = match types::classify(&ty) {
        Ok(shape) => Some(shape),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let shape = shape.filter(|_| ok)?;
    Some(Planned {
        item,
        attrs,
        ty,
        shape,
        fallback,
    })
}

enum FallbackAttr {
    Lazy(Span),
    Invalid,
}

/// Takes `#[fallback(lazy)]` out of `attrs`.
fn fallback_attribute(
    attrs: Vec<Attribute>,
    errors: &mut Errors,
) -> (Option<FallbackAttr>, Vec<Attribute>) {
    let mut found: Option<FallbackAttr> = None;
    let mut rest = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("fallback") {
            rest.push(attr);
            continue;
        }
        if found.is_some() {
            errors.at(&attr, "`#[fallback]` is given twice");
            found = Some(FallbackAttr::Invalid);
            continue;
        }
        let parsed = match &attr.meta {
            Meta::List(list) => list.parse_args::<Ident>().ok(),
            _ => None,
        };
        found = Some(match parsed {
            Some(ident) if ident == "lazy" => FallbackAttr::Lazy(ident.span()),
            Some(ident) => {
                errors.at(
                    &ident,
                    format_args!("unknown fallback `{ident}`; the only one is `#[fallback(lazy)]`"),
                );
                FallbackAttr::Invalid
            }
            None => {
                errors.at(
                    &attr,
                    "expected `#[fallback(lazy)]`: initialize on first access at run time when evaluation fails",
                );
                FallbackAttr::Invalid
            }
        });
    }
    (found, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors_of(tokens: proc_macro2::TokenStream) -> Vec<String> {
        let input: Input = syn::parse2(tokens).unwrap();
        let mut errors = Errors::default();
        check(input, &mut errors);
        match errors.finish(()) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let errors = errors_of(quote! {
            #![eval_timeout = 0]
            static mut A: u32 = 1;
            #[fallback(eager)]
            static B: u32 = 1;
            #[fallback(lazy)]
            const C: u32 = 1;
            static D: Vec<u8> = vec![];
            static E: staged::Staged<u8> = 1;
            static E: u8 = 2;
            extern crate alloc;
        });
        assert_eq!(
            errors,
            [
                "`eval_timeout` takes a number of seconds greater than 0, such as `30`",
                "a baked `static` cannot be `mut`: its value is read-only data",
                "unknown fallback `eager`; the only one is `#[fallback(lazy)]`",
                "`#[fallback(lazy)]` needs a `static`: a `const` has no place to keep a value computed at run time",
                "`Vec<u8>` cannot be baked: declare `&'static [u8]` (the initializer may still return a `Vec`)",
                "`staged::Staged<u8>` is the type of an item marked `#[fallback(lazy)]`; add the attribute, or declare `u8`",
                "the evaluator links only `std`; to bake data that needs other crates, compute it in build.rs and write it with `staged_build::baked_file`",
            ]
        );
    }

    #[test]
    fn fallback_items_may_spell_out_staged() {
        let input: Input = syn::parse2(quote! {
            #[fallback(lazy)] static A: Staged<[u8; 2]> = [1, 2];
            #[fallback(lazy)] #[doc = "x"] static B: u8 = 1;
            #![eval_timeout = 2.5]
        })
        .unwrap_or_else(|_| {
            syn::parse2(quote! {
                #![eval_timeout = 2.5]
                #[fallback(lazy)] static A: Staged<[u8; 2]> = [1, 2];
                #[fallback(lazy)] #[doc = "x"] static B: u8 = 1;
            })
            .unwrap()
        });
        let mut errors = Errors::default();
        let plan = check(input, &mut errors);
        assert!(errors.finish(()).is_ok());
        assert_eq!(plan.timeout, Some(Duration::from_millis(2500)));
        assert_eq!(
            plan.items[0].shape,
            Shape::Array(Box::new(Shape::Number("u8".into())), "2".into(), true)
        );
        assert!(plan.items.iter().all(|p| p.fallback));
        assert_eq!(plan.items[1].attrs.len(), 1);
    }

    #[test]
    fn names_must_be_unique() {
        assert_eq!(
            errors_of(quote!(
                fn f() {}
                static f: u8 = 1;
                const _: () = ();
                const _: () = ();
            )),
            ["`f` is defined more than once in this block"]
        );
    }
}
