//! What the macro needs to know about types: which parameter types can be
//! specialized, and which types can cross into a run-time variant.

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{Lifetime, Type};

use super::module_types::ModuleType;

/// An integer type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct IntTy {
    pub(crate) name: &'static str,
    pub(crate) signed: bool,
    /// Width in bits; `usize`/`isize` are checked as 64-bit here and by rustc
    /// for the real target.
    pub(crate) bits: u32,
}

const INTS: [IntTy; 12] = [
    IntTy {
        name: "u8",
        signed: false,
        bits: 8,
    },
    IntTy {
        name: "u16",
        signed: false,
        bits: 16,
    },
    IntTy {
        name: "u32",
        signed: false,
        bits: 32,
    },
    IntTy {
        name: "u64",
        signed: false,
        bits: 64,
    },
    IntTy {
        name: "u128",
        signed: false,
        bits: 128,
    },
    IntTy {
        name: "usize",
        signed: false,
        bits: 64,
    },
    IntTy {
        name: "i8",
        signed: true,
        bits: 8,
    },
    IntTy {
        name: "i16",
        signed: true,
        bits: 16,
    },
    IntTy {
        name: "i32",
        signed: true,
        bits: 32,
    },
    IntTy {
        name: "i64",
        signed: true,
        bits: 64,
    },
    IntTy {
        name: "i128",
        signed: true,
        bits: 128,
    },
    IntTy {
        name: "isize",
        signed: true,
        bits: 64,
    },
];

impl IntTy {
    /// The largest magnitude a value of this type can have, for its sign.
    pub(crate) fn max_magnitude(self, negative: bool) -> u128 {
        match (self.signed, negative) {
            (false, false) => u128::MAX >> (128 - self.bits),
            (false, true) => 0,
            (true, false) => (1u128 << (self.bits - 1)) - 1,
            (true, true) => 1u128 << (self.bits - 1),
        }
    }
}

/// The type of a specializable parameter.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Scalar {
    Int(IntTy),
    Bool,
    Char,
    F32,
    F64,
    Str,
}

impl Scalar {
    /// Recognizes `u32`, `core::primitive::u32`, `bool`, `&str`, `&'a str`...
    pub(crate) fn of(ty: &Type) -> Option<Self> {
        match ty {
            Type::Group(g) => Self::of(&g.elem),
            Type::Paren(p) => Self::of(&p.elem),
            Type::Reference(r) if r.mutability.is_none() => {
                (primitive_name(&r.elem)? == "str").then_some(Self::Str)
            }
            _ => match primitive_name(ty)? {
                "bool" => Some(Self::Bool),
                "char" => Some(Self::Char),
                "f32" => Some(Self::F32),
                "f64" => Some(Self::F64),
                name => INTS.iter().find(|i| i.name == name).map(|&i| Self::Int(i)),
            },
        }
    }

    /// The type as written in generated signatures; `&str` borrows for
    /// `lifetime`.
    pub(crate) fn tokens(self, lifetime: &Lifetime) -> TokenStream {
        let name = match self {
            Self::Int(i) => i.name,
            Self::Bool => "bool",
            Self::Char => "char",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::Str => return quote!(&#lifetime str),
        };
        let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
        quote!(#ident)
    }

    /// The type written so that no name in a body can capture it
    /// (`::core::primitive::u32`, `&'static ::core::primitive::str`), for
    /// the bindings of values inside the body, where the body's own items
    /// (a `mod f64`, a `struct u32`) are in scope.
    pub(crate) fn canonical(self) -> TokenStream {
        let name = match self {
            Self::Str => return quote!(&'static ::core::primitive::str),
            other => other.describe(),
        };
        let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
        quote!(::core::primitive::#ident)
    }

    /// How the type reads in messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Int(i) => i.name,
            Self::Bool => "bool",
            Self::Char => "char",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::Str => "&str",
        }
    }
}

/// `u32` for `u32`, `core::primitive::u32` or `::std::primitive::u32`.
fn primitive_name(ty: &Type) -> Option<&'static str> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let segments: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if p.path.segments.iter().any(|s| !s.arguments.is_none()) {
        return None;
    }
    let name = match segments.as_slice() {
        [name] if p.path.leading_colon.is_none() => name,
        [krate, module, name] if (krate == "core" || krate == "std") && module == "primitive" => {
            name
        }
        _ => return None,
    };
    const NAMES: [&str; 17] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "bool", "char", "f32", "f64", "str",
    ];
    NAMES.into_iter().find(|n| n == name)
}

