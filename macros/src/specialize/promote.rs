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
        && !matches!(
            super::structured::float_bits(&expr),
            Some((named, Some(_))) if named == kind
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::specialize::module_types;
    use crate::specialize::value_type::ValueTy;

    /// The parameter `p: ty` of a function in a module that declares
    /// `Pred`, `Op` and `Point`.
    fn spec(ty: &str) -> Spec {
        let file: syn::File = syn::parse_quote! {
            pub enum Pred {
                Between { col: u8, lo: i64, hi: i64 },
                ModEq { col: u8, m: i64, r: i64 },
                Not(u8),
                Always,
            }
            pub enum Op { Push(i64), Test(Pred), Halt }
            pub struct Point { pub x: i32, pub tag: [char; 2], pub at: Option<(u16, bool)> }
        };
        let module = module_types::collect(&file.items);
        let ty: syn::Type = syn::parse_str(ty).unwrap();
        Spec {
            position: 0,
            ident: syn::parse_quote!(p),
            mutability: None,
            value: ValueTy::of(&ty, &module).unwrap_or_else(|r| panic!("{}", r.why)),
            ty,
        }
    }

    /// `tokens` with each string, character and integer literal as its
    /// value, so that two spellings of one value (`'\u{1f600}'`, `0x10`)
    /// compare equal.
    fn canonical(tokens: proc_macro2::TokenStream) -> String {
        use proc_macro2::TokenTree;
        let mut out = String::new();
        for token in tokens {
            match token {
                TokenTree::Group(g) => {
                    let inner = canonical(g.stream());
                    out.push_str(&format!("{:?}({inner}) ", g.delimiter()));
                }
                TokenTree::Literal(l) => match syn::Lit::new(l) {
                    syn::Lit::Str(s) => out.push_str(&format!("{:?} ", s.value())),
                    syn::Lit::Char(c) => out.push_str(&format!("{:?} ", c.value())),
                    syn::Lit::Int(i) => {
                        out.push_str(&format!("{}{} ", i.base10_digits(), i.suffix()));
                    }
                    other => out.push_str(&format!("{} ", other.to_token_stream())),
                },
                other => out.push_str(&format!("{other} ")),
            }
        }
        out
    }

    /// The tokens of `text` as rustc reads them.
    fn tokens(text: &str) -> String {
        canonical(syn::parse_str::<Expr>(text).unwrap().to_token_stream())
    }

    /// Each literal as the runtime's renderer writes it (`Encode`, with
    /// the impls the expansion generates for module types), read back as a
    /// promoted value and written again as the constant of a static
    /// variant: the same tokens.
    #[test]
    fn every_literal_the_runtime_writes_is_read_back_whole() {
        for (ty, text) in [
            (
                "&[Pred]",
                "&[self::Pred::Between { col: 0u8, lo: 10i64, hi: -500i64 }, self::Pred::ModEq { col: 1u8, m: 7i64, r: 3i64 }, self::Pred::Not(255u8), self::Pred::Always]",
            ),
            ("&[Pred]", "&[]"),
            (
                "[Op; 3]",
                "[self::Op::Push(-9223372036854775808i64), self::Op::Test(self::Pred::Not(1u8)), self::Op::Halt]",
            ),
            (
                "Point",
                r"self::Point { x: -1i32, tag: ['\'', '\u{1f600}'], at: ::core::option::Option::Some((7u16, true, )) }",
            ),
            (
                "[f64; 4]",
                "[::core::primitive::f64::from_bits(0x3ff0000000000000u64), ::core::primitive::f64::from_bits(0x8000000000000000u64), ::core::primitive::f64::from_bits(0x7ff8000000000001u64), ::core::primitive::f64::from_bits(0x0000000000000001u64)]",
            ),
            (
                "&[f32]",
                "&[::core::primitive::f32::from_bits(0x3f800000u32), ::core::primitive::f32::from_bits(0xff800000u32)]",
            ),
            (
                "(Option<i32>, &str)",
                r#"(::core::option::Option::Some(-3i32), "a\tb, {c} \"d\" ::e &f #g\\\n\u{0}", )"#,
            ),
            ("(u8,)", "(5u8, )"),
            (
                "Option<Option<char>>",
                "::core::option::Option::Some(::core::option::Option::None)",
            ),
            ("Option<u8>", "::core::option::Option::None"),
            (
                "(i128, u128, usize, isize, bool)",
                "(-170141183460469231731687303715884105728i128, 340282366920938463463374607431768211455u128, 18446744073709551615usize, -9223372036854775808isize, false, )",
            ),
            ("&[&[i32]]", "&[&[1i32, -2i32], &[]]"),
            ("[[u8; 2]; 1]", "[[0u8, 255u8]]"),
        ] {
            let spec = spec(ty);
            let listed = value(text, &spec).unwrap_or_else(|e| panic!("{ty}: {text}: {e}"));
            let written = crate::specialize::structured::tokens(
                &listed.value,
                &spec.value,
                proc_macro2::Span::call_site(),
            );
            assert_eq!(canonical(written), tokens(text), "{ty}");
        }
    }

    /// Values that do not fit the parameter are refused with the reason,
    /// whatever depth they sit at: a profile may be edited by hand, or
    /// recorded for another type of the parameter.
    #[test]
    fn literals_of_another_type_are_refused() {
        let mut wrong = Vec::new();
        for (ty, text, why) in [
            (
                "&[Pred]",
                "&[self::Pred::Nope]",
                "expected a variant of `Pred`",
            ),
            (
                "&[Pred]",
                "&[self::Op::Halt]",
                "expected a variant of `Pred`",
            ),
            (
                "&[Pred]",
                "&[crate::Pred::Always]",
                "expected a variant of `Pred`",
            ),
            ("&[Pred]", "&[self::Pred::Not(1u16)]", "has suffix `u16`"),
            ("&[Pred]", "&[self::Pred::Not(256u8)]", "does not fit `u8`"),
            (
                "&[Pred]",
                "&[self::Pred::Not { 0: 1u8 }]",
                "has unnamed fields",
            ),
            (
                "&[Pred]",
                "&[self::Pred::Between { col: 0u8, lo: 1i64 }]",
                "missing field `hi`",
            ),
            ("[u8; 3]", "[1u8, 2u8]", "expected 3 elements"),
            ("[u8; 1]", "&[1u8]", "expected an array of 1 `u8`"),
            (
                "[f64; 1]",
                "[::core::primitive::f32::from_bits(0x3f800000u32)]",
                "expected an `f64` value for `p`",
            ),
            (
                "&[f32]",
                "&[::core::primitive::f64::from_bits(0x3f800000u64)]",
                "expected an `f32` value for `p`",
            ),
            (
                "&[f32]",
                "&[::core::primitive::f32::from_bits(0x3f800000u64)]",
                "expected an `f32` value for `p`",
            ),
            ("(u8, bool)", "(1u8, )", "expected a tuple of 2 elements"),
            (
                "Option<u8>",
                "Some(1u8) + 1",
                "expected `Some(..)` or `None`",
            ),
            ("&[u8]", "&[1u8] garbage", "is not a literal"),
        ] {
            let err = value(text, &spec(ty)).err();
            if !err.as_deref().is_some_and(|e| e.contains(why)) {
                wrong.push(format!("{ty}: {text}: {err:?}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
