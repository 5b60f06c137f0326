//! Listed values of structured types (`taps = [[1.0, 2.0, 1.0]]`,
//! `plan = [[Pred::ModEq { col: 1, m: 7, r: 3 }]]`): read against their
//! type, written back as a constant of that type for a static variant, and
//! compared with an argument by the dispatcher. A value is written the way
//! the runtime's literal renderer writes it (`staged_runtime::Encode`), so
//! static and run-time variants hold the same constants.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use super::types::Scalar;
use super::value::{Value, article, text};
use super::value_type::{Fields, ModuleKind, ValueTy};

/// Reads `expr` as a value of `ty` for parameter `param`: the user's
/// syntax (`[1.0, 2.0]`, `Pred::ModEq { col: 1, m: 7, r: 3 }`, `Some(3)`)
/// and the renderer's (`&[..]`, `self::Pred::…`, `::core::option::Option::Some(..)`,
/// `::core::primitive::f64::from_bits(..)`).
pub(crate) fn parse(expr: &Expr, ty: &ValueTy, param: &Ident) -> syn::Result<Value> {
    let expr = unwrap(expr);
    let error = |message: String| Err(syn::Error::new_spanned(expr, message));
    match ty {
        ValueTy::Scalar(scalar) => {
            if let Some((kind, bits)) = float_bits(expr) {
                // An `f32`'s bits are not an `f64`'s, nor the other way round.
                return match (bits, scalar) {
                    (Some(bits), Scalar::F64) if kind == Scalar::F64 => Ok(Value::F64(bits)),
                    (Some(bits), Scalar::F32) if kind == Scalar::F32 => u32::try_from(bits)
                        .map_or_else(
                            |_| error(format!("`{}` is not an `f32`", text(expr))),
                            |bits| Ok(Value::F32(bits)),
                        ),
                    _ => {
                        let name = scalar.describe();
                        error(format!(
                            "expected {} `{name}` value for `{param}`, found `{}`",
                            article(name),
                            text(expr)
                        ))
                    }
                };
            }
            Value::parse(expr, *scalar, param).map(|l| l.value)
        }
        ValueTy::Array(elem, n) => {
            let items = elements(expr, false).ok_or_else(|| {
                syn::Error::new_spanned(
                    expr,
                    format!(
                        "expected an array of {n} `{}` for `{param}`, as in `[{}]`, found `{}`",
                        elem.describe(),
                        example(elem),
                        text(expr)
                    ),
                )
            })?;
            if items.len() != *n {
                return error(format!(
                    "expected {n} elements for `{param}`, of type `{}`, found {}",
                    ty.describe(),
                    items.len()
                ));
            }
            seq(&items, elem, param)
        }
        ValueTy::Slice(elem) => {
            let items = elements(expr, true).ok_or_else(|| {
                syn::Error::new_spanned(
                    expr,
                    format!(
                        "expected a list of `{}` for `{param}`, as in `[{}]`, found `{}`",
                        elem.describe(),
                        example(elem),
                        text(expr)
                    ),
                )
            })?;
            seq(&items, elem, param)
        }
        ValueTy::Tuple(elems) => {
            let Expr::Tuple(t) = expr else {
                return error(format!(
                    "expected a tuple of type `{}` for `{param}`, found `{}`",
                    ty.describe(),
                    text(expr)
                ));
            };
            if t.elems.len() != elems.len() {
                return error(format!(
                    "expected a tuple of {} elements (`{}`) for `{param}`, found {}",
                    elems.len(),
                    ty.describe(),
                    t.elems.len()
                ));
            }
            t.elems
                .iter()
                .zip(elems)
                .map(|(e, t)| parse(e, t, param))
                .collect::<syn::Result<_>>()
                .map(Value::Tuple)
        }
        ValueTy::Option(elem) => match option_value(expr) {
            Some(None) => Ok(Value::Opt(None)),
            Some(Some(inner)) => Ok(Value::Opt(Some(Box::new(parse(inner, elem, param)?)))),
            None => error(format!(
                "expected `Some(..)` or `None` for `{param}`, of type `{}`, found `{}`",
                ty.describe(),
                text(expr)
            )),
        },
        ValueTy::Module(m) => {
            let name = &m.name;
            match &m.kind {
                ModuleKind::Struct(fields) => {
                    let Some((path, got)) = constructor(expr) else {
                        return error(format!(
                            "expected a value of `{name}` for `{param}`, as in `{name} {{ .. }}`, found `{}`",
                            text(expr)
                        ));
                    };
                    if !names_type(&path, name, None) {
                        return error(format!(
                            "expected a value of `{name}` for `{param}`, found `{}`",
                            text(expr)
                        ));
                    }
                    Ok(Value::Module {
                        variant: None,
                        fields: read_fields(expr, got, fields, name, param)?,
                    })
                }
                ModuleKind::Enum(variants) => {
                    let Some((path, got)) = constructor(expr) else {
                        return error(format!(
                            "expected a variant of `{name}` for `{param}`, as in `{name}::{}`, found `{}`",
                            variants
                                .first()
                                .map_or_else(String::new, |(v, _)| v.to_string()),
                            text(expr)
                        ));
                    };
                    let found = variants
                        .iter()
                        .enumerate()
                        .find(|(_, (v, _))| names_type(&path, name, Some(v)));
                    let Some((index, (variant, fields))) = found else {
                        let list: Vec<String> = variants
                            .iter()
                            .map(|(v, _)| format!("`{name}::{v}`"))
                            .collect();
                        return error(format!(
                            "expected a variant of `{name}` for `{param}` ({}), found `{}`",
                            list.join(", "),
                            text(expr)
                        ));
                    };
                    Ok(Value::Module {
                        variant: Some((index, variant.clone())),
                        fields: read_fields(expr, got, fields, name, param)?,
                    })
                }
            }
        }
    }
}