/// `ty` as a user would write it, for messages: `Vec<u8>`, `*const u8`.
pub(crate) fn display(ty: &Type) -> String {
    let mut s = quote::ToTokens::to_token_stream(ty).to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("* const", "*const"),
        ("* mut", "*mut"),
        ("' ", "'"),
        (" ;", ";"),
        ("[ ", "["),
        (" ]", "]"),
        ("( ", "("),
        (" )", ")"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// Checks that `ty` can cross into a run-time variant: primitives, arrays of
/// literal length, tuples, shared and mutable references, slices behind a
/// reference, `str` behind a reference, the heap types of std (`Vec`,
/// `String`, `Box`) and `Option`/`Result` of crossing types (a variant
/// allocates through the program's global allocator), and the `#[repr(C)]`
/// types of a `#[staged::self_contained]` module (`module`) whose fields
/// cross. Returns the offending type.
pub(crate) fn non_portable<'t>(ty: &'t Type, module: &[ModuleType]) -> Option<&'t Type> {
    match ty {
        Type::Group(g) => non_portable(&g.elem, module),
        Type::Paren(p) => non_portable(&p.elem, module),
        Type::Tuple(t) => t.elems.iter().find_map(|e| non_portable(e, module)),
        Type::Array(a) => match &a.len {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(_),
                ..
            }) => non_portable(&a.elem, module),
            _ => Some(ty),
        },
        Type::Reference(r) => {
            unsized_portable(&r.elem, module).unwrap_or_else(|| non_portable(&r.elem, module))
        }
        _ => match (primitive_name(ty), super::module_types::named(ty, module)) {
            (Some(name), _) if name != "str" => None,
            (None, Some(t)) if t.repr_c && !t.generic && module_fields_cross(t, module) => None,
            (None, Some(_)) => Some(ty),
            _ => match heap_type(ty) {
                Some(Heap::String) => None,
                Some(Heap::Box(inner)) => {
                    unsized_portable(inner, module).unwrap_or_else(|| non_portable(inner, module))
                }
                Some(Heap::Of(args)) => args.into_iter().find_map(|a| non_portable(a, module)),
                None => Some(ty),
            },
        },
    }
}

/// For the target of a reference or a `Box`: `str` and slices of crossing
/// types cross; `None` when `ty` is not unsized that way.
fn unsized_portable<'t>(ty: &'t Type, module: &[ModuleType]) -> Option<Option<&'t Type>> {
    match ty {
        Type::Slice(s) => Some(non_portable(&s.elem, module)),
        _ if primitive_name(ty) == Some("str") => Some(None),
        _ => None,
    }
}

/// Whether every field of the module type `t` crosses (a struct that holds
/// itself through a `Box` is looked at once).
fn module_fields_cross(t: &ModuleType, module: &[ModuleType]) -> bool {
    thread_local! {
        static SEEN: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let name = t.name.to_string();
    if SEEN.with(|s| s.borrow().contains(&name)) {
        return true;
    }
    SEEN.with(|s| s.borrow_mut().push(name));
    let crosses = t.contains.iter().all(|f| non_portable(f, module).is_none());
    SEEN.with(|s| s.borrow_mut().pop());
    crosses
}

/// The field of the module type `t` that does not cross, for messages.
pub(crate) fn module_field_not_crossing<'a>(
    t: &'a ModuleType,
    module: &[ModuleType],
) -> Option<&'a Type> {
    t.contains
        .iter()
        .find(|f| non_portable(f, module).is_some())
}

/// A type of std that owns heap memory or wraps a value.
enum Heap<'t> {
    String,
    Box(&'t Type),
    /// `Vec<T>`, `Option<T>`, `Result<T, E>`: crosses when its arguments do.
    Of(Vec<&'t Type>),
}

/// `Vec<T>`, `String`, `Box<T>`, `Option<T>`, `Result<T, E>`, by their
/// names in the prelude or their paths in `std`, `core` or `alloc`.
fn heap_type(ty: &Type) -> Option<Heap<'_>> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let names: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let name = match names
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [name] if p.path.leading_colon.is_none() => *name,
        ["std" | "alloc", "vec", "Vec"] => "Vec",
        ["std" | "alloc", "string", "String"] => "String",
        ["std" | "alloc", "boxed", "Box"] => "Box",
        ["std" | "core", "option", "Option"] => "Option",
        ["std" | "core", "result", "Result"] => "Result",
        _ => return None,
    }
    .to_owned();
    let last = p.path.segments.last()?;
    if p.path
        .segments
        .iter()
        .rev()
        .skip(1)
        .any(|s| !s.arguments.is_none())
    {
        return None;
    }
    let args: Vec<&Type> = match &last.arguments {
        syn::PathArguments::None => Vec::new(),
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .map(|arg| match arg {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        syn::PathArguments::Parenthesized(_) => return None,
    };
    match (name.as_str(), args.as_slice()) {
        ("String", []) => Some(Heap::String),
        ("Box", [inner]) => Some(Heap::Box(inner)),
        ("Vec" | "Option", [_]) | ("Result", [_, _]) => Some(Heap::Of(args)),
        _ => None,
    }
}

/// `ty` with every lifetime but `'static` replaced by `with`: `'_` where
/// inference fills it in, `'static` where only the layout matters.
pub(crate) fn erase_lifetimes(ty: &Type, with: &Lifetime) -> Type {
    struct Eraser<'a>(&'a Lifetime);
    impl VisitMut for Eraser<'_> {
        fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
            if l.ident != "static" {
                *l = self.0.clone();
            }
        }
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.lifetime.is_none() {
                r.lifetime = Some(self.0.clone());
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
    }
    let mut ty = ty.clone();
    Eraser(with).visit_type_mut(&mut ty);
    ty
}

