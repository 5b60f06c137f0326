//! The error a user meets first: a run-time body that names an item it does
//! not declare, such as a sibling `fn` or a `const` of the crate. The body is
//! built on its own, so rustc would answer "cannot find function `mul`" with
//! a hint to import `crate::mul`, which the isolation rule refuses in turn.
//! Instead the name itself gets an error that says what to do: put both in a
//! `#[staged::self_contained]` module, or add `runtime = false`.
//!
//! A name counts as declared when the body binds or declares it anywhere
//! (parameters, patterns, local items, `use` inside it), when it is the
//! function's own name, or when the prelude, the primitive types or the
//! `std`/`core` roots provide it. A body with a glob `use` is not checked:
//! what it brings in is not known here.

use std::collections::HashSet;

use proc_macro2::{Ident, TokenTree};
use syn::visit::{self, Visit};
use syn::{Expr, ItemFn, Path, Token};

use crate::errors::Errors;

/// What the preludes of every edition and the language provide by name.
const PROVIDED: &[&str] = &[
    "Copy",
    "Send",
    "Sized",
    "Sync",
    "Unpin",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "drop",
    "Box",
    "ToOwned",
    "Clone",
    "PartialEq",
    "PartialOrd",
    "Eq",
    "Ord",
    "AsRef",
    "AsMut",
    "Into",
    "From",
    "Default",
    "Iterator",
    "Extend",
    "IntoIterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "ToString",
    "Vec",
    "TryFrom",
    "TryInto",
    "FromIterator",
    "Future",
    "IntoFuture",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "bool",
    "char",
    "str",
    "Self",
    "self",
    "super",
    "crate",
    "$crate",
    "std",
    "core",
];

/// Macros whose arguments are expressions, after a format string for some.
const EXPRESSION_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "format",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "vec",
    "matches",
    "todo",
    "unimplemented",
    "unreachable",
];

/// Records an error on the first use of each name `func`'s body uses but
/// does not declare.
pub(crate) fn check(func: &ItemFn, errors: &mut Errors) {
    let mut declared = Declared::default();
    declared.names.insert(func.sig.ident.to_string());
    declared.visit_item_fn(func);
    if declared.glob {
        return;
    }
    let mut used = Used {
        declared: &declared.names,
        reported: HashSet::new(),
        errors,
    };
    used.visit_block(&func.block);
}

/// Every name the function binds or declares, anywhere in it.
#[derive(Default)]
struct Declared {
    names: HashSet<String>,
    /// A `use ..::*` somewhere: the names it brings are not known.
    glob: bool,
}

impl Declared {
    fn add(&mut self, ident: &Ident) {
        self.names.insert(ident.to_string());
    }
}

impl<'ast> Visit<'ast> for Declared {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.add(&p.ident);
        visit::visit_pat_ident(self, p);
    }
    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        self.add(&i.sig.ident);
        visit::visit_item_fn(self, i);
    }
    fn visit_item_const(&mut self, i: &'ast syn::ItemConst) {
        self.add(&i.ident);
        visit::visit_item_const(self, i);
    }
    fn visit_item_static(&mut self, i: &'ast syn::ItemStatic) {
        self.add(&i.ident);
        visit::visit_item_static(self, i);
    }
    fn visit_item_struct(&mut self, i: &'ast syn::ItemStruct) {
        self.add(&i.ident);
        visit::visit_item_struct(self, i);
    }
    fn visit_item_enum(&mut self, i: &'ast syn::ItemEnum) {
        self.add(&i.ident);
        visit::visit_item_enum(self, i);
    }
    fn visit_item_union(&mut self, i: &'ast syn::ItemUnion) {
        self.add(&i.ident);
        visit::visit_item_union(self, i);
    }
    fn visit_item_type(&mut self, i: &'ast syn::ItemType) {
        self.add(&i.ident);
        visit::visit_item_type(self, i);
    }
    fn visit_item_trait(&mut self, i: &'ast syn::ItemTrait) {
        self.add(&i.ident);
        visit::visit_item_trait(self, i);
    }
    fn visit_item_mod(&mut self, i: &'ast syn::ItemMod) {
        self.add(&i.ident);
        visit::visit_item_mod(self, i);
    }
    fn visit_item_macro(&mut self, i: &'ast syn::ItemMacro) {
        if let Some(ident) = &i.ident {
            self.add(ident);
        }
        visit::visit_item_macro(self, i);
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // `thread_local! { static NAME: T = ..; }` declares `NAME`.
        if m.path
            .segments
            .last()
            .is_some_and(|s| s.ident == "thread_local")
        {
            let tokens: Vec<TokenTree> = m.tokens.clone().into_iter().collect();
            for pair in tokens.windows(2) {
                if let [TokenTree::Ident(keyword), TokenTree::Ident(name)] = pair
                    && keyword == "static"
                {
                    self.add(name);
                }
            }
        }
        visit::visit_macro(self, m);
    }
    fn visit_use_name(&mut self, u: &'ast syn::UseName) {
        self.add(&u.ident);
    }
    fn visit_use_rename(&mut self, u: &'ast syn::UseRename) {
        self.add(&u.rename);
    }
    fn visit_use_glob(&mut self, _: &'ast syn::UseGlob) {
        self.glob = true;
    }
    fn visit_generic_param(&mut self, g: &'ast syn::GenericParam) {
        match g {
            syn::GenericParam::Type(t) => self.add(&t.ident),
            syn::GenericParam::Const(c) => self.add(&c.ident),
            syn::GenericParam::Lifetime(_) => {}
        }
        visit::visit_generic_param(self, g);
    }
    fn visit_trait_item_type(&mut self, t: &'ast syn::TraitItemType) {
        self.add(&t.ident);
        visit::visit_trait_item_type(self, t);
    }
}

