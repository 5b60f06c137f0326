//! The rule for the `static`s of a `#[staged::self_contained]` module, at
//! every depth: at its top, in nested modules, in the bodies of its helpers
//! and methods, and in the tokens of the macros it calls. The program and
//! each run-time library hold a copy of their own of every such `static`, so
//! one that can change (`static mut`, or interior mutability: a `Cell`, an
//! atomic, a lock) would let a variant answer from state the program's
//! generic body never sees. A `#[specialize]` function's own body is the
//! exception, as documented: each copy of the body (generic, static, run
//! time) has its own statics, in the program too.
//!
//! A type is judged by its name, so a name counts as one of the module's
//! structs or enums only when nothing else in the module could give it
//! another meaning: it is declared once, nothing imports it, no glob of
//! another module's names and no macro that declares types by names it is
//! handed. Anything else that is not plainly free of interior mutability
//! is refused.

use std::collections::HashMap;

use proc_macro2::{Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::visit::{self, Visit};
use syn::{Item, Type, UseTree};

use super::valid::WHY;
use crate::errors::Errors;
use crate::specialize::{self, ModuleType};

/// Records an error for every `static` of the module's `items` that is
/// `mut` or may have interior mutability.
pub(crate) fn check(items: &[Item], errors: &mut Errors) {
    let mut names = Names::default();
    for item in items {
        names.visit_item(item);
    }
    let mut statics = Statics {
        names: &names,
        errors,
    };
    for item in items {
        statics.visit_item(item);
    }
}

/// What the names of types mean anywhere in the module, as far as tokens
/// tell.
#[derive(Default)]
struct Names {
    /// Declarations of each name in the type namespace: items, imports.
    declared: HashMap<String, usize>,
    /// The module's structs and enums.
    types: Vec<ModuleType>,
    /// A glob `use` of a path outside the module (`use std::cell::*`).
    foreign_glob: bool,
    /// A macro declares a type by a name a fragment holds.
    any_name: bool,
}

impl Names {
    fn declare(&mut self, name: &syn::Ident) {
        *self.declared.entry(plain(name)).or_default() += 1;
    }

    fn count(&self, name: &str) -> usize {
        self.declared.get(name).copied().unwrap_or(0)
    }

    /// Declarations and globs in a macro's tokens.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Group(g) => self.scan_tokens(g.stream()),
                // An import: what it names, or any name when a fragment
                // fills it in.
                TokenTree::Ident(keyword) if keyword == "use" => {
                    let tree: TokenStream = tokens[i + 1..]
                        .iter()
                        .take_while(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
                        .cloned()
                        .collect();
                    match syn::parse2::<UseTree>(tree) {
                        Ok(tree) => self.use_tree(&tree, None),
                        Err(_) => self.any_name = true,
                    }
                }
                TokenTree::Ident(keyword)
                    if ["struct", "enum", "union", "type", "trait", "mod"]
                        .contains(&keyword.to_string().as_str()) =>
                {
                    match tokens.get(i + 1) {
                        Some(TokenTree::Ident(name)) => self.declare(name),
                        Some(TokenTree::Punct(p)) if p.as_char() == '$' => self.any_name = true,
                        _ => {}
                    }
                }
                TokenTree::Punct(p) if p.as_char() == '*' && i >= 1 => {
                    if matches!(&tokens[i - 1], TokenTree::Punct(c) if c.as_char() == ':') {
                        self.foreign_glob = true;
                    }
                }
                _ => {}
            }
        }
    }

    fn use_tree(&mut self, tree: &UseTree, root: Option<&str>) {
        let root_of = |ident: &syn::Ident| root.map_or_else(|| plain(ident), str::to_owned);
        match tree {
            UseTree::Path(p) => self.use_tree(&p.tree, Some(&root_of(&p.ident))),
            UseTree::Name(n) if n.ident != "self" => self.declare(&n.ident),
            UseTree::Name(_) => {}
            UseTree::Rename(r) => self.declare(&r.rename),
            UseTree::Glob(_) => {
                if !matches!(root, Some("self" | "super")) {
                    self.foreign_glob = true;
                }
            }
            UseTree::Group(g) => g.items.iter().for_each(|t| self.use_tree(t, root)),
        }
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item_struct(&mut self, i: &'ast syn::ItemStruct) {
        self.declare(&i.ident);
        self.types
            .extend(specialize::module_types(&[Item::Struct(i.clone())]));
        visit::visit_item_struct(self, i);
    }
    fn visit_item_enum(&mut self, i: &'ast syn::ItemEnum) {
        self.declare(&i.ident);
        self.types
            .extend(specialize::module_types(&[Item::Enum(i.clone())]));
        visit::visit_item_enum(self, i);
    }
    fn visit_item_union(&mut self, i: &'ast syn::ItemUnion) {
        self.declare(&i.ident);
        visit::visit_item_union(self, i);
    }
    fn visit_item_type(&mut self, i: &'ast syn::ItemType) {
        self.declare(&i.ident);
        visit::visit_item_type(self, i);
    }
    fn visit_item_trait(&mut self, i: &'ast syn::ItemTrait) {
        self.declare(&i.ident);
        visit::visit_item_trait(self, i);
    }
    fn visit_item_mod(&mut self, i: &'ast syn::ItemMod) {
        self.declare(&i.ident);
        visit::visit_item_mod(self, i);
    }
    fn visit_item_extern_crate(&mut self, i: &'ast syn::ItemExternCrate) {
        match &i.rename {
            Some((_, rename)) => self.declare(rename),
            None => self.declare(&i.ident),
        }
    }
    fn visit_item_use(&mut self, i: &'ast syn::ItemUse) {
        self.use_tree(&i.tree, None);
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.scan_tokens(m.tokens.clone());
    }
}

