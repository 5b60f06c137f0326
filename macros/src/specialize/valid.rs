//! Semantic checks of `#[specialize]` against the function it is on. Every
//! independent mistake is reported; the result is the [`Plan`] that
//! `expand.rs` turns into code.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Expr, FnArg, Ident, ItemFn, Pat, ReturnType, Token, Type};

use super::args::{Args, Entry, Value as ArgValue};
use super::module_types::{self, ModuleType};
use super::types::{Scalar, display, non_portable};
use super::value::{Listed, Value, text};
use super::{hygiene, isolation, names, promote};
use crate::errors::Errors;

/// At most this many static variants per function.
pub(crate) const MAX_VARIANTS: usize = 256;
/// At most this many specialized parameters per function (the run-time
/// table's key is a tuple of at most this many parts).
pub(crate) const MAX_PARAMS: usize = 8;

const RUNTIME_HINT: &str =
    "add `runtime = false` to `#[specialize]` to specialize at compile time only";

/// Where the function is declared, which decides what its body may use.
#[derive(Clone, Copy, Default)]
pub(crate) struct Context<'a> {
    /// In a `#[staged::self_contained]` module: the types it declares. A
    /// run-time body there may use every item of the module.
    pub(crate) module: Option<&'a [ModuleType]>,
}

/// What to emit for one function.
pub(crate) struct Plan {
    pub(crate) func: ItemFn,
    pub(crate) shape: Shape,
    /// The types of the module the function is in, if it is in a
    /// `#[staged::self_contained]` one.
    pub(crate) module_types: Option<Vec<ModuleType>>,
    /// Stage 3 is on for this function.
    pub(crate) runtime: bool,
    /// The specialized parameters, in signature order.
    pub(crate) specs: Vec<Spec>,
    /// The static variants: one value per spec, in spec order (those a
    /// profile promoted after the listed ones).
    pub(crate) combos: Vec<Vec<Listed>>,
    /// Warnings for the build (a profile's values that were skipped).
    pub(crate) warnings: Vec<String>,
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
    pub(crate) scalar: Scalar,
}

/// The options `#[specialize]` takes besides parameters.
const OPTIONS: [&str; 1] = ["runtime"];

/// Checks `args` against `func`. `stage3` says whether the `runtime` feature
/// of staged is on.
pub(crate) fn check(args: Args, func: ItemFn, stage3: bool, ctx: Context<'_>) -> syn::Result<Plan> {
    let mut errors = Errors::default();
    let rejected_keys = !args.rejected.is_empty();
    for error in args.rejected {
        errors.push(error);
    }
    if let Some(again) = func.attrs.iter().find(|a| is_specialize(a.path())) {
        errors.at(
            again,
            "`#[specialize]` is applied twice to this function; put all its parameters in one `#[specialize(...)]`",
        );
    }
    let runtime = runtime_setting(&args.entries, &func, stage3);
    let shape = shape_of(&func);
    let mut specs: Vec<(Spec, Option<Vec<Listed>>)> = Vec::new();
    // One pass in the order written, so that the errors come in that order.
    for entry in &args.entries {
        match &entry.value {
            ArgValue::Other(expr) => option_entry(&entry.key, expr, &func, stage3, &mut errors),
            _ => {
                if let Some(spec) = param_entry(entry, &func, runtime, &mut errors) {
                    specs.push(spec);
                }
            }
        }
    }
    // An entry that names a parameter, even wrongly, or a rejected key already
    // has its own error; this one is for an attribute without parameters.
    let names_a_parameter = args
        .entries
        .iter()
        .any(|e| !matches!(e.value, ArgValue::Other(_)) || param_named(&func, &e.key).is_some());
    if !names_a_parameter && !rejected_keys {
        errors.push(syn::Error::new(
            Span::call_site(),
            "`#[specialize]` needs a parameter to specialize, as in `#[specialize(n = [1, 2])]`",
        ));
    }
    if let Some((extra, _)) = specs.get(MAX_PARAMS) {
        // The key in the attribute, not the parameter in the signature.
        let key = args
            .entries
            .iter()
            .find(|e| e.key == extra.ident)
            .map(|e| &e.key);
        errors.at(
            key.unwrap_or(&extra.ident),
            format_args!(
                "`#[specialize]` specializes at most {MAX_PARAMS} parameters, and `{}` is one more; list fewer",
                extra.ident
            ),
        );
    }
    specs.sort_by_key(|(s, _)| s.position);
    let mut combos = combinations(&args.entries, &specs, runtime, &mut errors);
    check_signature(&func, shape, runtime, ctx, &mut errors);
    let specs: Vec<Spec> = specs.into_iter().map(|(s, _)| s).collect();
    // Values a profile recorded at run time, promoted to static variants.
    let promoted = if runtime && shape == Shape::Free {
        promote::promoted(&func, &specs, &combos)
    } else {
        promote::Promoted::default()
    };
    combos.extend(promoted.combos);
    errors.finish(Plan {
        warnings: promoted.warnings,
        func,
        shape,
        module_types: ctx.module.map(<[ModuleType]>::to_vec),
        runtime,
        specs,
        combos,
    })
}

