//! Semantic checks of `#[specialize]` against the function it is on. Every
//! independent mistake is reported; the result is the [`Plan`] that
//! `expand/` turns into code. One concern per file:
//!
//! - `options.rs`: the options besides parameters (`runtime = …`);
//! - `values.rs`: each parameter's listed values and ranges, and their
//!   combinations;
//! - `signature.rs`: the shapes of function supported, and what a run-time
//!   function's signature may hold.

mod options;
mod signature;
#[cfg(test)]
mod tests;
mod values;

use proc_macro2::Span;
use syn::{Ident, ItemFn, Token};

use super::args::{Args, Value as ArgValue};
use super::module_types::ModuleType;
use super::promote;
use super::types::Scalar;
use super::value::Listed;
use super::value_type::ValueTy;
use crate::errors::Errors;
use options::*;
use signature::*;
use values::*;

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
    /// Its type as declared.
    pub(crate) ty: syn::Type,
    /// Its type as a value type.
    pub(crate) value: ValueTy,
}

impl Spec {
    /// Its scalar type, unless it is a structured value.
    pub(crate) fn scalar(&self) -> Option<Scalar> {
        self.value.scalar()
    }
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
                let module = ctx.module.unwrap_or(&[]);
                if let Some(spec) = param_entry(entry, &func, module, runtime, &mut errors) {
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
    {
        let specs: Vec<&Spec> = specs.iter().map(|(s, _)| s).collect();
        super::unroll::check_refs(&func, &specs, &mut errors);
    }
    let mut combos = combinations(&args.entries, &specs, runtime, &mut errors);
    // Every parameter the attribute names, even one refused above: its
    // value never crosses into a variant.
    let specialized: Vec<usize> = args
        .entries
        .iter()
        .filter(|e| !matches!(e.value, ArgValue::Other(_)))
        .filter_map(|e| param_named(&func, &e.key).map(|(i, _, _)| i))
        .collect();
    check_signature(&func, shape, runtime, ctx, &specialized, &mut errors);
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

/// `specialize`, `staged::specialize` or `::staged::specialize` (or the
/// name the crate gave `staged`).
pub(crate) fn is_specialize(path: &syn::Path) -> bool {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match names.as_slice() {
        [name] => path.leading_colon.is_none() && name == "specialize",
        [_, name] => crate::krate::is_staged(&path.segments[0].ident) && name == "specialize",
        _ => false,
    }
}