/// What a name in a type stands for.
enum Meaning<'n> {
    /// A primitive type, or `Option`: nothing inside but its arguments.
    Plain,
    /// A struct or enum of the module.
    Own(&'n ModuleType),
    /// Something this check cannot see into.
    Unknown,
}

impl Names {
    fn meaning(&self, path: &syn::Path) -> Meaning<'_> {
        const PRIMITIVES: &[&str] = &[
            "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
            "f32", "f64", "bool", "char", "str",
        ];
        let segments: Vec<String> = path.segments.iter().map(|s| plain(&s.ident)).collect();
        let Some((name, prefix)) = segments.split_last() else {
            return Meaning::Unknown;
        };
        let free = self.count(name) == 0 && !self.any_name;
        let bare = prefix.is_empty() && path.leading_colon.is_none();
        let std_option = matches!(
            prefix
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            ["std" | "core", "option"]
        );
        if (bare && free && (PRIMITIVES.contains(&name.as_str()) || name == "Option"))
            || (std_option && name == "Option")
        {
            return Meaning::Plain;
        }
        let inside =
            path.leading_colon.is_none() && prefix.iter().all(|s| s == "self" || s == "super");
        if inside
            && !self.any_name
            && !self.foreign_glob
            && self.count(name) == 1
            && let Some(own) = self.types.iter().find(|t| plain(&t.name) == *name)
        {
            return Meaning::Own(own);
        }
        Meaning::Unknown
    }

    /// The part of `ty` that may hold interior mutability, if any: anything
    /// but primitives, arrays, tuples, shared references, slices, `Option`,
    /// function pointers and the module's own types made of those.
    fn interior<'t>(&self, ty: &'t Type, seen: &mut Vec<String>) -> Option<&'t Type> {
        match ty {
            Type::Group(g) => self.interior(&g.elem, seen),
            Type::Paren(p) => self.interior(&p.elem, seen),
            Type::Tuple(t) => t.elems.iter().find_map(|e| self.interior(e, seen)),
            Type::Array(a) => self.interior(&a.elem, seen),
            Type::Slice(s) => self.interior(&s.elem, seen),
            Type::Reference(r) if r.mutability.is_none() => self.interior(&r.elem, seen),
            Type::FnPtr(_) => None,
            Type::Path(p) if p.qself.is_none() => {
                // The arguments, of whatever the type is.
                for segment in &p.path.segments {
                    if let syn::PathArguments::AngleBracketed(args) = &segment.arguments {
                        let inner = args.args.iter().find_map(|a| match a {
                            syn::GenericArgument::Type(t) => self.interior(t, seen),
                            _ => None,
                        });
                        if inner.is_some() {
                            return inner;
                        }
                    }
                }
                match self.meaning(&p.path) {
                    Meaning::Plain => None,
                    Meaning::Unknown => Some(ty),
                    Meaning::Own(own) => {
                        let name = own.name.to_string();
                        if seen.contains(&name) {
                            return None;
                        }
                        seen.push(name);
                        own.contains
                            .iter()
                            .find_map(|f| self.interior(f, seen))
                            .map(|_| ty)
                    }
                }
            }
            _ => Some(ty),
        }
    }
}

/// Finds the statics of the module, but those of `#[specialize]` bodies.
struct Statics<'a> {
    names: &'a Names,
    errors: &'a mut Errors,
}

