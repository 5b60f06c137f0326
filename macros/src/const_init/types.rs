//! Which declared types can be baked, and what follows from a type: the
//! form the evaluator program declares (array lengths left to inference),
//! the `'static` form for run-time initialization, and a placeholder value
//! for an item whose evaluation failed (so the crate still type-checks next
//! to the error).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, GenericArgument, Lit, Path, PathArguments, Type};

/// The shape of a bakeable type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// An integer or float type, by name.
    Number(String),
    Bool,
    Char,
    /// `&'static str`.
    Str,
    /// `&'static [T]`.
    Slice(Box<Shape>),
    /// `[T; len]`, with the length as written.
    Array(Box<Shape>, String, bool),
    Tuple(Vec<Shape>),
    Option(Box<Shape>),
}

impl Shape {
    /// Whether a value of this type is not what an initializer returns as
    /// is: a `&'static [T]` comes from a `Vec<T>`, a `&'static str` from a
    /// `String`. Other types are taken as they are, so inference works as
    /// for any `let` with a type (`.sum()`, `.into()`).
    pub(crate) fn needs_conversion(&self) -> bool {
        match self {
            Shape::Str | Shape::Slice(_) => true,
            Shape::Array(s, _, _) | Shape::Option(s) => s.needs_conversion(),
            Shape::Tuple(items) => items.iter().any(Shape::needs_conversion),
            Shape::Number(_) | Shape::Bool | Shape::Char => false,
        }
    }
}

const INTEGERS: [&str; 12] = [
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];

const BAKEABLE: &str = "bakeable types are integers, `bool`, `char`, `f32`, `f64`, arrays, tuples, `Option`, `&'static [T]` and `&'static str`";

/// The shape of `ty`, or an error on the part of it that cannot be baked.
pub(crate) fn classify(ty: &Type) -> syn::Result<Shape> {
    match ty {
        Type::Paren(p) => classify(&p.elem),
        Type::Group(g) => classify(&g.elem),
        Type::Tuple(t) => t
            .elems
            .iter()
            .map(classify)
            .collect::<syn::Result<_>>()
            .map(Shape::Tuple),
        Type::Array(a) => {
            let literal = matches!(&a.len, Expr::Lit(l) if matches!(l.lit, Lit::Int(_)));
            let len = a.len.to_token_stream().to_string();
            Ok(Shape::Array(Box::new(classify(&a.elem)?), len, literal))
        }
        Type::Reference(r) => {
            if let Some(m) = &r.mutability {
                return Err(syn::Error::new_spanned(
                    m,
                    "a baked value is read-only data: use `&'static`, not `&mut`",
                ));
            }
            if let Some(l) = r.lifetime.as_ref().filter(|l| l.ident != "static") {
                return Err(syn::Error::new_spanned(
                    l,
                    format_args!(
                        "a baked value lives for the whole program: use `'static`, not `{l}`"
                    ),
                ));
            }
            match &*r.elem {
                Type::Slice(s) => Ok(Shape::Slice(Box::new(classify(&s.elem)?))),
                Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => Ok(Shape::Str),
                other => Err(syn::Error::new_spanned(
                    ty,
                    format_args!(
                        "a reference to `{}` cannot be baked; declare `{0}` itself, or `&'static [{0}]` for several",
                        text(other)
                    ),
                )),
            }
        }
        Type::Path(p) if p.qself.is_none() => path_shape(&p.path, ty),
        other => Err(unbakeable(other)),
    }
}