/// `specialize`, `staged::specialize` or `::staged::specialize`.
pub(crate) fn is_specialize(path: &syn::Path) -> bool {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match names.as_slice() {
        [name] => path.leading_colon.is_none() && name == "specialize",
        [krate, name] => krate == "staged" && name == "specialize",
        _ => false,
    }
}

/// Whether stage 3 is on for the function: the feature, unless
/// `runtime = false` turns it off. A malformed option is reported by
/// [`option_entry`].
fn runtime_setting(entries: &[Entry], func: &ItemFn, stage3: bool) -> bool {
    entries
        .iter()
        .fold(stage3, |on, Entry { key, value }| match value {
            ArgValue::Other(expr) if key == "runtime" && param_named(func, key).is_none() => {
                match &**expr {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Bool(b),
                        ..
                    }) => b.value && stage3,
                    _ => on,
                }
            }
            _ => on,
        })
}

/// Checks `key = expr` where `expr` is neither a list nor a range: an option,
/// or a parameter whose values lack their brackets.
fn option_entry(key: &Ident, expr: &Expr, func: &ItemFn, stage3: bool, errors: &mut Errors) {
    if param_named(func, key).is_some() {
        if let Expr::Range(range) = expr {
            errors.at(
                range,
                format_args!(
                    "the range `{}` for `{key}` needs both ends, as in `{key} = 0..=8`",
                    text(range)
                ),
            );
        } else {
            errors.at(
                expr,
                format_args!(
                    "list the values of `{key}` in brackets, as in `{key} = [{}]`",
                    text(expr)
                ),
            );
        }
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
            }
            other => errors.at(
                other,
                format_args!("`runtime` takes `true` or `false`, found `{}`", text(other)),
            ),
        }
    } else {
        let options = OPTIONS.map(|o| format!("`{o}`"));
        let list = match options.as_slice() {
            [only] => format!("the only option is {only}"),
            all => format!("the options are {}", all.join(", ")),
        };
        errors.at(key, format_args!("unknown option `{key}`; {list}"));
    }
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
        if let Some(pattern) = pattern_binding(func, key) {
            errors.at(
                key,
                format_args!(
                    "`{key}` is bound inside the pattern `{}`, not a parameter of its own; only a parameter written as `name: type` can be specialized",
                    text(pattern)
                ),
            );
            return None;
        }
        let names = param_names(func);
        let list = match names.as_slice() {
            [] => "the function has no named parameters".to_owned(),
            [only] => format!("the function's only parameter is {only}"),
            all => format!("the function's parameters are {}", all.join(", ")),
        };
        errors.at(key, format_args!("unknown parameter `{key}`; {list}"));
        return None;
    };
    let Some(scalar) = Scalar::of(ty) else {
        errors.at(
            ty,
            format_args!(
                "parameter `{key}` has type `{}`, which cannot be specialized; specializable types are integers, `bool`, `char`, `f32`, `f64` and `&str`",
                display(ty)
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
        ArgValue::List { list, items } => list_values(key, scalar, list, items, runtime, errors),
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
        scalar,
    };
    Some((spec, values))
}

fn list_values(
    key: &Ident,
    scalar: Scalar,
    list: &Expr,
    items: &[Expr],
    runtime: bool,
    errors: &mut Errors,
) -> Option<Vec<Listed>> {
    if items.is_empty() {
        let alternative = if runtime {
            format!(", or write `{key}` alone to specialize it at run time only")
        } else {
            String::new()
        };
        errors.at(
            list,
            format_args!("empty list of values for `{key}`; list at least one{alternative}"),
        );
        return None;
    }
    let mut values: Vec<(Listed, &Expr)> = Vec::new();
    for item in items {
        let Some(listed) = errors.take(Value::parse(item, scalar, key)) else {
            continue;
        };
        if let Some((_, earlier)) = values.iter().find(|(v, _)| v.value == listed.value) {
            let (written, earlier) = (text(item), text(earlier));
            let same = if written == earlier {
                String::new()
            } else {
                format!(", equal to `{earlier}` listed before it")
            };
            errors.at(
                item,
                format_args!("duplicate value `{written}` for `{key}`{same}; list each value once"),
            );
            continue;
        }
        values.push((listed, item));
    }
    Some(values.into_iter().map(|(v, _)| v).collect())
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
    let first = errors.take(Value::parse(start, scalar, key));
    let last = errors.take(Value::parse(end, scalar, key));
    let (first, last) = (first?, last?);
    // Values as offsets from the type's minimum, which fit `u128` for every
    // integer type, `u128` included.
    let offset = |v: &Value| match *v {
        Value::Int {
            negative,
            magnitude,
            ..
        } => {
            let min = ty.max_magnitude(true);
            if negative {
                min - magnitude
            } else {
                min + magnitude
            }
        }
        _ => 0,
    };
    let lo = offset(&first.value);
    let hi = match (offset(&last.value), inclusive) {
        (hi, true) => Some(hi),
        (hi, false) => hi.checked_sub(1),
    };
    let Some(hi) = hi.filter(|&hi| hi >= lo) else {
        let hint = if !inclusive && lo == offset(&last.value) {
            format!(
                "; `..` leaves out its end, so write `{}..={}` for the single value",
                text(start),
                text(end)
            )
        } else {
            "; write the smaller end first".to_owned()
        };
        errors.at(
            range,
            format_args!("the range `{}` for `{key}` is empty{hint}", text(range)),
        );
        return None;
    };
    let count = (hi - lo).saturating_add(1);
    if count > MAX_VARIANTS as u128 {
        errors.at(
            range,
            format_args!(
                "the range `{}` for `{key}` has {count} values, more than the limit of {MAX_VARIANTS} variants; narrow it",
                text(range)
            ),
        );
        return None;
    }
    let min = ty.max_magnitude(true);
    let span = first.span;
    Some(
        (lo..=hi)
            .map(|offset| Listed {
                value: if offset < min {
                    Value::Int {
                        negative: true,
                        magnitude: min - offset,
                        ty,
                    }
                } else {
                    Value::Int {
                        negative: false,
                        magnitude: offset - min,
                        ty,
                    }
                },
                span,
                written: None,
            })
            .collect(),
    )
}

/// The product of the value lists, in signature order. Empty when any
/// parameter is specialized at run time only.
fn combinations(
    entries: &[Entry],
    specs: &[(Spec, Option<Vec<Listed>>)],
    runtime: bool,
    errors: &mut Errors,
) -> Vec<Vec<Listed>> {
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
        let sizes: Vec<String> = specs
            .iter()
            .zip(&lists)
            .map(|((spec, _), l)| format!("{} for `{}`", l.len(), spec.ident))
            .collect();
        let alternative = if runtime {
            ", or write a parameter alone to specialize it at run time only"
        } else {
            ""
        };
        // From the first listed parameter to the last list: the lists
        // together are the mistake.
        let listed = |e: &&Entry| matches!(e.value, ArgValue::List { .. } | ArgValue::Range { .. });
        let first = entries.iter().find(listed).map(|e| e.key.to_token_stream());
        let last = entries.iter().rev().find(listed).map(|e| match &e.value {
            ArgValue::List { list, .. } => list.to_token_stream(),
            ArgValue::Range { range, .. } => range.to_token_stream(),
            _ => TokenStream::new(),
        });
        errors.at(
            quote::quote!(#first #last),
            format_args!(
                "`#[specialize]` would create {} variants ({}); the limit is {MAX_VARIANTS}, so list fewer values{alternative}",
                total.map_or_else(|| "too many".to_owned(), |t| t.to_string()),
                sizes.join(" × ")
            ),
        );
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
fn check_signature(
    func: &ItemFn,
    shape: Shape,
    runtime: bool,
    ctx: Context<'_>,
    errors: &mut Errors,
) {
    let sig = &func.sig;
    if let Some(c) = &sig.constness {
        errors.at(
            c,
            "a `const fn` cannot be specialized: its dispatcher could not be `const`; remove `const`",
        );
    }
    if let Some(v) = &sig.variadic {
        errors.at(v, "a variadic function cannot be specialized");
    }
    if let ReturnType::Type(_, ty) = &sig.output
        && let Some(t) = find_impl_trait(ty)
    {
        errors.at(
            t,
            format_args!(
                "a return type of `{}` cannot be specialized: every variant would return a different type; name a concrete type",
                display(t)
            ),
        );
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
            receiver.self_token,
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
    // A type naming a generic parameter, or `Self`, is covered by an error
    // above.
    let self_type = Ident::new("Self", Span::call_site());
    let generic_names: Vec<&Ident> = generic_params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(&t.ident),
            syn::GenericParam::Const(c) => Some(&c.ident),
            syn::GenericParam::Lifetime(_) => None,
        })
        .chain([&self_type])
        .collect();
    for input in &sig.inputs {
        if let FnArg::Typed(t) = input {
            if let Some(t) = find_impl_trait(&t.ty) {
                errors.at(
                    t,
                    format_args!("an `impl Trait` parameter makes the function generic, which cannot be specialized at run time; {RUNTIME_HINT}"),
                );
            } else {
                portable(&t.ty, &generic_names, ctx, errors);
            }
        }
    }
    // An `impl Trait` return type has its own error above.
    if let ReturnType::Type(_, ty) = &sig.output
        && find_impl_trait(ty).is_none()
    {
        portable(ty, &generic_names, ctx, errors);
    }
    let body = func
        .block
        .stmts
        .iter()
        .map(ToTokens::to_token_stream)
        .collect::<TokenStream>();
    match ctx.module {
        Some(_) => isolation::check_in(body, isolation::Scope::Module, errors),
        None => {
            isolation::check(body.clone(), errors);
            // A method has its own error already; its names are its type's.
            if shape == Shape::Free {
                names::check(func, errors);
            }
        }
    }
    hygiene::check(func, RUNTIME_HINT, errors);
}

fn portable(ty: &Type, generic_names: &[&Ident], ctx: Context<'_>, errors: &mut Errors) {
    let types = ctx.module.unwrap_or(&[]);
    let Some(bad) = non_portable(ty, types) else {
        return;
    };
    let mentions_generic = bad
        .to_token_stream()
        .into_iter()
        .any(|t| mentions(t, generic_names));
    if mentions_generic {
        return;
    }
    match module_types::named(bad, types) {
        Some(t) if t.generic => errors.at(
            bad,
            format_args!(
                "type `{}` has type parameters, so its layout is not known until it is used; a run-time variant takes the module's `#[repr(C)]` types without them; {RUNTIME_HINT}",
                display(bad)
            ),
        ),
        Some(_) => errors.at(
            bad,
            format_args!(
                "type `{}` is declared in this module without `#[repr(C)]`, so its layout may differ between this program and a run-time library; add `#[repr(C)]` to it, or {RUNTIME_HINT}",
                display(bad)
            ),
        ),
        None => {
            let also = if ctx.module.is_some() {
                ", and the `#[repr(C)]` structs and enums of this module"
            } else {
                ""
            };
            errors.at(
                bad,
                format_args!(
                    "type `{}` cannot cross into a run-time variant, which takes primitives, arrays, tuples, references, slices and `&str`{also}; {RUNTIME_HINT}",
                    display(bad)
                ),
            );
        }
    }
}

fn mentions(token: TokenTree, names: &[&Ident]) -> bool {
    match token {
        TokenTree::Ident(i) => names.iter().any(|n| **n == i),
        TokenTree::Group(g) => g.stream().into_iter().any(|t| mentions(t, names)),
        _ => false,
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

/// The parameters that can be named in `#[specialize]`, quoted.
fn param_names(func: &ItemFn) -> Vec<String> {
    func.sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) if param_named(func, &p.ident).is_some() => {
                    Some(format!("`{}`", p.ident))
                }
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// The pattern of a parameter that binds `name` without being that
/// parameter: `(a, b)`, `ref a`, `a @ ..`.
fn pattern_binding<'a>(func: &'a ItemFn, name: &Ident) -> Option<&'a Pat> {
    struct Finder<'n> {
        name: &'n Ident,
        found: bool,
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.found |= p.ident == *self.name;
            syn::visit::visit_pat_ident(self, p);
        }
    }
    func.sig.inputs.iter().find_map(|input| {
        let FnArg::Typed(t) = input else { return None };
        let mut finder = Finder { name, found: false };
        syn::visit::Visit::visit_pat(&mut finder, &t.pat);
        finder.found.then_some(&*t.pat)
    })
}

