//! Semantic checks of `#[specialize]` against the function it is on. Every
//! independent mistake is reported; the result is the [`Plan`] that
//! `expand.rs` turns into code.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Expr, FnArg, Ident, ItemFn, Pat, ReturnType, Token, Type};

use super::args::{Args, Entry, Value as ArgValue};
use super::isolation;
use super::types::{Scalar, non_portable};
use super::value::{Listed, Value};
use crate::errors::Errors;

/// At most this many static variants per function.
pub(crate) const MAX_VARIANTS: usize = 256;
/// At most this many specialized parameters per function (the run-time
/// table's key is a tuple of at most this many parts).
pub(crate) const MAX_PARAMS: usize = 8;

const RUNTIME_HINT: &str =
    "add `runtime = false` to `#[specialize]` to specialize at compile time only";

/// What to emit for one function.
pub(crate) struct Plan {
    pub(crate) func: ItemFn,
    pub(crate) shape: Shape,
    /// Stage 3 is on for this function.
    pub(crate) runtime: bool,
    /// The specialized parameters, in signature order.
    pub(crate) specs: Vec<Spec>,
    /// The static variants: one value per spec, in spec order.
    pub(crate) combos: Vec<Vec<Listed>>,
}

/// Where the function lives, which decides how variants are emitted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A free function: variants are functions, with a companion module.
    Free,
    /// A method or an associated function using `Self`: variants are arms of
    /// the function's own body, and there is no companion module.
    Assoc,
}

/// A specialized parameter.
pub(crate) struct Spec {
    /// Its index in the signature's inputs.
    pub(crate) position: usize,
    pub(crate) ident: Ident,
    pub(crate) mutability: Option<Token![mut]>,
    pub(crate) ty: Type,
    pub(crate) scalar: Scalar,
}

/// Checks `args` against `func`. `stage3` says whether the `runtime` feature
/// of staged is on.
pub(crate) fn check(args: Args, func: ItemFn, stage3: bool) -> syn::Result<Plan> {
    let mut errors = Errors::default();
    let runtime = runtime_option(&args, &func, stage3, &mut errors);
    let shape = shape_of(&func);
    let mut specs: Vec<(Spec, Option<Vec<Listed>>)> = Vec::new();
    for entry in &args.entries {
        if let Some(spec) = param_entry(entry, &func, runtime, &mut errors) {
            specs.push(spec);
        }
    }
    if args
        .entries
        .iter()
        .all(|e| matches!(e.value, ArgValue::Other(_)))
    {
        errors.push(syn::Error::new(
            Span::call_site(),
            "`#[specialize]` needs a parameter to specialize, as in `#[specialize(n = [1, 2])]`",
        ));
    }
    if specs.len() > MAX_PARAMS {
        errors.at(
            &specs[MAX_PARAMS].0.ident,
            format_args!("`#[specialize]` specializes at most {MAX_PARAMS} parameters"),
        );
    }
    specs.sort_by_key(|(s, _)| s.position);
    let combos = combinations(&specs, &mut errors);
    check_signature(&func, shape, runtime, &mut errors);
    let specs = specs.into_iter().map(|(s, _)| s).collect();
    errors.finish(Plan {
        func,
        shape,
        runtime,
        specs,
        combos,
    })
}

/// Reads `runtime = ..` and reports options that do not exist.
fn runtime_option(args: &Args, func: &ItemFn, stage3: bool, errors: &mut Errors) -> bool {
    let mut runtime = stage3;
    for Entry { key, value } in &args.entries {
        let ArgValue::Other(expr) = value else {
            continue;
        };
        if param_named(func, key).is_some() {
            errors.at(
                expr,
                format_args!(
                    "list the values of `{key}` in brackets, as in `{key} = [{}]`",
                    expr.to_token_stream()
                ),
            );
        } else if key == "runtime" {
            match expr {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Bool(b),
                    ..
                }) => {
                    if b.value && !stage3 {
                        errors.at(
                            b,
                            "run-time specialization needs the `runtime` feature of staged, which is disabled",
                        );
                    }
                    runtime = b.value && stage3;
                }
                other => errors.at(other, "`runtime` takes `true` or `false`"),
            }
        } else {
            errors.at(
                key,
                format_args!("unknown option `{key}`; the options are `runtime`"),
            );
        }
    }
    runtime
}