/// How many lifetime positions `ty` has: named ones and those elision fills
/// (`&T` without a lifetime, `'_`).
pub(crate) fn lifetime_positions(ty: &Type) -> (usize, usize) {
    struct Count(usize, usize);
    impl<'ast> syn::visit::Visit<'ast> for Count {
        fn visit_lifetime(&mut self, l: &'ast Lifetime) {
            if l.ident == "_" {
                self.1 += 1;
            } else {
                self.0 += 1;
            }
        }
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            if r.lifetime.is_none() {
                self.1 += 1;
            }
            syn::visit::visit_type_reference(self, r);
        }
    }
    let mut count = Count(0, 0);
    syn::visit::Visit::visit_type(&mut count, ty);
    (count.0, count.1)
}

/// `ty` with the lifetimes elision would fill written as `lifetime`.
pub(crate) fn name_elided(ty: &Type, lifetime: &Lifetime) -> Type {
    struct Namer<'a>(&'a Lifetime);
    impl VisitMut for Namer<'_> {
        fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
            if l.ident == "_" {
                *l = self.0.clone();
            }
        }
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.lifetime.is_none() {
                r.lifetime = Some(self.0.clone());
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
    }
    let mut ty = ty.clone();
    Namer(lifetime).visit_type_mut(&mut ty);
    ty
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn ty(s: &str) -> Type {
        syn::parse_str(s).unwrap()
    }

    #[test]
    fn recognizes_specializable_types() {
        assert_eq!(Scalar::of(&ty("u32")).map(Scalar::describe), Some("u32"));
        assert_eq!(
            Scalar::of(&ty("core::primitive::i8")).map(Scalar::describe),
            Some("i8")
        );
        assert_eq!(Scalar::of(&ty("&'a str")), Some(Scalar::Str));
        assert_eq!(Scalar::of(&ty("&mut str")), None);
        assert_eq!(Scalar::of(&ty("String")), None);
        assert_eq!(Scalar::of(&ty("my::u32")), None);
    }

    #[test]
    fn portable_types() {
        for ok in [
            "u8",
            "(u8, f64)",
            "()",
            "&[u64]",
            "&mut [[f32; 4]]",
            "&str",
            "[i32; 8]",
            "&&(bool, char)",
            "Vec<u64>",
            "&mut Vec<u64>",
            "String",
            "Box<[u8]>",
            "Box<str>",
            "std::boxed::Box<(u8, f32)>",
            "Option<usize>",
            "Result<Vec<String>, String>",
            "::core::option::Option<&str>",
        ] {
            assert!(non_portable(&ty(ok), &[]).is_none(), "{ok}");
        }
        for (bad, culprit) in [
            ("std::rc::Rc<u8>", "std :: rc :: Rc < u8 >"),
            ("(u8, Vec<*const u8>)", "* const u8"),
            ("Option<dyn Fn()>", "dyn Fn ()"),
            ("Box<dyn Fn()>", "dyn Fn ()"),
            ("Vec<u8, A>", "Vec < u8 , A >"),
            ("my::Vec<u8>", "my :: Vec < u8 >"),
            ("[u8; N]", "[u8 ; N]"),
            ("&dyn Fn()", "dyn Fn ()"),
            ("*const u8", "* const u8"),
            ("str", "str"),
        ] {
            let found = non_portable(&ty(bad), &[]).map(|t| t.to_token_stream().to_string());
            assert_eq!(found.as_deref(), Some(culprit), "{bad}");
        }
    }

    #[test]
    fn erases_named_and_elided_lifetimes() {
        let erased = erase_lifetimes(
            &ty("(&'a [u8], &str, &'static str)"),
            &syn::parse_quote!('_),
        );
        assert_eq!(
            erased.to_token_stream().to_string(),
            "(& '_ [u8] , & '_ str , & 'static str)"
        );
    }
}