fn seq(items: &[&Expr], elem: &ValueTy, param: &Ident) -> syn::Result<Value> {
    items
        .iter()
        .map(|e| parse(e, elem, param))
        .collect::<syn::Result<_>>()
        .map(Value::Seq)
}

/// `(e)` and invisible groups, as `e`.
fn unwrap(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unwrap(&p.expr),
        Expr::Group(g) => unwrap(&g.expr),
        other => other,
    }
}

/// The elements of `[a, b]` (and of `&[a, b]` where `borrowed` is allowed).
fn elements(expr: &Expr, borrowed: bool) -> Option<Vec<&Expr>> {
    match unwrap(expr) {
        Expr::Array(a) => Some(a.elems.iter().collect()),
        Expr::Reference(r) if borrowed && r.mutability.is_none() => elements(&r.expr, false),
        _ => None,
    }
}

/// `None`, `Some(x)`, also as `Option::…`, `::core::option::Option::…`.
fn option_value(expr: &Expr) -> Option<Option<&Expr>> {
    let is = |path: &syn::Path, name: &str| {
        let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        matches!(
            names.iter().map(String::as_str).collect::<Vec<_>>().as_slice(),
            [n] | ["Option", n] | ["std" | "core", "option", "Option", n] if *n == name
        )
    };
    match expr {
        Expr::Path(p) if is(&p.path, "None") => Some(None),
        Expr::Call(c) if c.args.len() == 1 => match unwrap(&c.func) {
            Expr::Path(p) if is(&p.path, "Some") => Some(c.args.first()),
            _ => None,
        },
        _ => None,
    }
}

/// The fields a constructor expression gives.
enum Given<'e> {
    Unit,
    Tuple(Vec<&'e Expr>),
    Named(Vec<(&'e syn::Member, &'e Expr)>, bool),
}

/// `Path`, `Path(..)` or `Path { .. }`: the path and the fields given.
fn constructor(expr: &Expr) -> Option<(syn::Path, Given<'_>)> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => Some((p.path.clone(), Given::Unit)),
        Expr::Call(c) => match unwrap(&c.func) {
            Expr::Path(p) if p.qself.is_none() => {
                Some((p.path.clone(), Given::Tuple(c.args.iter().collect())))
            }
            _ => None,
        },
        Expr::Struct(s) if s.qself.is_none() => Some((
            s.path.clone(),
            Given::Named(
                s.fields.iter().map(|f| (&f.member, &f.expr)).collect(),
                s.rest.is_some() || s.dot2_token.is_some(),
            ),
        )),
        _ => None,
    }
}

/// Whether `path` is `Name` (or `Name::Variant`), optionally after `self::`.
fn names_type(path: &syn::Path, name: &Ident, variant: Option<&Ident>) -> bool {
    if path.leading_colon.is_some() || path.segments.iter().any(|s| !s.arguments.is_none()) {
        return false;
    }
    let mut names: Vec<&Ident> = path.segments.iter().map(|s| &s.ident).collect();
    if names.first().is_some_and(|n| *n == "self") {
        names.remove(0);
    }
    match (names.as_slice(), variant) {
        ([n], None) => *n == name,
        ([n, v], Some(want)) => *n == name && *v == want,
        _ => false,
    }
}

