//! The `cfg` part of the isolation rule: a `cfg!`, `#[cfg]` or
//! `#[cfg_attr]` of a run-time body must see what the program was built
//! with, so its predicate may name only options the run-time build shares
//! (same target, the crate's debug assertions). A proc macro sees tokens
//! before `macro_rules!` macros expand, so where a macro could put a `cfg`
//! together out of pieces (its fragments, an identifier handed to it) the
//! predicate cannot be read, and that is refused on the token.

use proc_macro2::{Delimiter, Group, Ident, TokenStream, TokenTree};

use super::At;
use crate::errors::Errors;

/// Configuration options that are the same in the run-time build: it
/// targets the same platform and gets the crate's debug assertions. Not
/// `target_feature` (run-time builds target this machine's CPU, or
/// `STAGED_TARGET_CPU`) and not `panic` (variants always unwind).
const SHARED_CFGS: &[&str] = &[
    "target_arch",
    "target_os",
    "target_family",
    "target_env",
    "target_abi",
    "target_vendor",
    "target_endian",
    "target_pointer_width",
    "target_has_atomic",
    "unix",
    "windows",
    "debug_assertions",
    "true",
    "false",
];

/// `ident` without the `r#` of a raw identifier: `r#cfg!` is `cfg!`.
pub(super) fn plain(ident: &Ident) -> String {
    let name = ident.to_string();
    match name.strip_prefix("r#") {
        Some(rest) => rest.to_owned(),
        None => name,
    }
}

/// Whether `ident` is `cfg` or `cfg_attr`, however spelled.
pub(super) fn is_cfg(ident: &Ident) -> bool {
    matches!(plain(ident).as_str(), "cfg" | "cfg_attr")
}

/// Checks the `cfg` or `cfg_attr` at `i` of `tokens`.
pub(super) fn check(tokens: &[TokenTree], i: usize, at: At<'_>, errors: &mut Errors) {
    let TokenTree::Ident(ident) = &tokens[i] else {
        return;
    };
    let hint = at.hint();
    let name = plain(ident);
    let attr = name == "cfg_attr";
    let (bang, predicate) = predicate(tokens.get(i + 1), tokens.get(i + 2));
    let form = if bang {
        format!("`{name}!`")
    } else {
        format!("`#[{name}]`")
    };
    if let Some(by) = at.handed_to {
        errors.at(
            ident,
            format_args!(
                "`{name}` handed to macro `{by}!` can become a `cfg!` or `#[cfg]` whose predicate cannot be checked against what the run-time build shares; write the `cfg!` or `#[cfg]` whole, outside the macro call; {hint}"
            ),
        );
        return;
    }
    let Some(predicate) = predicate else {
        if at.in_definition {
            errors.at(
                ident,
                format_args!(
                    "`{name}` in a `macro_rules!` definition, not followed by its predicate, can become a `cfg!` or `#[cfg]` that cannot be checked against what the run-time build shares; write the `cfg!` or `#[cfg]` whole; {hint}"
                ),
            );
        }
        return;
    };
    if let Some(dollar) = fragment(predicate.stream(), attr) {
        errors.at(
            ident,
            format_args!(
                "this {form} takes its predicate from the macro's fragments (`{dollar}`), so it cannot be checked against what the run-time build shares; write the predicate in the {form} itself; {hint}"
            ),
        );
        return;
    }
    let Some(option) = first_foreign(predicate.stream(), attr) else {
        return;
    };
    let shown = plain(&option);
    match why_foreign(&shown) {
        "" => errors.at(
            &option,
            format_args!(
                "`{shown}` can differ between this crate's build and the run-time build, so this `{name}` could select different code there; {hint}"
            ),
        ),
        why => errors.at(&option, format_args!("{why} {hint}")),
    }
}

/// The predicate of `cfg!(..)`, `cfg(..)` or `cfg_attr(..)` from the two
/// tokens after `cfg`, and whether it is the macro (`!`).
fn predicate<'t>(a: Option<&'t TokenTree>, b: Option<&'t TokenTree>) -> (bool, Option<&'t Group>) {
    match (a, b) {
        // `(..)`, or the invisible group of a fragment of an enclosing
        // macro that wrote the whole function.
        (Some(TokenTree::Group(g)), _)
            if matches!(g.delimiter(), Delimiter::Parenthesis | Delimiter::None) =>
        {
            (false, Some(g))
        }
        (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g))) if p.as_char() == '!' => {
            (true, Some(g))
        }
        _ => (false, None),
    }
}