impl Statics<'_> {
    fn mutable(&mut self, m: &dyn ToTokens) {
        self.errors.at(
            m,
            format_args!(
                "a `static mut` cannot be in a `#[staged::self_contained]` module: each run-time library would hold a copy of its own, which the program's never sees; {WHY}"
            ),
        );
    }

    fn typed(&mut self, ty: &Type) {
        if let Some(bad) = self.names.interior(ty, &mut Vec::new()) {
            self.errors.at(
                bad,
                format_args!(
                    "a `static` of type `{}` may have interior mutability (a `Cell`, an atomic, a lock), and each run-time library would hold a copy of its own, which the program's never sees; make it a `const`, or move it out of the module",
                    bad.to_token_stream().to_string().replace(' ', "")
                ),
            );
        }
    }

    /// The statics in a macro's tokens: `static [mut] NAME: TYPE = ..` or
    /// `;`. One whose type a fragment fills in cannot be judged.
    fn in_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Group(g) => self.in_tokens(g.stream()),
                TokenTree::Ident(s) if s == "static" => {
                    let lifetime = i >= 1
                        && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '\'');
                    if !lifetime {
                        self.static_in_tokens(s, &tokens[i + 1..]);
                    }
                }
                _ => {}
            }
        }
    }

    fn static_in_tokens(&mut self, keyword: &proc_macro2::Ident, rest: &[TokenTree]) {
        if let Some(TokenTree::Ident(m)) = rest.first()
            && m == "mut"
        {
            return self.mutable(m);
        }
        let ty = || -> Option<Type> {
            let after_name = match rest {
                [TokenTree::Ident(_), ..] => &rest[1..],
                [TokenTree::Punct(d), TokenTree::Ident(_), ..] if d.as_char() == '$' => &rest[2..],
                _ => return None,
            };
            let [TokenTree::Punct(colon), tail @ ..] = after_name else {
                return None;
            };
            if colon.as_char() != ':' || colon.spacing() == Spacing::Joint {
                return None;
            }
            let parse = |input: ParseStream| {
                let ty: Type = input.parse()?;
                let end = input.peek(syn::Token![=]) || input.peek(syn::Token![;]);
                let _rest: TokenStream = input.parse()?;
                Ok(end.then_some(ty))
            };
            parse.parse2(tail.iter().cloned().collect()).ok().flatten()
        };
        match ty() {
            Some(ty) => self.typed(&ty),
            None => self.errors.at(
                keyword,
                format_args!(
                    "a `static` whose type a macro fills in from its fragments cannot be checked for interior mutability, and each run-time library would hold a copy of its own, which the program's never sees; write the `static` outside the macro; {WHY}"
                ),
            ),
        }
    }
}

impl<'ast> Visit<'ast> for Statics<'_> {
    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        match &s.mutability {
            syn::StaticMutability::Mut(m) => self.mutable(m),
            _ => self.typed(&s.ty),
        }
        visit::visit_item_static(self, s);
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_specialized(&f.attrs) {
            visit::visit_item_fn(self, f);
        }
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_specialized(&f.attrs) {
            visit::visit_impl_item_fn(self, f);
        }
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.in_tokens(m.tokens.clone());
    }
}

fn is_specialized(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| specialize::is_specialize(a.path()))
}

