//! The `Location` part of the isolation rule: `Location::caller()` read as
//! a value names the place of the source it is compiled from, which for a
//! run-time variant is the generated source of its library, not the
//! user's file and line. (A panic needs no value: it is raised again at
//! the user's place in the caller.)
//!
//! `use … as`, a glob and a type alias give `std::panic::Location` any
//! name, but an associated function cannot be renamed or imported: every
//! call of `Location::caller` holds the identifier `caller` right after
//! `::`. So `caller` is refused there whatever the path before it says,
//! and where a `macro_rules!` macro could put it there: handed to the
//! macro, or after a fragment in its definition.
//!
//! The panic hook's functions get the same rule (`set_hook`, `take_hook`,
//! `update_hook`): in a run-time variant they reach the library's own
//! std, whose hook staged uses to tell where a panic happened, so after a
//! body replaced it the program's hook would no longer run for the
//! variant's panics. (They can be imported under another name, which
//! `use … as` refuses below.)

use proc_macro2::{Delimiter, Ident, TokenTree};

use super::At;
use super::cfg::plain;
use crate::errors::Errors;
use crate::specialize::paths::follows_path_sep;

const WHY: &str = "`std::panic::Location::caller`, whose file and line in the run-time build are those of the generated source, not this file's";

const WHY_HOOK: &str = "in a run-time variant reaches the library's own panic hook (how staged tells where the variant panicked), not the program's";

/// Why `name` is refused after `::`, if it is.
fn why(name: &str) -> Option<&'static str> {
    match name {
        "caller" => Some(WHY),
        "set_hook" | "take_hook" | "update_hook" => Some(WHY_HOOK),
        _ => None,
    }
}

/// Whether `ident` is `caller` or a function of the panic hook, however
/// spelled (`r#caller`).
pub(super) fn is_caller(ident: &Ident) -> bool {
    why(&plain(ident)).is_some()
}

/// Checks the `caller` at `i` of `tokens`.
pub(super) fn check(tokens: &[TokenTree], i: usize, at: At<'_>, errors: &mut Errors) {
    let TokenTree::Ident(ident) = &tokens[i] else {
        return;
    };
    let name = plain(ident);
    let Some(why) = why(&name) else { return };
    let hint = at.hint();
    if name != "caller" {
        // The hook's functions: any use, by path or imported.
        errors.at(
            ident,
            format_args!("`{name}` {why}; set the hook in the program instead; {hint}"),
        );
        return;
    }
    if follows_path_sep(tokens, i) {
        let shown = match (i.checked_sub(4).map(|j| &tokens[j]), &tokens[i - 3]) {
            (Some(TokenTree::Punct(d)), TokenTree::Ident(t)) if d.as_char() == '$' => {
                format!("${}::caller", plain(t))
            }
            (_, TokenTree::Ident(t)) => format!("{}::caller", plain(t)),
            _ => "::caller".to_owned(),
        };
        errors.at(
            ident,
            format_args!(
                "`{shown}` could be {WHY} (`use … as`, a glob or a type alias give `Location` any name, so no path may end in `caller`); {hint}"
            ),
        );
    } else if let Some(by) = at.handed_to {
        errors.at(
            ident,
            format_args!(
                "`caller` handed to macro `{by}!` can become a call of {WHY}; pass another name; {hint}"
            ),
        );
    } else if at.in_definition && after_fragment(tokens, i) {
        errors.at(
            ident,
            format_args!(
                "`caller` after a fragment in a `macro_rules!` definition can become a call of {WHY}; {hint}"
            ),
        );
    }
}

/// Checks the group at `i` of a `macro_rules!` definition: a repetition
/// that starts with `caller` (`Location::$(caller)*`, or `$d(caller)*` in a
/// definition written by a definition).
pub(super) fn check_repetition(tokens: &[TokenTree], i: usize, at: At<'_>, errors: &mut Errors) {
    let TokenTree::Group(group) = &tokens[i] else {
        return;
    };
    if !at.in_definition || !dollar_ends_at(tokens, i, 1) {
        return;
    }
    if let Some(TokenTree::Ident(first)) = group.stream().into_iter().next()
        && is_caller(&first)
    {
        errors.at(
            &first,
            format_args!(
                "`caller` at the start of a repetition in a `macro_rules!` definition can become a call of {WHY}; {}",
                at.hint()
            ),
        );
    }
}

/// Whether the token `k` places before `i` is a `$`, or a fragment that
/// may hold one (the `$d` of a definition written by a definition).
fn dollar_ends_at(tokens: &[TokenTree], i: usize, k: usize) -> bool {
    let before = |k: usize| i.checked_sub(k).map(|j| &tokens[j]);
    let is_dollar = |k: usize| matches!(before(k), Some(TokenTree::Punct(p)) if p.as_char() == '$');
    is_dollar(k) || matches!(before(k), Some(TokenTree::Ident(_))) && is_dollar(k + 1)
}