/// Checks one `param = values` entry; `None` for options and errors.
fn param_entry(
    entry: &Entry,
    func: &ItemFn,
    runtime: bool,
    errors: &mut Errors,
) -> Option<(Spec, Option<Vec<Listed>>)> {
    let key = &entry.key;
    if matches!(entry.value, ArgValue::Other(_)) {
        return None;
    }
    let Some((position, pat, ty)) = param_named(func, key) else {
        let names = param_names(func);
        let list = if names.is_empty() {
            "the function has no named parameters".to_owned()
        } else {
            format!("the function's parameters are {}", names.join(", "))
        };
        errors.at(key, format_args!("unknown parameter `{key}`; {list}"));
        return None;
    };
    let Some(scalar) = Scalar::of(ty) else {
        errors.at(
            ty,
            format_args!(
                "parameter `{key}` has type `{}`, which cannot be specialized; specializable types are integers, `bool`, `char`, `f32`, `f64` and `&str`",
                ty.to_token_stream().to_string().replace(" ,", ",")
            ),
        );
        return None;
    };
    let values = match &entry.value {
        ArgValue::Bare => {
            if !runtime {
                errors.at(
                    key,
                    format_args!(
                        "`{key}` lists no values and run-time specialization is off for this function; list values, as in `{key} = [1, 2]`"
                    ),
                );
            }
            None
        }
        ArgValue::List { list, items } => list_values(key, scalar, list, items, errors),
        ArgValue::Range {
            range,
            start,
            end,
            inclusive,
        } => range_values(key, scalar, range, start, end, *inclusive, errors),
        ArgValue::Other(_) => return None,
    };
    let spec = Spec {
        position,
        ident: pat.ident.clone(),
        mutability: pat.mutability,
        ty: ty.clone(),
        scalar,
    };
    Some((spec, values))
}

fn list_values(
    key: &Ident,
    scalar: Scalar,
    list: &Expr,
    items: &[Expr],
    errors: &mut Errors,
) -> Option<Vec<Listed>> {
    if items.is_empty() {
        errors.at(
            list,
            format_args!(
                "empty list of values for `{key}`; list at least one, or write `{key}` alone to specialize it at run time only"
            ),
        );
        return None;
    }
    let mut values: Vec<Listed> = Vec::new();
    for item in items {
        let Some(listed) = errors.take(Value::parse(item, scalar, key)) else {
            continue;
        };
        if values.iter().any(|v| v.value == listed.value) {
            errors.push(syn::Error::new(
                listed.span,
                format_args!("duplicate value `{}` for `{key}`", listed.value.display()),
            ));
            continue;
        }
        values.push(listed);
    }
    Some(values)
}

fn range_values(
    key: &Ident,
    scalar: Scalar,
    range: &Expr,
    start: &Expr,
    end: &Expr,
    inclusive: bool,
    errors: &mut Errors,
) -> Option<Vec<Listed>> {
    let Scalar::Int(ty) = scalar else {
        errors.at(
            range,
            format_args!(
                "ranges work for integer parameters only; `{key}` is `{}`, so list its values",
                scalar.describe()
            ),
        );
        return None;
    };
    let start = errors.take(Value::parse(start, scalar, key))?;
    let end = errors.take(Value::parse(end, scalar, key))?;
    let as_i128 = |v: &Value| match *v {
        // Magnitudes above i128::MAX only occur for u128; shift them down so
        // the arithmetic below stays in range.
        Value::Int {
            negative,
            magnitude,
            ..
        } => {
            let m = i128::try_from(magnitude).unwrap_or(i128::MAX);
            if negative { -m } else { m }
        }
        _ => 0,
    };
    let (lo, hi) = (
        as_i128(&start.value),
        as_i128(&end.value) - i128::from(!inclusive),
    );
    let count = hi
        .checked_sub(lo)
        .map_or(u128::MAX, |d| (d as u128).wrapping_add(1));
    if hi < lo {
        errors.at(range, format_args!("the range of `{key}` is empty"));
        return None;
    }
    if count > MAX_VARIANTS as u128 {
        errors.at(
            range,
            format_args!(
                "the range of `{key}` has {count} values; `#[specialize]` creates at most {MAX_VARIANTS} variants"
            ),
        );
        return None;
    }
    let span = start.span;
    Some(
        (lo..=hi)
            .map(|v| Listed {
                value: Value::Int {
                    negative: v < 0,
                    magnitude: v.unsigned_abs(),
                    ty,
                },
                span,
            })
            .collect(),
    )
}

