//! Promotion: the values a profile recorded for a function become static
//! variants, as if they were listed in its attribute. The crate's build
//! script (`staged_build::promote_profile`) merges the profile into a file
//! and names it in `STAGED_PROMOTED`; here the entries of this crate whose
//! fingerprint is this function's are taken, hottest first, up to the
//! limit, through the same checks as listed values. Entries of another
//! version of a function of this name, and values that do not fit, are
//! skipped with a warning that names them.

use std::sync::OnceLock;

use quote::ToTokens;
use syn::{Expr, ItemFn};

use super::expand::render;
use super::types::Scalar;
use super::valid::{MAX_VARIANTS, Spec};
use super::value::{Listed, Value};
use staged_build::profile::Profile;
use staged_build::store::Hash32;

/// What a profile adds to a function.
#[derive(Default)]
pub(crate) struct Promoted {
    pub(crate) combos: Vec<Vec<Listed>>,
    pub(crate) warnings: Vec<String>,
}

/// The digest of a function's source, by which profiles name it: its
/// signature and body as the one text writes them.
pub(crate) fn fingerprint(func: &ItemFn) -> String {
    let mut tokens = func.sig.to_token_stream();
    func.block.to_tokens(&mut tokens);
    let text = render(&tokens);
    Hash32::of_parts([text.as_bytes(), crate::edition::current().as_bytes()]).to_string()
}

/// The crate being compiled, as profiles name it.
pub(crate) fn crate_name() -> String {
    #[allow(clippy::disallowed_methods)] // cargo's variable, not a STAGED_ setting
    let name = std::env::var("CARGO_CRATE_NAME");
    name.unwrap_or_default()
}

/// The merged profile the build script wrote, read once per compilation.
fn promoted_profile() -> Option<&'static (Profile, usize)> {
    static PROFILE: OnceLock<Option<(Profile, usize)>> = OnceLock::new();
    PROFILE
        .get_or_init(|| {
            #[allow(clippy::disallowed_methods)] // set by the crate's build script
            let path = std::env::var_os(staged_build::promote::PROMOTED_VAR)?;
            staged_build::promote::read_promoted(std::path::Path::new(&path)).ok()
        })
        .as_ref()
}

/// The combinations a profile adds to `func`, whose specialized parameters
/// are `specs` and whose listed combinations are `listed`.
pub(crate) fn promoted(func: &ItemFn, specs: &[Spec], listed: &[Vec<Listed>]) -> Promoted {
    let mut out = Promoted::default();
    let Some((profile, max)) = promoted_profile() else {
        return out;
    };
    let krate = crate_name();
    let print = fingerprint(func);
    let name = func.sig.ident.to_string();
    let is_this_name = |function: &str| function.rsplit("::").next() == Some(name.as_str());
    let stale = profile
        .entries()
        .filter(|(e, _)| e.krate == krate && e.fingerprint != print && is_this_name(&e.function))
        .count();
    if stale > 0 {
        out.warnings.push(format!(
            "{stale} value(s) of the profile for `{name}` are not promoted: they were recorded for another version of this function (record them again)"
        ));
    }
    let hottest = profile.hottest(&krate, &print);
    let mut seen: Vec<Vec<Value>> = listed
        .iter()
        .map(|c| c.iter().map(|l| l.value.clone()).collect())
        .collect();
    for (entry, _) in hottest {
        if out.combos.len() >= *max || listed.len() + out.combos.len() >= MAX_VARIANTS {
            break;
        }
        match combo(&entry.values, specs) {
            Ok(combo) => {
                let values: Vec<Value> = combo.iter().map(|l| l.value.clone()).collect();
                if !seen.contains(&values) {
                    seen.push(values);
                    out.combos.push(combo);
                }
            }
            Err(why) => out.warnings.push(format!(
                "the profile's value ({}) for `{name}` is not promoted: {why}",
                entry.values.join(", ")
            )),
        }
    }
    out
}

/// The profile's `values` as a combination of `specs`, checked as listed
/// values are.
fn combo(values: &[String], specs: &[Spec]) -> Result<Vec<Listed>, String> {
    if values.len() != specs.len() {
        return Err(format!(
            "{} value(s) for {} specialized parameter(s)",
            values.len(),
            specs.len()
        ));
    }
    values
        .iter()
        .zip(specs)
        .map(|(text, spec)| value(text, spec))
        .collect()
}

fn value(text: &str, spec: &Spec) -> Result<Listed, String> {
    let expr: Expr = syn::parse_str(text).map_err(|_| format!("`{text}` is not a literal"))?;
    // Floats as the renderer writes them, by their bits, and nothing else.
    if let Some(kind @ (Scalar::F32 | Scalar::F64)) = spec.scalar()
        && (super::structured::float_bits(&expr).is_none()
            || !text.contains(&format!("primitive::{}::from_bits", kind.describe())))
    {
        return Err(format!("`{text}` is not an `{}`", kind.describe()));
    }
    let value =
        super::structured::parse(&expr, &spec.value, &spec.ident).map_err(|e| e.to_string())?;
    Ok(Listed {
        value,
        span: proc_macro2::Span::call_site(),
        written: None,
    })
}