fn path_shape(path: &Path, ty: &Type) -> syn::Result<Shape> {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let last = path.segments.last().expect("a path has a segment");
    let prefix: Vec<&str> = names[..names.len() - 1]
        .iter()
        .map(String::as_str)
        .collect();
    let plain = last.arguments.is_none();
    let name = names.last().map(String::as_str).unwrap_or("");
    let primitive = prefix.is_empty() || matches!(prefix[..], ["core" | "std", "primitive"]);
    if plain && primitive {
        match name {
            n if INTEGERS.contains(&n) || n == "f32" || n == "f64" => {
                return Ok(Shape::Number(n.to_owned()));
            }
            "bool" => return Ok(Shape::Bool),
            "char" => return Ok(Shape::Char),
            _ => {}
        }
    }
    let option_path = prefix.is_empty() || matches!(prefix[..], ["core" | "std", "option"]);
    if name == "Option"
        && option_path
        && let Some(inner) = single_argument(&last.arguments)
    {
        return Ok(Shape::Option(Box::new(classify(inner)?)));
    }
    let inner = single_argument(&last.arguments)
        .map(text)
        .unwrap_or_else(|| "T".to_owned());
    let message = match name {
        "Vec" => format!(
            "`{}` cannot be baked: declare `&'static [{inner}]` (the initializer may still return a `Vec`)",
            text(ty)
        ),
        "Box" if inner.starts_with('[') => format!(
            "`{}` cannot be baked: declare `&'static {inner}` (the initializer may still return a `Box`)",
            text(ty)
        ),
        "String" | "Box" if plain || inner == "str" => format!(
            "`{}` cannot be baked: declare `&'static str` (the initializer may still return a `String`)",
            text(ty)
        ),
        "Staged" => format!(
            "`{}` is the type of an item marked `#[fallback(lazy)]`; add the attribute, or declare `{inner}`",
            text(ty)
        ),
        _ => return Err(unbakeable(ty)),
    };
    Err(syn::Error::new_spanned(ty, message))
}

fn single_argument(arguments: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>()[..] {
        [GenericArgument::Type(t)] => Some(t),
        _ => None,
    }
}

fn unbakeable(ty: &Type) -> syn::Error {
    syn::Error::new_spanned(
        ty,
        format_args!("`{}` cannot be baked; {BAKEABLE}", text(ty)),
    )
}

/// A type as the user would write it.
pub(crate) fn text(ty: &Type) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" ;", ";")
        .replace("& '", "&'")
        .replace("' static ", "'static ")
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace("< ", "<")
        .replace(" ,", ",")
        .replace("[ ", "[")
        .replace(" ]", "]")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(":: ", "::")
        .replace(" ::", "::")
}

/// If `ty` is `Staged<T>` (with any path to it), `T`.
pub(crate) fn staged_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    (p.qself.is_none() && last.ident == "Staged")
        .then(|| single_argument(&last.arguments))
        .flatten()
}

/// The type the evaluator program declares: `'static` references, and
/// array lengths that are not literals left to inference (they may name
/// constants the program does not have).
pub(crate) fn eval_type(shape: &Shape) -> String {
    match shape {
        Shape::Number(n) => n.clone(),
        Shape::Bool => "bool".into(),
        Shape::Char => "char".into(),
        Shape::Str => "&'static str".into(),
        Shape::Slice(s) => format!("&'static [{}]", eval_type(s)),
        Shape::Array(s, len, literal) => {
            let len = if *literal { len.as_str() } else { "_" };
            format!("[{}; {len}]", eval_type(s))
        }
        Shape::Tuple(items) => {
            let mut out = String::from("(");
            for s in items {
                out.push_str(&eval_type(s));
                out.push_str(", ");
            }
            out.push(')');
            out
        }
        Shape::Option(s) => format!("::core::option::Option<{}>", eval_type(s)),
    }
}