/// The product of the value lists, in signature order. Empty when any
/// parameter is specialized at run time only.
fn combinations(specs: &[(Spec, Option<Vec<Listed>>)], errors: &mut Errors) -> Vec<Vec<Listed>> {
    let Some(lists) = specs
        .iter()
        .map(|(_, v)| v.as_ref())
        .collect::<Option<Vec<_>>>()
    else {
        return Vec::new();
    };
    if lists.is_empty() {
        return Vec::new();
    }
    let total = lists
        .iter()
        .try_fold(1usize, |acc, l| acc.checked_mul(l.len()));
    if total.is_none_or(|t| t > MAX_VARIANTS) {
        let sizes: Vec<String> = lists.iter().map(|l| l.len().to_string()).collect();
        errors.push(syn::Error::new(
            Span::call_site(),
            format_args!(
                "`#[specialize]` would create {} variants ({}); the limit is {MAX_VARIANTS}",
                total.map_or_else(|| "too many".to_owned(), |t| t.to_string()),
                sizes.join(" × ")
            ),
        ));
        return Vec::new();
    }
    let mut combos: Vec<Vec<Listed>> = vec![Vec::new()];
    for list in lists {
        combos = combos
            .into_iter()
            .flat_map(|prefix| {
                list.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    combos
}

/// Checks the shapes of function `#[specialize]` supports, and for stage 3,
/// that the function can be built on its own.
fn check_signature(func: &ItemFn, shape: Shape, runtime: bool, errors: &mut Errors) {
    let sig = &func.sig;
    if let Some(c) = &sig.constness {
        errors.at(
            c,
            "a `const fn` cannot be specialized: its dispatcher could not be `const`",
        );
    }
    if let Some(v) = &sig.variadic {
        errors.at(v, "a variadic function cannot be specialized");
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        if let Some(t) = find_impl_trait(ty) {
            errors.at(
                t,
                "a return type of `impl Trait` cannot be specialized: every variant would return a different type",
            );
        }
    }
    if !runtime {
        return;
    }
    if let Some(a) = &sig.asyncness {
        errors.at(
            a,
            format_args!("an `async fn` cannot be specialized at run time; {RUNTIME_HINT}"),
        );
    }
    if let Some(receiver) = sig.receiver() {
        errors.at(
            &receiver.self_token,
            format_args!("a method cannot be specialized at run time: the variant is built without its type; {RUNTIME_HINT}"),
        );
    } else if shape == Shape::Assoc {
        let token = find_self_type(func.to_token_stream());
        errors.push(syn::Error::new(
            token.unwrap_or_else(Span::call_site),
            format_args!("an associated function using `Self` cannot be specialized at run time; {RUNTIME_HINT}"),
        ));
    }
    let generic_params: Vec<_> = sig
        .generics
        .params
        .iter()
        .filter(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
        .collect();
    if let Some(first) = generic_params.first() {
        errors.at(
            first,
            format_args!("a generic function cannot be specialized at run time: the variant is built without its type arguments; {RUNTIME_HINT}"),
        );
    }
    for input in &sig.inputs {
        if let FnArg::Typed(t) = input {
            portable(&t.ty, errors);
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        portable(ty, errors);
    }
    let body = func
        .block
        .stmts
        .iter()
        .map(ToTokens::to_token_stream)
        .collect::<TokenStream>();
    isolation::check(body, errors);
}

fn portable(ty: &Type, errors: &mut Errors) {
    if let Some(t) = find_impl_trait(ty) {
        errors.at(
            t,
            format_args!("an `impl Trait` parameter makes the function generic, which cannot be specialized at run time; {RUNTIME_HINT}"),
        );
    } else if let Some(bad) = non_portable(ty) {
        errors.at(
            bad,
            format_args!(
                "type `{}` cannot cross into a run-time variant, which takes primitives, arrays, tuples, references, slices and `&str`; {RUNTIME_HINT}",
                bad.to_token_stream().to_string().replace(" ,", ",").replace("< ", "<").replace(" <", "<").replace(" >", ">")
            ),
        );
    }
}

fn find_impl_trait(ty: &Type) -> Option<&Type> {
    match ty {
        Type::ImplTrait(_) => Some(ty),
        Type::Group(g) => find_impl_trait(&g.elem),
        Type::Paren(p) => find_impl_trait(&p.elem),
        Type::Reference(r) => find_impl_trait(&r.elem),
        Type::Slice(s) => find_impl_trait(&s.elem),
        Type::Array(a) => find_impl_trait(&a.elem),
        Type::Tuple(t) => t.elems.iter().find_map(find_impl_trait),
        _ => None,
    }
}

/// A method, or an associated function that mentions `Self`.
fn shape_of(func: &ItemFn) -> Shape {
    if func.sig.receiver().is_some() || find_self_type(func.to_token_stream()).is_some() {
        Shape::Assoc
    } else {
        Shape::Free
    }
}

fn find_self_type(tokens: TokenStream) -> Option<Span> {
    tokens.into_iter().find_map(|t| match t {
        TokenTree::Ident(i) if i == "Self" => Some(i.span()),
        TokenTree::Group(g) => find_self_type(g.stream()),
        _ => None,
    })
}

/// The parameter bound to the plain name `name`.
fn param_named<'a>(func: &'a ItemFn, name: &Ident) -> Option<(usize, &'a syn::PatIdent, &'a Type)> {
    func.sig
        .inputs
        .iter()
        .enumerate()
        .find_map(|(i, input)| match input {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) if p.ident == *name && p.by_ref.is_none() && p.subpat.is_none() => {
                    Some((i, p, &*t.ty))
                }
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
}

fn param_names(func: &ItemFn) -> Vec<String> {
    func.sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => Some(format!("`{}`", p.ident)),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect()
}
