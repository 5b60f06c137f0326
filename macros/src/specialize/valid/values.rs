//! Each specialized parameter's values: lists, ranges, and their
//! combinations.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Expr, Ident, ItemFn};

use super::*;
use crate::errors::Errors;
use crate::specialize::args::{Entry, Value as ArgValue};
use crate::specialize::module_types::ModuleType;
use crate::specialize::structured;
use crate::specialize::types::{Scalar, display};
use crate::specialize::value::{Listed, Value, text};
use crate::specialize::value_type::ValueTy;

/// Checks one `param = values` entry; `None` for options and errors.
pub(super) fn param_entry(
    entry: &Entry,
    func: &ItemFn,
    module: &[ModuleType],
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
    let value_ty = match ValueTy::of(ty, module) {
        Ok(t) => t,
        Err(refused) => {
            let whole = std::ptr::eq(refused.ty, ty);
            let why = if whole || refused.why.starts_with('`') {
                refused.why.clone()
            } else {
                format!(
                    "`{}` is not a value type; {}",
                    display(refused.ty),
                    refused.why
                )
            };
            // A type of the user's own, outside a self-contained module.
            let user_type = module.is_empty()
                && refused.why.starts_with("specializable types")
                && matches!(refused.ty, syn::Type::Path(p) if p.path.segments.len() == 1
                    && p.path.segments[0].ident.to_string().starts_with(char::is_uppercase)
                    && !["Vec", "String", "Box", "Rc", "Arc", "HashMap", "BTreeMap", "Cow"]
                        .contains(&p.path.segments[0].ident.to_string().as_str()));
            let hint = if user_type {
                format!(
                    "; to specialize on a struct or enum of yours, declare `{}` and the function in a `#[staged::self_contained]` module",
                    display(refused.ty)
                )
            } else {
                String::new()
            };
            let sep = if whole && !refused.why.starts_with('`') {
                ";"
            } else {
                ":"
            };
            errors.at(
                ty,
                format_args!(
                    "parameter `{key}` has type `{}`, which cannot be specialized{sep} {why}{hint}",
                    display(ty)
                ),
            );
            return None;
        }
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
        ArgValue::List { list, items } => list_values(key, &value_ty, list, items, runtime, errors),
        ArgValue::Range {
            range,
            start,
            end,
            inclusive,
        } => range_values(key, &value_ty, range, start, end, *inclusive, errors),
        ArgValue::Other(_) => return None,
    };
    let spec = Spec {
        position,
        ident: pat.ident.clone(),
        mutability: pat.mutability,
        ty: ty.clone(),
        value: value_ty,
    };
    Some((spec, values))
}

pub(super) fn list_values(
    key: &Ident,
    ty: &ValueTy,
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
        let parsed = match ty {
            ValueTy::Scalar(scalar) => Value::parse(item, *scalar, key),
            structured => structured::parse(item, structured, key).map(|value| Listed {
                value,
                span: structured::span_of(item),
                written: Some(item.to_token_stream()),
            }),
        };
        let Some(listed) = errors.take(parsed) else {
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

pub(super) fn range_values(
    key: &Ident,
    ty: &ValueTy,
    range: &Expr,
    start: &Expr,
    end: &Expr,
    inclusive: bool,
    errors: &mut Errors,
) -> Option<Vec<Listed>> {
    let Some(scalar @ Scalar::Int(ty)) = ty.scalar() else {
        errors.at(
            range,
            format_args!(
                "ranges work for integer parameters only; `{key}` is `{}`, so list its values",
                ty.describe()
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
pub(super) fn combinations(
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