/// `ty` with `'static` on every reference without a lifetime, for places
/// where elision would not mean `'static` (a function's return type).
pub(crate) fn with_static_lifetimes(ty: &Type) -> Type {
    struct AddStatic;
    impl VisitMut for AddStatic {
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.lifetime.is_none() {
                r.lifetime = Some(syn::Lifetime::new("'static", r.and_token.span));
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
    }
    let mut ty = ty.clone();
    AddStatic.visit_type_mut(&mut ty);
    ty
}

/// A value of `ty` (whose shape is `shape`), for an item whose evaluation
/// failed: the crate keeps type-checking while the error is reported.
pub(crate) fn placeholder(shape: &Shape, ty: &Type) -> TokenStream {
    let span = ty.span();
    match (shape, strip(ty)) {
        (Shape::Number(n), _) if n.starts_with('f') => quote_spanned!(span=> 0.0),
        (Shape::Number(_), _) => quote_spanned!(span=> 0),
        (Shape::Bool, _) => quote_spanned!(span=> false),
        (Shape::Char, _) => quote_spanned!(span=> '\0'),
        (Shape::Str, _) => quote_spanned!(span=> ""),
        (Shape::Slice(_), _) => quote_spanned!(span=> &[]),
        (Shape::Option(_), _) => quote_spanned!(span=> ::core::option::Option::None),
        (Shape::Array(inner, _, _), Type::Array(a)) => {
            let value = placeholder(inner, &a.elem);
            let len = &a.len;
            quote_spanned!(span=> [#value; #len])
        }
        (Shape::Tuple(items), Type::Tuple(t)) => {
            let values = items.iter().zip(&t.elems).map(|(s, t)| placeholder(s, t));
            quote!((#(#values,)*))
        }
        _ => quote_spanned!(span=> ::core::unreachable!()),
    }
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => strip(&p.elem),
        Type::Group(g) => strip(&g.elem),
        other => other,
    }
}

/// Whether values of this shape can hold `usize`/`isize`.
#[cfg(test)]
fn pointer_sized(shape: &Shape) -> bool {
    match shape {
        Shape::Number(n) => n == "usize" || n == "isize",
        Shape::Slice(s) | Shape::Array(s, _, _) | Shape::Option(s) => pointer_sized(s),
        Shape::Tuple(items) => items.iter().any(pointer_sized),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn shape(ty: Type) -> Result<String, String> {
        classify(&ty)
            .map(|s| eval_type(&s))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn bakeable_types_and_their_evaluator_form() {
        assert_eq!(shape(parse_quote!([u32; 256])).unwrap(), "[u32; 256]");
        assert_eq!(shape(parse_quote!([u32; N])).unwrap(), "[u32; _]");
        assert_eq!(
            shape(parse_quote!(&[&str])).unwrap(),
            "&'static [&'static str]"
        );
        assert_eq!(
            shape(parse_quote!((core::primitive::u8, Option<(bool, char)>))).unwrap(),
            "(u8, ::core::option::Option<(bool, char, )>, )"
        );
        assert_eq!(
            shape(parse_quote!(std::option::Option<f64>)).unwrap(),
            "::core::option::Option<f64>"
        );
        assert!(pointer_sized(
            &classify(&parse_quote!(&[(u8, usize)])).unwrap()
        ));
    }

    #[test]
    fn other_types_are_refused_with_a_suggestion() {
        assert_eq!(
            shape(parse_quote!(Vec<u32>)).unwrap_err(),
            "`Vec<u32>` cannot be baked: declare `&'static [u32]` (the initializer may still return a `Vec`)"
        );
        assert_eq!(
            shape(parse_quote!(String)).unwrap_err(),
            "`String` cannot be baked: declare `&'static str` (the initializer may still return a `String`)"
        );
        assert_eq!(
            shape(parse_quote!(&'a str)).unwrap_err(),
            "a baked value lives for the whole program: use `'static`, not `'a`"
        );
        assert_eq!(
            shape(parse_quote!(&'static u32)).unwrap_err(),
            "a reference to `u32` cannot be baked; declare `u32` itself, or `&'static [u32]` for several"
        );
        assert!(
            shape(parse_quote!(HashMap<u32, u32>))
                .unwrap_err()
                .starts_with("`HashMap<u32, u32>` cannot be baked; bakeable types are")
        );
    }

    #[test]
    fn staged_types_are_recognized_by_their_last_segment() {
        let ty: Type = parse_quote!(staged::Staged<[u8; 4]>);
        assert_eq!(staged_inner(&ty).map(text).as_deref(), Some("[u8; 4]"));
        assert!(staged_inner(&parse_quote!(u8)).is_none());
    }

    #[test]
    fn placeholders_have_the_declared_type() {
        let ty: Type = parse_quote!(([u32; N], &str, Option<u8>));
        let value = placeholder(&classify(&ty).unwrap(), &ty);
        assert_eq!(
            value.to_string(),
            "([0 ; N] , \"\" , :: core :: option :: Option :: None ,)"
        );
    }
}