/// `ident` without the `r#` of a raw identifier.
fn plain(ident: &syn::Ident) -> String {
    let name = ident.to_string();
    match name.strip_prefix("r#") {
        Some(rest) => rest.to_owned(),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::errors::Errors;

    /// The errors for a module whose items are `items`.
    fn messages(items: &str) -> Vec<String> {
        let file: syn::File = syn::parse_str(items).unwrap();
        let mut errors = Errors::default();
        check(&file.items, &mut errors);
        match errors.finish(()) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn refused(items: &str) -> String {
        let found = messages(items);
        assert_eq!(found.len(), 1, "{items}: {found:?}");
        found.into_iter().next().unwrap()
    }

    /// One rule at every depth (issue 18): a nested module's static and a
    /// helper's were let through.
    #[test]
    fn statics_that_can_change_are_refused_at_every_depth() {
        for items in [
            "static A: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);",
            "mod inner { pub static HITS: AtomicU32 = AtomicU32::new(0); }",
            "mod a { mod b { static C: std::cell::Cell<u8> = todo!(); } }",
            "fn helper() -> u32 { static CALLS: AtomicU32 = AtomicU32::new(0); 1 }",
            "impl Row { fn f(&self) { static M: std::sync::Mutex<u8> = todo!(); } }",
            "trait T { fn f() { static M: std::sync::Mutex<u8> = todo!(); } }",
            "const K: u32 = { static O: std::sync::OnceLock<u8> = todo!(); 1 };",
            "fn f() { std::thread_local! { static C: std::cell::Cell<u32> = todo!(); } }",
            "fn f() { let g = || { static R: &'static std::sync::atomic::AtomicU8 = todo!(); }; }",
        ] {
            assert!(
                refused(items).contains("may have interior mutability"),
                "{items}"
            );
        }
        for items in [
            "static mut A: u32 = 0;",
            "mod inner { pub static mut A: u32 = 0; }",
            "fn f() { static mut A: u32 = 0; }",
        ] {
            assert!(
                refused(items).starts_with("a `static mut` cannot be"),
                "{items}"
            );
        }
    }

    /// What is plainly constant passes, at every depth, and a
    /// `#[specialize]` body keeps its own statics, as documented.
    #[test]
    fn constant_statics_and_specialized_bodies_pass() {
        let items = r#"
            #[derive(Clone, Copy)]
            pub struct Row { pub a: u32, pub names: &'static [&'static str] }
            static ROWS: [Row; 1] = [Row { a: 1, names: &["x"] }];
            static NAME: &'static str = "n";
            static F: fn(u8) -> u8 = id;
            static O: Option<(u8, char)> = None;
            fn cast(x: u32) -> u8 { std::format!("{}", x as u8).len() as u8 }
            fn id(x: u8) -> u8 { static T: [u8; 2] = [1, 2]; x + T[0] }
            mod inner {
                pub struct Pair(pub u8, pub super::super::Row);
                pub static P: Option<Pair> = None;
                pub static R: &self::Pair = &Pair(0, todo!());
                fn f() { std::thread_local! { static X: u32 = 1; } }
            }
            #[staged::specialize(k)]
            pub fn count(k: u32) -> u32 {
                static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                CALLS.fetch_add(k, std::sync::atomic::Ordering::Relaxed)
            }
            impl Row {
                #[staged::specialize(k = [1], runtime = false)]
                pub fn f(&self, k: u32) -> u32 {
                    static C: std::cell::Cell<u32> = todo!();
                    k
                }
            }
        "#;
        assert_eq!(messages(items), Vec::<String>::new());
    }

    /// A name that something else in the module could give another
    /// meaning is not taken for the module's type, nor for a primitive.
    #[test]
    fn names_the_module_could_mean_otherwise_are_refused() {
        for items in [
            // A struct named like a primitive, or like `Option`.
            "#[allow(non_camel_case_types)] pub struct u32(std::sync::atomic::AtomicU32); static X: u32 = todo!();",
            "pub struct Option<T>(T, std::cell::Cell<u8>); static X: Option<u8> = todo!();",
            // The module's harmless `AtomicU32`, and the real one imported
            // or brought by a glob below.
            "pub struct AtomicU32(u32); mod inner { use std::sync::atomic::AtomicU32; static H: AtomicU32 = todo!(); }",
            "pub struct AtomicU32(u32); mod inner { use std::sync::atomic::*; static H: AtomicU32 = todo!(); }",
            // Two types of one name.
            "pub struct Row(u8); mod inner { pub struct Row(std::cell::Cell<u8>); static R: Row = todo!(); }",
            // A macro that declares types by the names it is handed.
            "fn f() { macro_rules! t { ($n:ident) => { struct $n(std::cell::Cell<u8>); } } t!(u8); static B: u8 = 0; }",
            // An import in a macro's tokens.
            "fn f() { m!(use std::sync::atomic::AtomicU32 as u8;); static B: u8 = 0; }",
            "fn f() { m!(use $p;); static B: u8 = 0; }",
            // A generic argument.
            "pub struct W<T>(T); static X: W<std::cell::Cell<u8>> = todo!();",
        ] {
            assert!(
                refused(items).contains("may have interior mutability"),
                "{items}"
            );
        }
    }

    /// A `static` a macro writes from its fragments cannot be judged.
    #[test]
    fn statics_a_macro_fills_in_are_refused() {
        for items in [
            "fn f() { macro_rules! s { ($t:ty) => { static X: $t = todo!(); } } s!(std::cell::Cell<u8>); }",
            "fn f() { macro_rules! s { ($($t:tt)*) => { static $($t)* } } }",
        ] {
            assert!(
                refused(items).starts_with("a `static` whose type a macro fills in"),
                "{items}"
            );
        }
        let ok = "fn f() { macro_rules! s { ($n:ident) => { static $n: u8 = 1; } } s!(A); }";
        assert_eq!(messages(ok), Vec::<String>::new());
    }
}