/// The first `$name` (or `$(`) of a predicate: a macro fills it in.
fn fragment(tokens: TokenStream, attr: bool) -> Option<String> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, t) in tokens.iter().enumerate() {
        match t {
            // `cfg_attr(predicate, attributes)`: only the predicate counts.
            TokenTree::Punct(p) if attr && p.as_char() == ',' => return None,
            TokenTree::Punct(p) if p.as_char() == '$' => {
                let next = tokens.get(i + 1).map(|n| match n {
                    TokenTree::Group(_) => "(..)".to_owned(),
                    other => other.to_string(),
                });
                return Some(format!("${}", next.unwrap_or_default()));
            }
            TokenTree::Group(g) => {
                if let Some(found) = fragment(g.stream(), false) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

/// Why a `cfg` option can differ in the run-time build, where that is not
/// the crate's own settings.
fn why_foreign(option: &str) -> &'static str {
    match option {
        "target_feature" => {
            "the run-time build targets the CPU it runs on (or STAGED_TARGET_CPU), so `target_feature` can differ there; detect features with `is_x86_feature_detected!` instead, which answers alike in both builds, or"
        }
        "panic" => {
            "run-time variants are always built to unwind (their panics reach the caller as panics), so `panic` can differ there; write the body without it, or"
        }
        _ => "",
    }
}

/// The first option of a predicate that the run-time build may not share,
/// such as `feature` or `test`.
fn first_foreign(tokens: TokenStream, attr: bool) -> Option<Ident> {
    for t in tokens {
        match t {
            // `cfg_attr(predicate, attributes)`: only the predicate counts.
            TokenTree::Punct(p) if attr && p.as_char() == ',' => return None,
            TokenTree::Ident(i) if ["all", "any", "not"].contains(&plain(&i).as_str()) => {}
            TokenTree::Ident(i) if !SHARED_CFGS.contains(&plain(&i).as_str()) => {
                return Some(i);
            }
            TokenTree::Group(g) => {
                if let Some(i) = first_foreign(g.stream(), false) {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use crate::errors::Errors;

    fn messages(body: &str) -> Vec<String> {
        let mut errors = Errors::default();
        check(body.parse().unwrap(), &mut errors);
        match errors.finish(()) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    /// Every way a `macro_rules!` macro could put a `cfg` together that
    /// the check cannot read (issue 18): refused on the token.
    #[test]
    fn cfgs_a_macro_puts_together_are_refused() {
        let refused = [
            // The predicate from fragments named after shared options.
            (
                r#"macro_rules! p { ($unix:ident) => { cfg!($unix = "avx2") } } p!(target_feature)"#,
                "takes its predicate from the macro's fragments (`$unix`)",
            ),
            (
                r#"macro_rules! p { ($f:ident) => { cfg!($f = "avx2") } } p!(target_feature)"#,
                "(`$f`)",
            ),
            (
                r#"macro_rules! p { ($($t:tt)*) => { cfg!($($t)*) } } p!(target_feature = "avx2")"#,
                "(`$(..)`)",
            ),
            (
                "macro_rules! p { ($m:meta) => { #[cfg($m)] fn f() {} } }",
                "this `#[cfg]` takes its predicate",
            ),
            (
                "macro_rules! p { ($m:meta) => { #[cfg_attr($m, inline)] fn f() {} } }",
                "this `#[cfg_attr]` takes its predicate",
            ),
            // A macro in a macro, with `$` handed in.
            (
                "macro_rules! outer { ($d:tt) => { macro_rules! inner { ($d($t:tt)*) => { cfg!($d($t)*) } } } }",
                "(`$d`)",
            ),
            // `cfg` handed to a macro that calls it, by any name.
            (
                r#"macro_rules! call { ($matches:ident, $($t:tt)*) => { $matches!($($t)*) } } call!(cfg, target_feature = "avx2")"#,
                "`cfg` handed to macro `call!`",
            ),
            (
                r#"macro_rules! vec { ($m:ident) => { $m!(target_feature = "avx2") } } vec![cfg]"#,
                "`cfg` handed to macro `vec!`",
            ),
            (
                r#"macro_rules! at { ($n:ident $p:tt, $i:item) => { #[$n $p] $i } } at!(cfg (unix), fn g() {})"#,
                "`cfg` handed to macro `at!`",
            ),
            (
                "macro_rules! p { ($m:ident) => { $m!(unix) } } let x = p!(r#cfg_attr);",
                "`cfg_attr` handed to macro `p!`",
            ),
            // In a definition, a `cfg` without its predicate.
            (
                "macro_rules! p { ($p:tt) => { cfg!$p } }",
                "`cfg` in a `macro_rules!` definition, not followed by its predicate",
            ),
            (
                "macro_rules! q { () => { call!(cfg) } }",
                "`cfg` in a `macro_rules!` definition",
            ),
            // Spelled by path or raw: the predicate is read as written.
            (
                r#"let a = core::cfg!(target_feature = "avx2");"#,
                "`target_feature` can differ",
            ),
            (
                r#"let a = ::std::cfg!(panic = "abort");"#,
                "`panic` can differ",
            ),
            (
                r#"let a = r#cfg!(target_feature = "avx2");"#,
                "`target_feature` can differ",
            ),
            ("#[r#cfg(test)] let a = 1;", "`test` can differ"),
            // A macro of `std` renamed, or a `use` a fragment fills in.
            (
                "use std::cfg as matches;",
                "`as matches` gives something else",
            ),
            (
                "use core::{line as concat};",
                "`as concat` gives something else",
            ),
            (
                "macro_rules! p { ($p:path, $n:ident) => { use $p as $n; } }",
                "a `use` in a `macro_rules!` definition",
            ),
        ];
        for (body, expected) in refused {
            let found = messages(body);
            assert!(
                found.iter().any(|f| f.contains(expected)),
                "{body}: {found:?}"
            );
        }
        let found = messages("macro_rules! p { ($vec:ident) => { $vec!() } } let l = p!(line);");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("a macro called by the name a fragment holds (`$vec!`)"));
    }

    /// What provably sees the program's configuration passes: a `cfg` of
    /// shared options written whole, in a macro too; a variable named
    /// `cfg`; a `cfg!` in the arguments of a macro of `std`.
    #[test]
    fn cfgs_written_whole_pass_in_macros_too() {
        let ok = r#"
            macro_rules! debug_on { () => { cfg!(debug_assertions) } }
            macro_rules! twice { ($e:expr) => { $e * 2 } }
            macro_rules! unix_only { ($i:item) => { #[cfg(unix)] #[cfg_attr(windows, $i)] $i } }
            let cfg = twice!(3);
            assert!(cfg!(unix) || cfg!(not(unix)), "{}", cfg);
            let v = vec![cfg!(target_os = "linux"); 2];
            let n = x as u32;
            use std::collections::HashMap as Map;
            debug_on!()
        "#;
        assert_eq!(messages(ok), Vec::<String>::new());
    }
}
