//! What each module of the one text sees. The text starts with
//! `#![no_implicit_prelude]`, so that it means the same in the program and
//! in a library of its own; the attribute reaches every module nested in
//! it, at any depth and in bodies too. Each module of the text, the top one
//! and every nested one, gets the imports that give back what it would see
//! without the attribute: the `std` prelude of the crate's edition, `std`
//! and `core` (`core::…` as well as `::core::…`), and the output macros,
//! which go through the host in a library. A name a module declares or
//! imports itself stays its own: the prelude is a glob, which its items
//! shadow, and an explicit import of a name it has is left out.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Item, UseTree};

/// The output macros, which a library routes through the host.
const OUTPUT_MACROS: [&str; 4] = ["eprint", "eprintln", "print", "println"];

/// What the top module of a text starts with: no implicit prelude, then
/// `inner` (more inner attributes), then the imports of a module whose own
/// items are `own`.
pub(crate) fn header(inner: TokenStream, own: &[Item]) -> TokenStream {
    let imports = imports(0, own);
    quote! {
        #![no_implicit_prelude]
        #inner
        #imports
    }
}

/// Gives every module nested in `item`, an item at the top of a text, the
/// imports of its place.
pub(crate) fn in_modules_of_item(item: &mut Item) {
    Nested { depth: 0 }.visit_item_mut(item);
}

/// Gives every module declared in `block`, the body of a function at the
/// top of a text, the imports of its place.
pub(crate) fn in_modules_of_block(block: &mut Block) {
    Nested { depth: 0 }.visit_block_mut(block);
}

/// The imports of a module `depth` modules below the top of the text (0:
/// the top), whose own items are `own`.
fn imports(depth: usize, own: &[Item]) -> TokenStream {
    let edition = crate::edition::current();
    let prelude = format_ident!("rust_{}", edition);
    let names = Own::of(own);
    let std = (!names.types.contains("std")).then(|| {
        quote! {
            #[allow(unused_imports)]
            use ::std;
        }
    });
    let core = (!names.types.contains("core")).then(|| {
        quote! {
            #[allow(unused_imports)]
            use ::core;
        }
    });
    // The host's output macros sit next to the text's top module (the
    // library's, and the program's, `__staged_io`); the static build takes
    // std's. Edition 2015 cannot import macros by path.
    let macros: Vec<syn::Ident> = OUTPUT_MACROS
        .iter()
        .filter(|m| !names.macros.contains(**m))
        .map(|m| syn::Ident::new(m, Span::call_site()))
        .collect();
    let io = (edition != "2015" && !macros.is_empty()).then(|| {
        let supers = (0..=depth).map(|_| quote!(super::));
        quote! {
            #[allow(unused_imports)]
            use #(#supers)* __staged_io::{#(#macros),*};
        }
    });
    quote! {
        #[allow(unused_imports)]
        use ::std::prelude::#prelude::*;
        #std
        #core
        #io
    }
}

/// The names a module's own items give it: in the type namespace (where
/// `std` and `core` live) and as macros.
#[derive(Default)]
struct Own {
    types: HashSet<String>,
    macros: HashSet<String>,
}

impl Own {
    fn of(items: &[Item]) -> Self {
        let mut own = Self::default();
        for item in items {
            let name = match item {
                Item::Mod(i) => &i.ident,
                Item::Struct(i) => &i.ident,
                Item::Enum(i) => &i.ident,
                Item::Union(i) => &i.ident,
                Item::Type(i) => &i.ident,
                Item::Trait(i) => &i.ident,
                Item::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |(_, r)| r),
                Item::Use(u) => {
                    own.use_tree(&u.tree);
                    continue;
                }
                Item::Macro(m) => match &m.ident {
                    Some(name) => {
                        own.macros.insert(name.to_string());
                        continue;
                    }
                    None => continue,
                },
                _ => continue,
            };
            own.types.insert(name.to_string());
        }
        own
    }

    /// An import names a thing in every namespace it has one in.
    fn use_tree(&mut self, tree: &UseTree) {
        let name = match tree {
            UseTree::Path(p) => return self.use_tree(&p.tree),
            UseTree::Group(g) => return g.items.iter().for_each(|t| self.use_tree(t)),
            UseTree::Glob(_) => return,
            UseTree::Name(n) if n.ident == "self" => return,
            UseTree::Name(n) => n.ident.to_string(),
            UseTree::Rename(r) => r.rename.to_string(),
        };
        self.types.insert(name.clone());
        self.macros.insert(name);
    }
}

/// Puts the imports at the top of each nested module, counting how deep it
/// is (a body is no module: `super` from a module in a function names the
/// function's module).
struct Nested {
    depth: usize,
}

impl VisitMut for Nested {
    fn visit_item_mod_mut(&mut self, m: &mut syn::ItemMod) {
        let Some((_, items)) = &mut m.content else {
            return visit_mut::visit_item_mod_mut(self, m);
        };
        self.depth += 1;
        for item in items.iter_mut() {
            self.visit_item_mut(item);
        }
        let imports = imports(self.depth, items);
        self.depth -= 1;
        let imports: syn::File = syn::parse_quote!(#imports);
        items.splice(0..0, imports.items);
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::in_modules_of_item;

    fn expanded(item: &str) -> String {
        let mut item: syn::Item = syn::parse_str(item).unwrap();
        in_modules_of_item(&mut item);
        item.to_token_stream().to_string().replace(' ', "")
    }

    /// Each module gets the imports, the output macros by as many `super`s
    /// as it is deep below the text's top, plus one (a function body is no
    /// module).
    #[test]
    fn every_nested_module_gets_the_imports_of_its_place() {
        let out = expanded("mod a { mod b { fn x() {} } fn f() { mod c {} } }");
        assert_eq!(out.matches("use::std::prelude::").count(), 3, "{out}");
        assert_eq!(out.matches("use::core;").count(), 3, "{out}");
        if crate::edition::current() != "2015" {
            let io = |supers: usize| format!("use{}__staged_io::", "super::".repeat(supers));
            assert_eq!(out.matches(&io(2)).count(), 1, "a: {out}");
            assert_eq!(out.matches(&io(3)).count(), 2, "b and c: {out}");
        }
    }

    /// What a module declares or imports itself is left to it.
    #[test]
    fn a_modules_own_names_are_not_imported_over() {
        let out = expanded(
            "mod a { mod core {} use std::println; macro_rules! print { () => {} } fn f() {} }",
        );
        let (imports, _) = out.split_once("modcore{").unwrap();
        assert!(!imports.contains("use::core;"), "{out}");
        assert!(imports.contains("use::std;"), "{out}");
        if crate::edition::current() != "2015" {
            assert!(imports.contains("__staged_io::{eprint,eprintln};"), "{out}");
        }
    }
}