#[cfg(test)]
mod tests {
    use super::{Context, Value, check};

    fn messages(args: &str, func: &str, stage3: bool) -> Vec<String> {
        match check(
            syn::parse_str(args).unwrap(),
            syn::parse_str(func).unwrap(),
            stage3,
            Context::default(),
        ) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn ranges_reach_the_ends_of_every_type() {
        let top = "340282366920938463463374607431768211455";
        let plan = check(
            syn::parse_str(&format!("n = {}..={top}", u128::MAX - 2)).unwrap(),
            syn::parse_str("fn f(n: u128) {}").unwrap(),
            false,
            Context::default(),
        )
        .ok()
        .unwrap();
        let values: Vec<u128> = plan
            .combos
            .iter()
            .map(|c| match c[0].value {
                Value::Int { magnitude, .. } => magnitude,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(values, [u128::MAX - 2, u128::MAX - 1, u128::MAX]);
        let plan = check(
            syn::parse_str("n = -128..-126").unwrap(),
            syn::parse_str("fn f(n: i8) {}").unwrap(),
            false,
            Context::default(),
        )
        .ok()
        .unwrap();
        let values: Vec<(bool, u128)> = plan
            .combos
            .iter()
            .map(|c| match c[0].value {
                Value::Int {
                    negative,
                    magnitude,
                    ..
                } => (negative, magnitude),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(values, [(true, 128), (true, 127)]);
    }

    #[test]
    fn errors_come_in_the_order_written_without_follow_ons() {
        let found = messages(
            "m = [1], n = [1, 1], runtime = 0",
            "fn f(x: u8, n: u32) {}",
            true,
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("unknown parameter `m`"));
        assert!(found[1].starts_with("duplicate value `1`"));
        assert!(found[2].starts_with("`runtime` takes"));
        assert_eq!(messages("n = 5", "fn f(n: u32) {}", true).len(), 1);
        assert_eq!(
            messages("n = [1]", "fn f<T>(x: T, n: u32) {}", true).len(),
            1
        );
        assert_eq!(
            messages("n = [1]", "fn f(n: u32) -> impl Sized {}", true).len(),
            1
        );
        assert_eq!(
            messages("n = [1]", "fn f(n: u32) -> Self {}", true).len(),
            1
        );
        assert_eq!(
            messages(
                "n = [1]",
                "#[staged::specialize(m = [2])] fn f(n: u32, m: u8) {}",
                true
            )
            .len(),
            1
        );
    }

    #[test]
    fn names_bound_by_patterns_are_explained() {
        let found = messages("a = [1]", "fn f((a, b): (u32, u32), n: u32) {}", true);
        assert!(
            found[0].contains("bound inside the pattern `(a, b)`"),
            "{found:?}"
        );
        let found = messages("m = [1]", "fn f(n: u32) {}", true);
        assert_eq!(
            found,
            ["unknown parameter `m`; the function's only parameter is `n`"]
        );
    }
}