/// Reports the names of paths that nothing declares.
struct Used<'a, 'e> {
    declared: &'a HashSet<String>,
    reported: HashSet<String>,
    errors: &'e mut Errors,
}

impl Used<'_, '_> {
    /// The first segment of `path` names something: is it declared?
    fn path(&mut self, path: &Path) {
        if path.leading_colon.is_some() {
            return;
        }
        let Some(first) = path.segments.first() else {
            return;
        };
        let name = first.ident.to_string();
        if PROVIDED.contains(&name.as_str())
            || self.declared.contains(&name)
            || name.starts_with("r#") && self.declared.contains(&name[2..])
            || !self.reported.insert(name.clone())
        {
            return;
        }
        self.errors.at(
            &first.ident,
            format_args!(
                "`{name}` is not declared in this function, and a run-time specialized body is built on its own, with only `core`, `std` and what it declares; put the function and `{name}` in a `#[staged::self_contained]` module, or add `runtime = false` to `#[specialize]`"
            ),
        );
    }
}

impl<'ast> Visit<'ast> for Used<'_, '_> {
    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        if e.qself.is_none() {
            self.path(&e.path);
        }
        visit::visit_expr_path(self, e);
    }
    fn visit_expr_struct(&mut self, e: &'ast syn::ExprStruct) {
        if e.qself.is_none() {
            self.path(&e.path);
        }
        visit::visit_expr_struct(self, e);
    }
    fn visit_type_path(&mut self, t: &'ast syn::TypePath) {
        if t.qself.is_none() {
            self.path(&t.path);
        }
        visit::visit_type_path(self, t);
    }
    fn visit_pat_tuple_struct(&mut self, p: &'ast syn::PatTupleStruct) {
        if p.qself.is_none() {
            self.path(&p.path);
        }
        visit::visit_pat_tuple_struct(self, p);
    }
    fn visit_pat_struct(&mut self, p: &'ast syn::PatStruct) {
        if p.qself.is_none() {
            self.path(&p.path);
        }
        visit::visit_pat_struct(self, p);
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // The arguments of std's expression macros are expressions.
        let Some(name) = m.path.segments.last().map(|s| s.ident.to_string()) else {
            return;
        };
        // A `macro_rules!` of the body's own may take the name of one of
        // them, and anything as arguments.
        if !EXPRESSION_MACROS.contains(&name.as_str()) || self.declared.contains(&name) {
            return;
        }
        let args = m.tokens.clone();
        let parsed = syn::parse::Parser::parse2(
            syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated,
            args,
        );
        if let Ok(exprs) = parsed {
            for e in exprs.iter().filter(|e| !is_str_literal(e)) {
                self.visit_expr(e);
            }
        }
    }
    // Items declared in the body are checked as part of it; their own
    // names are declared.
    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {}
}

fn is_str_literal(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(_),
            ..
        })
    )
}

/// Only for tests: the names `body` is refused for.
#[cfg(test)]
fn refused(func: &str) -> Vec<String> {
    let func: ItemFn = syn::parse_str(func).unwrap();
    let mut errors = Errors::default();
    check(&func, &mut errors);
    match errors.finish(()) {
        Ok(()) => Vec::new(),
        Err(e) => e
            .into_iter()
            .map(|e| e.to_string().split('`').nth(1).unwrap_or("").to_owned())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::refused;

    #[test]
    fn names_from_outside_the_body_are_refused() {
        assert_eq!(
            refused(
                "fn f(x: u64, n: u32) -> u64 { let y = mul(x, SCALE); let r: Row = Row { a: y }; \
                 println!(\"{}\", helper(y)); mul(y, 2) + Kind::One as u64 }"
            ),
            ["mul", "SCALE", "Row", "helper", "Kind"]
        );
    }

    #[test]
    fn what_the_body_declares_or_the_prelude_provides_passes() {
        let ok = "fn f(x: u64, n: u32) -> u64 {
            use std::collections::HashMap;
            const K: u64 = 3;
            struct P { a: u64 }
            enum E { One }
            fn inner<T: Clone>(t: T) -> T { t.clone() }
            let m: HashMap<u64, Vec<String>> = HashMap::new();
            let p = P { a: K };
            thread_local! { static SEEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) }; }
            std::thread_local! { pub(crate) static LAST: std::cell::Cell<u64> = std::cell::Cell::new(0); }
            SEEN.with(|s| s.set(LAST.get()));
            let v = vec![inner(x), p.a, E::One as u64];
            let o: Option<u64> = Some(v.len() as u64);
            match o { Some(q) => q + u64::MAX.min(1) + f(x, n), None => 0 }
        }";
        assert_eq!(refused(ok), Vec::<String>::new());
        // What a glob brings in is not known: nothing is refused.
        assert_eq!(
            refused("fn f(x: u64) -> u64 { use std::cmp::*; max(x, helper()) }"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn macro_arguments_are_looked_at() {
        assert_eq!(
            refused("fn f(x: u64) -> u64 { assert!(x > LIMIT, \"{}\", x); x }"),
            ["LIMIT"]
        );
    }
}