/// The values of `fields`, in declaration order, from what `expr` gave.
fn read_fields(
    expr: &Expr,
    given: Given,
    fields: &Fields,
    name: &Ident,
    param: &Ident,
) -> syn::Result<Vec<Value>> {
    let error = |message: String| Err(syn::Error::new_spanned(expr, message));
    match (fields, given) {
        (Fields::Unit, Given::Unit) => Ok(Vec::new()),
        (Fields::Tuple(types), Given::Tuple(args)) => {
            if args.len() != types.len() {
                return error(format!(
                    "`{}` takes {} fields, found {}",
                    text(expr),
                    types.len(),
                    args.len()
                ));
            }
            args.iter()
                .zip(types)
                .map(|(e, t)| parse(e, t, param))
                .collect()
        }
        (Fields::Named(types), Given::Named(given, rest)) => {
            if rest {
                return error(format!(
                    "write every field of `{name}` for `{param}`; `..` cannot be specialized"
                ));
            }
            let mut out = Vec::new();
            for (field, ty) in types {
                let found = given
                    .iter()
                    .find(|(m, _)| matches!(m, syn::Member::Named(i) if i == field));
                let Some((_, e)) = found else {
                    return error(format!("missing field `{field}` of `{name}` for `{param}`"));
                };
                out.push(parse(e, ty, param)?);
            }
            if let Some((extra, _)) = given.iter().find(|(m, _)| {
                !types
                    .iter()
                    .any(|(f, _)| matches!(m, syn::Member::Named(i) if i == f))
            }) {
                return Err(syn::Error::new_spanned(
                    extra,
                    format!("`{name}` has no field `{}`", text(extra)),
                ));
            }
            Ok(out)
        }
        (Fields::Unit, _) => error(format!("`{}` has no fields; write it alone", text(expr))),
        (Fields::Tuple(_), _) => error(format!(
            "`{}` has unnamed fields; write them in parentheses",
            text(expr)
        )),
        (Fields::Named(_), _) => error(format!(
            "`{}` has named fields; write them in braces, `{{ field: value, .. }}`",
            text(expr)
        )),
    }
}

/// A float as the literal renderer writes it,
/// `::core::primitive::f64::from_bits(0x..u64)` (or `f32` and `u32`): which
/// of the two it names, and its bits when they are an integer literal that
/// `from_bits` takes (unsuffixed or with the suffix of its width, within
/// that width).
pub(crate) fn float_bits(expr: &Expr) -> Option<(Scalar, Option<u64>)> {
    let Expr::Call(call) = expr else { return None };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    let names: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let (kind, width) = match names
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [.., "f32", "from_bits"] => (Scalar::F32, "u32"),
        [.., "f64", "from_bits"] => (Scalar::F64, "u64"),
        _ => return None,
    };
    let bits = match call.args.iter().collect::<Vec<_>>().as_slice() {
        [
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }),
        ] if i.suffix().is_empty() || i.suffix() == width => i
            .base10_parse::<u64>()
            .ok()
            .filter(|&b| kind == Scalar::F64 || u32::try_from(b).is_ok()),
        _ => None,
    };
    Some((kind, bits))
}

/// An example value of `ty`, for messages.
fn example(ty: &ValueTy) -> String {
    match ty {
        ValueTy::Scalar(Scalar::F32 | Scalar::F64) => "1.0, 2.0".into(),
        ValueTy::Scalar(Scalar::Bool) => "true, false".into(),
        ValueTy::Scalar(Scalar::Str) => "\"a\", \"b\"".into(),
        ValueTy::Scalar(Scalar::Char) => "'a', 'b'".into(),
        ValueTy::Scalar(_) => "1, 2".into(),
        other => format!("a `{}`, ..", other.describe()),
    }
}

