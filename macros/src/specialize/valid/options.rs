//! The options `#[specialize]` takes besides parameters.

use syn::{Expr, Ident, ItemFn};

use super::*;
use crate::errors::Errors;
use crate::specialize::args::{Entry, Value as ArgValue};
use crate::specialize::value::text;

/// Whether stage 3 is on for the function: the feature, unless
/// `runtime = false` turns it off. A malformed option is reported by
/// [`option_entry`].
pub(super) fn runtime_setting(entries: &[Entry], func: &ItemFn, stage3: bool) -> bool {
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
pub(super) fn option_entry(
    key: &Ident,
    expr: &Expr,
    func: &ItemFn,
    stage3: bool,
    errors: &mut Errors,
) {
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
