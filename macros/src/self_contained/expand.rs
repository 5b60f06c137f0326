//! Emits a `#[staged::self_contained]` module. With a run-time function in
//! it, the module is rearranged around one text:
//!
//! ```text
//! mod kernels {
//!     pub mod __staged {        the module's text, which run-time libraries
//!         <header>                compile verbatim: every item of the module
//!         <items>                 (made `pub`), each `#[specialize]` function
//!         <argument blocks,       as its generic body, and the argument
//!          layout probes>         blocks and probes of those functions
//!         <static variants>     (not part of the text)
//!     }
//!     use self::__staged::Row;  each item again, with its own visibility
//!     fn hash_rows(..) {..}     each function's dispatcher and companion
//!     mod hash_rows {..}        module, as for a function on its own
//! }
//! ```
//!
//! Inside the module, the name of a `#[specialize]` function calls its
//! generic body, in the program as in a library; callers outside the module
//! get the dispatcher.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{AttrStyle, Attribute, Item, ItemMod, UseTree, Visibility};

use super::valid::{Checked, Entry, item_ident};
use crate::specialize::{self, Member};

pub(crate) fn expand(module: &ItemMod, checked: Checked) -> TokenStream {
    if !checked.runtime {
        // Nothing travels: the module as written, whose functions expand
        // where they are.
        return module.to_token_stream();
    }
    let (outer, inner): (Vec<&Attribute>, Vec<&Attribute>) = module
        .attrs
        .iter()
        .partition(|a| matches!(a.style, AttrStyle::Outer));
    let plans: Vec<&specialize::Plan> = checked
        .items
        .iter()
        .filter_map(|e| match e {
            Entry::Specialized(plan) => Some(&**plan),
            Entry::Item(_) => None,
        })
        .collect();
    let members: Vec<Member> = plans.iter().map(|p| Member::new(p)).collect();
    let mut members_in_order = members.iter();
    let items: Vec<TokenStream> = checked
        .items
        .iter()
        .map(|entry| match entry {
            Entry::Item(item) => specialize::in_text(&made_public(item)).to_token_stream(),
            Entry::Specialized(_) => members_in_order
                .next()
                .map(Member::generic_fn)
                .unwrap_or_default(),
        })
        .collect();
    let extras = members.iter().map(Member::extras);
    let own: Vec<Item> = checked
        .items
        .iter()
        .filter_map(|e| match e {
            Entry::Item(item) => Some((**item).clone()),
            Entry::Specialized(_) => None,
        })
        .collect();
    let header = specialize::header(quote!(#(#inner)*), &own);
    let prefix = quote! {
        #header
        #(#items)*
        #(#extras)*
    };
    let text = specialize::module_text(&prefix);
    let variants = members.iter().map(Member::variants);
    let encodes = {
        let mut types = Vec::new();
        members.iter().for_each(|m| m.value_types(&mut types));
        types
            .iter()
            .map(|t| Member::encode_impl(t))
            .collect::<Vec<_>>()
    };
    let reexports = checked.items.iter().filter_map(|e| match e {
        Entry::Item(item) => Some(reexport(item)),
        Entry::Specialized(_) => None,
    });
    let outside = members.iter().map(|m| m.outside(&text));
    let io = specialize::io_module();
    let (vis, unsafety, mod_token, ident) = (
        &module.vis,
        &module.unsafety,
        &module.mod_token,
        &module.ident,
    );
    quote! {
        #(#outer)*
        #vis #unsafety #mod_token #ident {
            #(#inner)*
            #[doc(hidden)]
            pub mod __staged {
                #prefix
                #(#variants)*
                #(#encodes)*
            }
            #(#reexports)*
            #(#outside)*
            #io
        }
    }
}

/// `item` with `pub` visibility, so that the module can re-export it with
/// the visibility it had.
fn made_public(item: &Item) -> Item {
    let mut item = item.clone();
    let public: Visibility = syn::parse_quote!(pub);
    match &mut item {
        Item::Const(i) => i.vis = public,
        Item::Enum(i) => i.vis = public,
        Item::Fn(i) => i.vis = public,
        Item::Mod(i) => i.vis = public,
        Item::Static(i) => i.vis = public,
        Item::Struct(i) => i.vis = public,
        Item::Trait(i) => i.vis = public,
        Item::Type(i) => i.vis = public,
        Item::Use(i) => i.vis = public,
        _ => {}
    }
    item
}

/// The names `item` declares, again in the module, with its visibility and
/// its `cfg`s.
fn reexport(item: &Item) -> TokenStream {
    let (vis, names): (&Visibility, Vec<&syn::Ident>) = match item {
        Item::Use(u) => {
            let mut names = Vec::new();
            leaves(&u.tree, &mut names);
            (&u.vis, names)
        }
        Item::Const(i) => (&i.vis, item_ident(item).into_iter().collect()),
        Item::Enum(i) => (&i.vis, vec![&i.ident]),
        Item::Fn(i) => (&i.vis, vec![&i.sig.ident]),
        Item::Mod(i) => (&i.vis, vec![&i.ident]),
        Item::Static(i) => (&i.vis, vec![&i.ident]),
        Item::Struct(i) => (&i.vis, vec![&i.ident]),
        Item::Trait(i) => (&i.vis, vec![&i.ident]),
        Item::Type(i) => (&i.vis, vec![&i.ident]),
        _ => return TokenStream::new(),
    };
    let names: Vec<&syn::Ident> = names.into_iter().filter(|n| *n != "_").collect();
    if names.is_empty() {
        return TokenStream::new();
    }
    let cfgs = super::valid::item_attrs(item)
        .iter()
        .filter(|a| a.path().is_ident("cfg"));
    quote! {
        #(#cfgs)*
        #[allow(unused_imports)]
        #vis use self::__staged::{#(#names),*};
    }
}

/// The names a `use` tree brings in (not `self` leaves, not globs).
fn leaves<'a>(tree: &'a UseTree, out: &mut Vec<&'a syn::Ident>) {
    match tree {
        UseTree::Path(p) => leaves(&p.tree, out),
        UseTree::Name(n) if n.ident != "self" => out.push(&n.ident),
        UseTree::Rename(r) => out.push(&r.rename),
        UseTree::Group(g) => g.items.iter().for_each(|t| leaves(t, out)),
        _ => {}
    }
}

/// The module as written, without its `#[specialize]` attributes, next to
/// errors: the rest of the crate still type-checks against its items.
pub(crate) fn stripped(module: &ItemMod) -> TokenStream {
    let mut module = module.clone();
    if let Some((_, items)) = &mut module.content {
        for item in items {
            match item {
                Item::Fn(f) => f.attrs.retain(|a| !specialize::is_specialize(a.path())),
                Item::Impl(imp) => {
                    for method in &mut imp.items {
                        if let syn::ImplItem::Fn(m) = method {
                            m.attrs.retain(|a| !specialize::is_specialize(a.path()));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    specialize::strip_markers(module.to_token_stream())
}