/// Whether what comes before the token at `i` of a `macro_rules!`
/// definition could end in `::` once the macro expands: a fragment
/// (`$p caller`, or the invisible group of one), a repetition
/// (`$($p)* caller`), or a single `:` after one of those or after another
/// `:`.
fn after_fragment(tokens: &[TokenTree], i: usize) -> bool {
    let before = |k: usize| i.checked_sub(k).map(|j| &tokens[j]);
    let is_dollar = |k: usize| matches!(before(k), Some(TokenTree::Punct(p)) if p.as_char() == '$');
    let dollar_ends_at = |k: usize| dollar_ends_at(tokens, i, k);
    let repetition_at = |k: usize| {
        matches!(before(k), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
            && dollar_ends_at(k + 1)
    };
    let fragment_ends_at = |k: usize| match before(k) {
        Some(TokenTree::Ident(_)) => is_dollar(k + 1),
        Some(TokenTree::Group(g)) => g.delimiter() == Delimiter::None || dollar_ends_at(k + 1),
        // `$(..)*`, `$(..),*`: the repetition's operator.
        Some(TokenTree::Punct(p)) if "*+?".contains(p.as_char()) => {
            repetition_at(k + 1) || repetition_at(k + 2)
        }
        _ => false,
    };
    match before(1) {
        Some(TokenTree::Punct(p)) if p.as_char() == ':' => {
            fragment_ends_at(2)
                || matches!(before(2), Some(TokenTree::Punct(q)) if q.as_char() == ':')
        }
        _ => fragment_ends_at(1),
    }
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

    /// The panic hook's functions, however they are reached: the library's
    /// hook is how staged tells where a variant panicked.
    #[test]
    fn the_panic_hook_cannot_be_set_from_run_time_code() {
        for body in [
            "std::panic::set_hook(Box::new(|_| {}));",
            "let h = std::panic::take_hook();",
            "use std::panic::set_hook as quiet; quiet(Box::new(|_| {}));",
            "use std::panic::*; set_hook(Box::new(|_| {}));",
            "std::panic::update_hook(|prev, info| prev(info));",
        ] {
            let found = messages(body);
            assert!(
                found.iter().any(|m| m.contains("own panic hook")),
                "{body}: {found:?}"
            );
        }
        assert!(messages("let hook = 3; let set = hook + 1;").is_empty());
    }

    /// Every spelling of `Location::caller()` (issue 18, item 7): refused
    /// on the token.
    #[test]
    fn every_spelling_of_location_caller_is_refused() {
        let refused = [
            (
                "let l = std::panic::Location::caller();",
                "`Location::caller` could be",
            ),
            (
                "let l = ::core::panic::Location::caller().line();",
                "`Location::caller` could be",
            ),
            (
                "use std::panic::Location; let l = Location::r#caller();",
                "`Location::caller` could be",
            ),
            (
                "use std::panic::Location as L; let l = L::caller();",
                "`L::caller` could be",
            ),
            (
                "use std::panic::*; let l = Location::caller();",
                "`Location::caller` could be",
            ),
            (
                "type L = std::panic::Location<'static>; let l = L::caller();",
                "`L::caller` could be",
            ),
            (
                "let l = <std::panic::Location>::caller();",
                "`::caller` could be",
            ),
            (
                "let l = std::panic::Location::<'static>::caller();",
                "`::caller` could be",
            ),
            (
                "let f = std::panic::Location::caller; let l = f();",
                "`Location::caller` could be",
            ),
            (
                "#[track_caller] fn site() -> &'static std::panic::Location<'static> { std::panic::Location::caller() }",
                "`Location::caller` could be",
            ),
            // Macros that put the path together.
            (
                "macro_rules! at { ($t:ident) => { $t::caller() } } let l = at!(Location);",
                "`$t::caller` could be",
            ),
            (
                "macro_rules! at { ($f:ident) => { Location::$f() } } let l = at!(caller);",
                "`caller` handed to macro `at!`",
            ),
            (
                "macro_rules! at { ($($p:tt)*) => { $($p)* caller() } }",
                "`caller` after a fragment",
            ),
            (
                "macro_rules! at { ($($p:tt),*) => { $($p),* caller() } }",
                "`caller` after a fragment",
            ),
            (
                "macro_rules! at { ($p:tt) => { Location $p caller() } }",
                "`caller` after a fragment",
            ),
            (
                "macro_rules! at { ($p:tt) => { Location $p: caller() } }",
                "`caller` after a fragment",
            ),
            (
                "macro_rules! at { ($($p:tt)*) => { Location::$(caller)*() } }",
                "`caller` at the start of a repetition",
            ),
            (
                "macro_rules! outer { ($d:tt) => { macro_rules! inner { ($d($t:tt)*) => { $d($t)* caller() } } } }",
                "`caller` after a fragment",
            ),
            (
                "macro_rules! outer { ($d:tt) => { macro_rules! inner { ($d($t:tt)*) => { Location::$d(caller)*() } } } }",
                "`caller` at the start of a repetition",
            ),
            (
                "macro_rules! at { () => { self::go!(caller) } }",
                "`caller` handed to macro `self::go!`",
            ),
        ];
        for (body, expected) in refused {
            let found = messages(body);
            assert!(
                found.iter().any(|f| f.contains(expected)),
                "{body}: {found:?}"
            );
        }
    }

    /// What cannot become `Location::caller` passes: a variable, a field or
    /// a method named `caller`, a `Location` without `caller`, panics.
    #[test]
    fn other_callers_and_panics_pass() {
        let ok = r#"
            let caller = 3;
            let s = S { caller };
            let t = s.caller + s.caller();
            fn caller() -> u32 { 1 }
            let u = caller();
            let loc: Option<&std::panic::Location<'static>> = None;
            macro_rules! twice { ($e:expr) => { let caller = $e; caller * 2 } }
            let v: Vec<u32> = vec![caller; 2];
            let w = [1u32][t as usize];
            Some(w).unwrap();
            assert!(w > 0, "{caller}");
            panic!("at {}", caller)
        "#;
        assert_eq!(messages(ok), Vec::<String>::new());
    }
}