/// `value` of type `ty` as a constant expression of that type, written as
/// the literal renderer writes it: integers with their suffix, floats by
/// their bits, slices behind `&`, module types by `self::` paths.
pub(crate) fn tokens(value: &Value, ty: &ValueTy, span: Span) -> TokenStream {
    match (value, ty) {
        (Value::Seq(items), ValueTy::Slice(elem)) => {
            let items = items.iter().map(|v| tokens(v, elem, span));
            quote!(&[#(#items),*])
        }
        (Value::Seq(items), ValueTy::Array(elem, _)) => {
            let items = items.iter().map(|v| tokens(v, elem, span));
            quote!([#(#items),*])
        }
        (Value::Tuple(items), ValueTy::Tuple(types)) => {
            let items = items.iter().zip(types).map(|(v, t)| tokens(v, t, span));
            quote!((#(#items,)*))
        }
        (Value::Opt(None), _) => quote!(::core::option::Option::None),
        (Value::Opt(Some(v)), ValueTy::Option(elem)) => {
            let v = tokens(v, elem, span);
            quote!(::core::option::Option::Some(#v))
        }
        (Value::Module { variant, fields }, ValueTy::Module(m)) => {
            let name = &m.name;
            let (path, shape) = match (variant, &m.kind) {
                (None, ModuleKind::Struct(f)) => (quote!(self::#name), f),
                (Some((i, v)), ModuleKind::Enum(variants)) => {
                    (quote!(self::#name::#v), &variants[*i].1)
                }
                _ => unreachable!("a value checked against its type"),
            };
            match shape {
                Fields::Unit => path,
                Fields::Tuple(types) => {
                    let items = fields.iter().zip(types).map(|(v, t)| tokens(v, t, span));
                    quote!(#path(#(#items),*))
                }
                Fields::Named(types) => {
                    let items = fields.iter().zip(types).map(|(v, (f, t))| {
                        let v = tokens(v, t, span);
                        quote!(#f: #v)
                    });
                    quote!(#path { #(#items),* })
                }
            }
        }
        (scalar, _) => scalar.scalar_tokens(span),
    }
}

/// A `bool` expression: whether `place`, an expression of type `&T` for
/// `T` the type `ty`, is `value` (floats by their bits). `depth` keeps the
/// names it binds apart.
pub(crate) fn test(value: &Value, ty: &ValueTy, place: TokenStream, depth: usize) -> TokenStream {
    let bound = format_ident!("__staged_t{}", depth);
    match (value, ty) {
        (Value::F32(bits), _) => {
            let bits = Literal::u32_suffixed(*bits);
            quote!(::core::primitive::f32::to_bits(*#place) == #bits)
        }
        (Value::F64(bits), _) => {
            let bits = Literal::u64_suffixed(*bits);
            quote!(::core::primitive::f64::to_bits(*#place) == #bits)
        }
        (Value::Seq(items), ValueTy::Slice(elem) | ValueTy::Array(elem, _)) => {
            let n = Literal::usize_unsuffixed(items.len());
            let tests = items.iter().enumerate().map(|(i, v)| {
                let i = Literal::usize_unsuffixed(i);
                test(v, elem, quote!(&#bound[#i]), depth + 1)
            });
            quote!({
                let #bound = #place;
                #bound.len() == #n #(&& #tests)*
            })
        }
        (Value::Tuple(items), ValueTy::Tuple(types)) => {
            let tests = items.iter().zip(types).enumerate().map(|(i, (v, t))| {
                let i = syn::Index::from(i);
                test(v, t, quote!(&#bound.#i), depth + 1)
            });
            quote!({
                let #bound = #place;
                true #(&& #tests)*
            })
        }
        (Value::Opt(None), _) => quote!(::core::option::Option::is_none(#place)),
        (Value::Opt(Some(v)), ValueTy::Option(elem)) => {
            let inner = test(v, elem, quote!(#bound), depth + 1);
            quote!(match #place {
                ::core::option::Option::Some(#bound) => #inner,
                ::core::option::Option::None => false,
            })
        }
        (Value::Module { variant, fields }, ValueTy::Module(m)) => {
            let name = &m.name;
            let (path, shape) = match (variant, &m.kind) {
                (None, ModuleKind::Struct(f)) => (quote!(self::#name), f),
                (Some((i, v)), ModuleKind::Enum(variants)) => {
                    (quote!(self::#name::#v), &variants[*i].1)
                }
                _ => unreachable!("a value checked against its type"),
            };
            let names: Vec<Ident> = (0..fields.len())
                .map(|i| format_ident!("__staged_t{}_{}", depth, i))
                .collect();
            let types = shape.types();
            let tests = fields
                .iter()
                .zip(&types)
                .zip(&names)
                .map(|((v, t), n)| test(v, t, quote!(#n), depth + 1));
            let pattern = match shape {
                Fields::Unit => path,
                Fields::Tuple(_) => quote!(#path(#(#names),*)),
                Fields::Named(f) => {
                    let members = f.iter().map(|(f, _)| f);
                    quote!(#path { #(#members: #names),* })
                }
            };
            quote!({
                #[allow(unreachable_patterns)]
                match #place {
                    #pattern => true #(&& #tests)*,
                    _ => false,
                }
            })
        }
        (scalar, _) => {
            let lit = scalar.scalar_tokens(Span::call_site());
            quote!(*#place == #lit)
        }
    }
}

/// The span of `expr`, for values made from it.
pub(crate) fn span_of(expr: &Expr) -> Span {
    expr.span()
}
