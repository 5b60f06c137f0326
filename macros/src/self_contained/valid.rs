//! Checks of a `#[staged::self_contained]` module: every item must travel
//! into run-time builds as it is, so only items a library of `core` and
//! `std` can compile are allowed, the isolation rules of a run-time body
//! hold for the module as a whole, and each `#[specialize]` function is
//! checked against the module (its body may use every item; its signature
//! may name the module's `#[repr(C)]` types). Every mistake is reported, on
//! its token, at once.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Attribute, ImplItem, Item, ItemFn, UseTree};

use crate::errors::Errors;
use crate::specialize::{self, ModuleType, Plan};

/// What the check found: each top-level item and what becomes of it.
pub(crate) struct Checked {
    pub(crate) items: Vec<Entry>,
    /// Whether some function has a run-time stage: only then is the module
    /// rearranged around an isolated text.
    pub(crate) runtime: bool,
}

/// A top-level item of the module.
pub(crate) enum Entry {
    /// Kept as it is (an `impl` block's `#[specialize]` methods expanded).
    Item(Box<Item>),
    /// A `#[specialize]` function.
    Specialized(Box<Plan>),
}

pub(super) const WHY: &str = "the items of a `#[staged::self_contained]` module travel into run-time builds, which have only `core`, `std` and the module itself";

/// The attributes an item of the module may carry: they mean the same in a
/// library of `core` and `std`.
const ATTRIBUTES: &[&str] = &[
    "doc",
    "derive",
    "allow",
    "warn",
    "deny",
    "forbid",
    "expect",
    "cfg",
    "cfg_attr",
    "inline",
    "repr",
    "must_use",
    "cold",
    "track_caller",
    "deprecated",
    "non_exhaustive",
    "automatically_derived",
    "diagnostic",
    "rustfmt",
    "clippy",
];

/// The derives of `core`.
const DERIVES: &[&str] = &[
    "Clone",
    "Copy",
    "Debug",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Hash",
    "Default",
];

/// Checks the module's `items`; `stage3` says whether run-time
/// specialization is on.
pub(crate) fn check(items: &[Item], errors: &mut Errors) -> Checked {
    let types = specialize::module_types(items);
    super::statics::check(items, errors);
    let mut out = Vec::new();
    let mut runtime = false;
    for item in items {
        attributes(item_attrs(item), errors);
        match item {
            Item::Fn(func) => match take_specialize(func) {
                Some((attr, plain)) => {
                    match errors.take(specialize::plan_in_module(&attr, plain, &types)) {
                        Some(plan) => {
                            if !plan.runtime {
                                // Its body is in the module's text all the same.
                                isolate(plan.func.to_token_stream(), errors);
                            }
                            runtime |= plan.runtime;
                            out.push(Entry::Specialized(Box::new(plan)));
                        }
                        None => out.push(Entry::Item(Box::new(Item::Fn(without_attr(func))))),
                    }
                }
                None => {
                    isolate(item.to_token_stream(), errors);
                    out.push(Entry::Item(Box::new(item.clone())));
                }
            },
            Item::Impl(imp) => {
                let mut imp = imp.clone();
                methods(&mut imp.items, &types, errors);
                isolate(imp.to_token_stream(), errors);
                out.push(Entry::Item(Box::new(Item::Impl(imp))));
            }
            Item::Static(_) => {
                isolate(item.to_token_stream(), errors);
                out.push(Entry::Item(Box::new(item.clone())));
            }
            Item::Mod(m) => {
                nested(m, errors);
                // Once, from the top: `super::` paths count from here.
                isolate(item.to_token_stream(), errors);
                out.push(Entry::Item(Box::new(item.clone())));
            }
            Item::Use(u) => {
                use_roots(&u.tree, items, errors);
                isolate(item.to_token_stream(), errors);
                out.push(Entry::Item(Box::new(item.clone())));
            }
            Item::Const(_) | Item::Struct(_) | Item::Enum(_) | Item::Type(_) | Item::Trait(_) => {
                isolate(item.to_token_stream(), errors);
                out.push(Entry::Item(Box::new(item.clone())));
            }
            other => {
                cannot_travel(other, errors);
                out.push(Entry::Item(Box::new(other.clone())));
            }
        }
    }
    Checked {
        items: out,
        runtime,
    }
}

/// The isolation rules, for code of the module.
fn isolate(tokens: TokenStream, errors: &mut Errors) {
    specialize::isolation_in_module(tokens, errors);
}

/// `func` without its `#[specialize]` attribute, and that attribute.
fn take_specialize(func: &ItemFn) -> Option<(Attribute, ItemFn)> {
    let at = func
        .attrs
        .iter()
        .position(|a| specialize::is_specialize(a.path()))?;
    let mut plain = func.clone();
    let attr = plain.attrs.remove(at);
    Some((attr, plain))
}

fn without_attr(func: &ItemFn) -> ItemFn {
    take_specialize(func).map_or_else(|| func.clone(), |(_, f)| f)
}

/// An `impl` block's methods with `#[specialize]`: only without a run-time
/// stage (a method is built without its type), and expanded in place.
fn methods(items: &mut [ImplItem], types: &[ModuleType], errors: &mut Errors) {
    for item in items {
        let ImplItem::Fn(method) = item else { continue };
        let Some(at) = method
            .attrs
            .iter()
            .position(|a| specialize::is_specialize(a.path()))
        else {
            continue;
        };
        let attr = method.attrs.remove(at);
        let func = ItemFn {
            attrs: method.attrs.clone(),
            vis: method.vis.clone(),
            modifiers: method.modifiers.clone(),
            sig: method.sig.clone(),
            block: Box::new(method.block.clone()),
        };
        let Some(plan) = errors.take(specialize::plan_in_module(&attr, func, types)) else {
            continue;
        };
        if plan.runtime {
            errors.at(
                &attr,
                "a method in a `#[staged::self_contained]` module cannot be specialized at run time: its variant would be built without its type; make it a free function of the module, or add `runtime = false` to `#[specialize]`",
            );
            continue;
        }
        if let Ok(expanded) = syn::parse2::<ImplItem>(specialize::expand_in_body(&plan)) {
            *item = expanded;
        }
    }
}

/// A nested module: inline, and with the same rules (but no `#[specialize]`
/// functions of its own: their dispatchers belong at the top).
fn nested(m: &syn::ItemMod, errors: &mut Errors) {
    let Some((_, items)) = &m.content else {
        errors.at(
            &m.ident,
            format_args!(
                "module `{}` is in a file of its own, which cannot travel with the module; write it inline, `mod {} {{ .. }}`",
                m.ident, m.ident
            ),
        );
        return;
    };
    for item in items {
        attributes(item_attrs(item), errors);
        match item {
            Item::Fn(f) if f.attrs.iter().any(|a| specialize::is_specialize(a.path())) => {
                errors.at(
                    &f.sig.ident,
                    "put `#[specialize]` functions at the top of the `#[staged::self_contained]` module, not in a module inside it",
                );
            }
            Item::Mod(inner) => nested(inner, errors),
            Item::Fn(_)
            | Item::Impl(_)
            | Item::Static(_)
            | Item::Use(_)
            | Item::Const(_)
            | Item::Struct(_)
            | Item::Enum(_)
            | Item::Type(_)
            | Item::Trait(_) => {}
            other => cannot_travel(other, errors),
        }
    }
}

fn cannot_travel(item: &Item, errors: &mut Errors) {
    let what = match item {
        Item::ExternCrate(_) => "an `extern crate`",
        Item::ForeignMod(_) => "an `extern` block",
        Item::Macro(m) if m.mac.path.is_ident("macro_rules") => "a `macro_rules!` definition",
        Item::Macro(_) => "a macro invocation",
        Item::Union(_) => "a `union`",
        Item::TraitAlias(_) => "a trait alias",
        _ => "this item",
    };
    errors.at(
        first_tokens(item),
        format_args!(
            "{what} cannot be in a `#[staged::self_contained]` module; {WHY}: `fn`, `const`, `static`, `struct`, `enum`, `type`, `trait`, `impl`, inline `mod` and `use` of `core`, `std` and the module's own items"
        ),
    );
}

/// The first few tokens of `item`, past its attributes, for an error that
/// points at what the item is without underlining all of it.
fn first_tokens(item: &Item) -> TokenStream {
    let mut item = item.clone();
    if let Some(attrs) = item_attrs_mut(&mut item) {
        attrs.clear();
    }
    item.to_token_stream().into_iter().take(2).collect()
}

/// `use` of `core` and `std` paths and of the module's own items only.
fn use_roots(tree: &UseTree, items: &[Item], errors: &mut Errors) {
    let root = match tree {
        UseTree::Path(p) => &p.ident,
        UseTree::Name(n) => &n.ident,
        UseTree::Rename(r) => &r.ident,
        UseTree::Group(g) => {
            g.items.iter().for_each(|t| use_roots(t, items, errors));
            return;
        }
        UseTree::Glob(_) => return,
    };
    let name = root.to_string();
    let own = items
        .iter()
        .any(|item| item_ident(item).is_some_and(|i| *i == name));
    // `crate`, `super` and `$crate` are the isolation rule's to report.
    if !own && !["std", "core", "self", "super", "crate", "$crate"].contains(&name.as_str()) {
        errors.at(
            root,
            format_args!(
                "`{name}` is not available in a `#[staged::self_contained]` module, which can `use` only `core`, `std` and its own items; {WHY}"
            ),
        );
    }
}

/// Attributes that a library of `core` and `std` compiles alike.
fn attributes(attrs: &[Attribute], errors: &mut Errors) {
    for attr in attrs {
        let path = attr.path();
        if specialize::is_specialize(path) {
            continue;
        }
        let first = path.segments.first().map(|s| s.ident.to_string());
        let known = first.as_deref().is_some_and(|f| ATTRIBUTES.contains(&f));
        if !known || path.segments.is_empty() {
            errors.at(
                path,
                format_args!(
                    "attribute `{}` cannot be in a `#[staged::self_contained]` module; {WHY}",
                    path.to_token_stream().to_string().replace(' ', "")
                ),
            );
            continue;
        }
        if path.is_ident("derive") {
            let _ = attr.parse_nested_meta(|meta| {
                let name = meta.path.segments.last().map(|s| s.ident.to_string());
                if meta.path.segments.len() != 1
                    || !name.as_deref().is_some_and(|n| DERIVES.contains(&n))
                {
                    errors.at(
                        &meta.path,
                        format_args!(
                            "derive `{}` cannot be in a `#[staged::self_contained]` module, which can derive only what `core` derives ({}); {WHY}",
                            meta.path.to_token_stream().to_string().replace(' ', ""),
                            DERIVES.join(", ")
                        ),
                    );
                }
                Ok(())
            });
        }
    }
}

pub(crate) fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn item_attrs_mut(item: &mut Item) -> Option<&mut Vec<Attribute>> {
    Some(match item {
        Item::Const(i) => &mut i.attrs,
        Item::Enum(i) => &mut i.attrs,
        Item::ExternCrate(i) => &mut i.attrs,
        Item::Fn(i) => &mut i.attrs,
        Item::ForeignMod(i) => &mut i.attrs,
        Item::Impl(i) => &mut i.attrs,
        Item::Macro(i) => &mut i.attrs,
        Item::Mod(i) => &mut i.attrs,
        Item::Static(i) => &mut i.attrs,
        Item::Struct(i) => &mut i.attrs,
        Item::Trait(i) => &mut i.attrs,
        Item::TraitAlias(i) => &mut i.attrs,
        Item::Type(i) => &mut i.attrs,
        Item::Union(i) => &mut i.attrs,
        Item::Use(i) => &mut i.attrs,
        _ => return None,
    })
}

/// The name an item declares, if it declares one.
pub(crate) fn item_ident(item: &Item) -> Option<&syn::Ident> {
    match item {
        Item::Const(i) => Some(&i.ident),
        Item::Enum(i) => Some(&i.ident),
        Item::Fn(i) => Some(&i.sig.ident),
        Item::Mod(i) => Some(&i.ident),
        Item::Static(i) => Some(&i.ident),
        Item::Struct(i) => Some(&i.ident),
        Item::Trait(i) => Some(&i.ident),
        Item::Type(i) => Some(&i.ident),
        _ => None,
    }
}
