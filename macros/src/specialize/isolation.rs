//! The isolation rule: a body that is specialized at run time is compiled on
//! its own, in a library that holds only this function, `core` and `std`.
//! Whatever would resolve differently there is rejected here, on the user's
//! token, so that a body either means the same thing in both builds or does
//! not compile.

mod cfg;
mod location;

use proc_macro2::{Delimiter, Ident, Spacing, TokenStream, TokenTree};

use super::paths::{follows_path_sep, is_path_root, is_path_sep};
use crate::errors::Errors;
use cfg::plain;

const HINT: &str = "add `runtime = false` to `#[specialize]` to specialize at compile time only";
const MODULE_HINT: &str = "a `#[staged::self_contained]` module travels into run-time builds, which have only `core`, `std` and the module itself";

/// What the code being checked is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The body of a run-time function on its own: only its own items.
    Body,
    /// The items of a `#[staged::self_contained]` module: `self::` paths
    /// name the module's items, and `super::` paths are fine as long as
    /// they stay inside it (from a nested module).
    Module,
}

/// Where a scan is: the scope, how deep in nested modules, and whether in
/// tokens a `macro_rules!` macro may rearrange.
#[derive(Clone, Copy)]
struct At<'a> {
    scope: Scope,
    depth: usize,
    local_macros: &'a [String],
    /// In the body of a `macro_rules!` definition.
    in_definition: bool,
    /// In the arguments of a call of this macro, which is not one of
    /// `std`'s (as it is written: `m`, `$m`, `self::m`).
    handed_to: Option<&'a str>,
}

impl At<'_> {
    fn hint(&self) -> &'static str {
        match self.scope {
            Scope::Body => HINT,
            Scope::Module => MODULE_HINT,
        }
    }
}

/// Macros of `std` and `core` that mean the same in the run-time build.
const STD_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "compile_error",
    "concat",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "eprint",
    "eprintln",
    "format",
    "format_args",
    "is_x86_feature_detected",
    "is_aarch64_feature_detected",
    "is_arm_feature_detected",
    "is_riscv_feature_detected",
    "matches",
    "panic",
    "print",
    "println",
    "stringify",
    "thread_local",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
    "macro_rules",
];

/// Macros whose answer depends on where the source is compiled (`dbg!`
/// prints the file and line it is in).
const PLACE_MACROS: &[&str] = &[
    "include",
    "include_str",
    "include_bytes",
    "env",
    "option_env",
    "file",
    "line",
    "column",
    "module_path",
    "dbg",
];

/// Records an error for every token of `body` that could not be compiled, or
/// would mean something else, in the run-time build.
pub(crate) fn check(body: TokenStream, errors: &mut Errors) {
    check_in(body, Scope::Body, errors);
}

/// Like [`check`], for code in `scope`.
pub(crate) fn check_in(tokens: TokenStream, scope: Scope, errors: &mut Errors) {
    let mut local_macros = Vec::new();
    collect_macro_rules(tokens.clone(), &mut local_macros);
    let at = At {
        scope,
        depth: 0,
        local_macros: &local_macros,
        in_definition: false,
        handed_to: None,
    };
    scan(tokens, at, errors);
}

fn scan(tokens: TokenStream, at: At<'_>, errors: &mut Errors) {
    let hint = at.hint();
    let local_macros = at.local_macros;
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        let next = |k: usize| tokens.get(i + k);
        match token {
            TokenTree::Group(group) => {
                // `mod name { .. }`: one level deeper.
                let nested = i >= 2
                    && matches!(&tokens[i - 2], TokenTree::Ident(m) if m == "mod")
                    && matches!(&tokens[i - 1], TokenTree::Ident(_));
                location::check_repetition(&tokens, i, at, errors);
                let taker = macro_taking(&tokens, i, local_macros);
                let inner = At {
                    depth: at.depth + usize::from(nested),
                    in_definition: at.in_definition || is_definition(&tokens, i),
                    handed_to: taker.as_deref().or(at.handed_to),
                    ..at
                };
                scan(group.stream(), inner, errors);
            }
            TokenTree::Ident(ident) if is_path_root(&tokens, i) => {
                check_path_root(ident, &tokens, i, at, errors);
            }
            TokenTree::Punct(p)
                if p.as_char() == ':'
                    && is_path_sep(Some(token), next(1))
                    && is_leading(&tokens, i) =>
            {
                if let Some(TokenTree::Ident(root)) = next(2)
                    && !["std", "core"].contains(&root.to_string().as_str())
                {
                    errors.at(
                        root,
                        format_args!(
                            "`::{root}` is not available to a run-time specialized body, which can use `core` and `std` only; {hint}"
                        ),
                    );
                }
            }
            TokenTree::Ident(ident) => {
                let by_fragment =
                    i > 0 && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '$');
                if is_macro_call(next(1), next(2)) {
                    if by_fragment {
                        errors.at(
                            &tokens[i - 1],
                            format_args!(
                                "a macro called by the name a fragment holds (`${}!`) could be `cfg!`, `line!` or another crate's macro, which cannot be checked; call the macro by its name; {hint}",
                                plain(ident)
                            ),
                        );
                    } else if !follows_path_sep(&tokens, i) {
                        check_macro(ident, local_macros, hint, errors);
                    } else if path_root(&tokens, i).is_some_and(|r| r == "std" || r == "core") {
                        // `std::line!()`, `::core::module_path!()`: the
                        // path does not change what the macro answers.
                        check_place_macro(ident, hint, errors);
                    }
                }
                if cfg::is_cfg(ident) {
                    cfg::check(&tokens, i, at, errors);
                } else if location::is_caller(ident) {
                    location::check(&tokens, i, at, errors);
                } else if ident == "as" {
                    check_rename(next(1), at, errors);
                } else if ident == "use" && at.in_definition {
                    check_use_in_definition(ident, &tokens[i + 1..], hint, errors);
                }
            }
            _ => {}
        }
    }
}

fn check_path_root(ident: &Ident, tokens: &[TokenTree], i: usize, at: At<'_>, errors: &mut Errors) {
    let name = ident.to_string();
    let allowed = match (at.scope, name.as_str()) {
        (_, "crate" | "$crate") => false,
        (Scope::Body, "super" | "self") => false,
        (Scope::Module, "self") => true,
        // `super::super::x` from two modules down stays inside.
        (Scope::Module, "super") => leading_supers(tokens, i) <= at.depth,
        _ => true,
    };
    if allowed {
        return;
    }
    let hint = at.hint();
    match at.scope {
        Scope::Body => errors.at(
            ident,
            format_args!(
                "`{name}::` paths are not available to a run-time specialized body: it is built on its own, without the rest of the crate; {hint}"
            ),
        ),
        Scope::Module => errors.at(
            ident,
            format_args!(
                "`{name}::` leaves the `#[staged::self_contained]` module, whose items are built on their own at run time, without the rest of the crate; {hint}"
            ),
        ),
    }
}

/// How many `super::` segments the path at `i` starts with.
fn leading_supers(tokens: &[TokenTree], mut i: usize) -> usize {
    let mut n = 0;
    while matches!(tokens.get(i), Some(TokenTree::Ident(s)) if s == "super")
        && is_path_sep(tokens.get(i + 1), tokens.get(i + 2))
    {
        n += 1;
        i += 3;
    }
    n
}

fn check_macro(ident: &Ident, local_macros: &[String], hint: &str, errors: &mut Errors) {
    let name = plain(ident);
    if local_macros.contains(&name) {
        return;
    }
    if PLACE_MACROS.contains(&name.as_str()) {
        check_place_macro(ident, hint, errors);
    } else if !STD_MACROS.contains(&name.as_str()) {
        errors.at(
            ident,
            format_args!(
                "macro `{name}!` is not available to a run-time specialized body, which can use the macros of `std` and those it defines itself; {hint}"
            ),
        );
    }
}

/// Reports `ident!` if it is a macro whose answer depends on where the
/// source is compiled.
fn check_place_macro(ident: &Ident, hint: &str, errors: &mut Errors) {
    let name = plain(ident);
    if PLACE_MACROS.contains(&name.as_str()) {
        errors.at(
            ident,
            format_args!(
                "`{name}!` would give a different answer in the run-time build, which compiles this body from another file and environment; {hint}"
            ),
        );
    }
}

/// The first segment of the path whose last segment is at `i`
/// (`std` for `::std::io::stdout`).
fn path_root(tokens: &[TokenTree], mut i: usize) -> Option<String> {
    // Back over `segment ::`; a leading `::` has no segment before it.
    while follows_path_sep(tokens, i)
        && i >= 3
        && matches!(tokens.get(i - 3), Some(TokenTree::Ident(_)))
    {
        i -= 3;
    }
    match &tokens[i] {
        TokenTree::Ident(root) => Some(root.to_string()),
        _ => None,
    }
}

/// The `::` at `i` starts a path (`::name`) rather than separating segments.
fn is_leading(tokens: &[TokenTree], i: usize) -> bool {
    match i.checked_sub(1).and_then(|j| tokens.get(j)) {
        None => true,
        Some(TokenTree::Punct(p)) => p.as_char() != '>',
        Some(TokenTree::Ident(id)) => {
            let s = id.to_string();
            [
                "return", "in", "as", "else", "match", "if", "while", "for", "move", "mut", "ref",
                "dyn", "impl", "box", "break", "yield", "let", "const", "static", "use",
            ]
            .contains(&s.as_str())
        }
        Some(_) => false,
    }
}

/// `name ! (..)`, `name ! [..]`, `name ! {..}` or `macro_rules ! name`.
fn is_macro_call(bang: Option<&TokenTree>, args: Option<&TokenTree>) -> bool {
    matches!(bang, Some(TokenTree::Punct(p)) if p.as_char() == '!' && p.spacing() == Spacing::Alone)
        && matches!(args, Some(TokenTree::Group(g)) if g.delimiter() != Delimiter::None)
}

/// The macro whose arguments the group at `i` is, as written (`m`, `$m`,
/// `self::m`), unless it is one of `std`'s, which do not rearrange their
/// arguments, or another crate's, which is refused anyway.
fn macro_taking(tokens: &[TokenTree], i: usize, local_macros: &[String]) -> Option<String> {
    if i < 2 || !is_macro_call(tokens.get(i - 1), tokens.get(i)) {
        return None;
    }
    let TokenTree::Ident(name) = &tokens[i - 2] else {
        return None;
    };
    let plain_name = plain(name);
    if i >= 3 && matches!(&tokens[i - 3], TokenTree::Punct(p) if p.as_char() == '$') {
        return Some(format!("${plain_name}"));
    }
    if follows_path_sep(tokens, i - 2) {
        let root = path_root(tokens, i - 2);
        let std = root.as_deref().is_some_and(|r| r == "std" || r == "core");
        return (!std).then(|| format!("{}::{plain_name}", root.unwrap_or_default()));
    }
    local_macros.contains(&plain_name).then_some(plain_name)
}

/// The group at `i` is the body of `macro_rules! name { .. }`.
fn is_definition(tokens: &[TokenTree], i: usize) -> bool {
    let before = |k: usize| i.checked_sub(k).and_then(|j| tokens.get(j));
    // The name, or the `$name` of a definition in a definition.
    let skip = match (before(2), before(1)) {
        (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(_))) if p.as_char() == '$' => 3,
        (_, Some(TokenTree::Ident(_))) => 2,
        _ => return false,
    };
    matches!(before(skip), Some(TokenTree::Punct(p)) if p.as_char() == '!')
        && matches!(before(skip + 1), Some(TokenTree::Ident(m)) if plain(m) == "macro_rules")
}

/// `as name` where `name` is a macro the rule trusts by its name:
/// `use std::cfg as matches;` would make `matches!` a `cfg!`.
fn check_rename(name: Option<&TokenTree>, at: At<'_>, errors: &mut Errors) {
    let Some(TokenTree::Ident(name)) = name else {
        return;
    };
    let new = plain(name);
    let trusted = STD_MACROS.contains(&new.as_str())
        || PLACE_MACROS.contains(&new.as_str())
        || new == "cfg"
        || new == "cfg_attr";
    if trusted {
        errors.at(
            name,
            format_args!(
                "`as {new}` gives something else the name of `std`'s `{new}!`, which the isolation rule checks by its name; pick another name; {}",
                at.hint()
            ),
        );
    }
}

/// A `use` in a `macro_rules!` definition whose path or new name a fragment
/// fills in (`use $p as $n;`) could name a macro of `std` otherwise.
fn check_use_in_definition(keyword: &Ident, rest: &[TokenTree], hint: &str, errors: &mut Errors) {
    fn has_fragment(tokens: &mut dyn Iterator<Item = TokenTree>) -> bool {
        for t in tokens {
            match t {
                TokenTree::Punct(p) if p.as_char() == ';' => return false,
                TokenTree::Punct(p) if p.as_char() == '$' => return true,
                TokenTree::Group(g) if has_fragment(&mut g.stream().into_iter()) => return true,
                _ => {}
            }
        }
        false
    }
    // `use<'a>` bounds are no `use` item.
    if matches!(rest.first(), Some(TokenTree::Punct(p)) if p.as_char() == '<') {
        return;
    }
    if has_fragment(&mut rest.iter().cloned()) {
        errors.at(
            keyword,
            format_args!(
                "a `use` in a `macro_rules!` definition that takes its path or name from the macro's fragments can give a macro of `std` another meaning, which cannot be checked; write the `use` outside the macro; {hint}"
            ),
        );
    }
}

/// Names defined by `macro_rules! name` anywhere in `tokens`.
fn collect_macro_rules(tokens: TokenStream, out: &mut Vec<String>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for window in tokens.windows(3) {
        if let [
            TokenTree::Ident(m),
            TokenTree::Punct(bang),
            TokenTree::Ident(name),
        ] = window
            && plain(m) == "macro_rules"
            && bang.as_char() == '!'
        {
            out.push(plain(name));
        }
    }
    for token in tokens {
        if let TokenTree::Group(g) = token {
            collect_macro_rules(g.stream(), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::errors::Errors;

    fn messages(body: &str) -> Vec<String> {
        let mut errors = Errors::default();
        check(body.parse().unwrap(), &mut errors);
        match errors.finish(()) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn self_contained_bodies_pass() {
        let body = r#"
            use std::collections::HashMap;
            macro_rules! twice { ($e:expr) => { $e * 2 } }
            let v: Vec<u32> = vec![1, 2];
            let m: HashMap<u32, u32> = HashMap::new();
            let x = ::core::cmp::max(twice!(n), <u32>::MAX);
            let y = Vec::<u8>::new();
            assert!(x != 3, "{}", format!("{x}"));
            pub(crate) fn inner() {}
            x + v[0] + m.len() as u32
        "#;
        assert_eq!(messages(body), Vec::<String>::new());
    }

    #[test]
    fn paths_out_of_the_body_are_rejected() {
        let found = messages(
            "crate::helper(); super::x; self::y; a::crate::z; ::serde::f(); let q = ::std::f();",
        );
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("`crate::` paths"));
        assert!(found[1].starts_with("`super::` paths"));
        assert!(found[2].starts_with("`self::` paths"));
        assert!(found[3].starts_with("`::serde` is not available"));
    }

    #[test]
    fn foreign_and_place_dependent_macros_are_rejected() {
        let found = messages(
            r#"info!("x"); let s = include_str!("a"); std::println!("ok"); #[cfg(feature = "f")] let z = 1;"#,
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("macro `info!`"));
        assert!(found[1].contains("`include_str!`"));
        assert!(found[2].contains("`feature` can differ"), "{found:?}");
    }

    /// Spelled by path, a macro whose answer depends on the place is still
    /// one (these slipped past the check).
    #[test]
    fn place_dependent_macros_are_rejected_however_spelled() {
        let found = messages(
            r#"let l = std::line!(); let m = ::core::module_path!(); let e = std::option_env!("X");
               let s = ::std::include_str!("f"); let c = core::column!(); dbg!(l);
               let ok = ::std::format!("{l}"); let v = std::vec![1];"#,
        );
        assert_eq!(found.len(), 6, "{found:?}");
        for (f, name) in found.iter().zip([
            "line",
            "module_path",
            "option_env",
            "include_str",
            "column",
            "dbg",
        ]) {
            assert!(f.starts_with(&format!("`{name}!` would give")), "{f}");
        }
        let found = messages("$crate::helper()");
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn only_cfgs_shared_with_the_run_time_build_pass() {
        let ok = r#"#[cfg(all(unix, not(target_os = "macos"), target_pointer_width = "64"))] let a = 1;
            #[cfg_attr(debug_assertions, allow(unused))] let b = is_x86_feature_detected!("avx2");"#;
        assert_eq!(messages(ok), Vec::<String>::new());
        let found =
            messages(r#"let b = cfg!(target_feature = "avx2"); let p = cfg!(panic = "abort");"#);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("is_x86_feature_detected"), "{found:?}");
        assert!(found[1].contains("always built to unwind"), "{found:?}");
        assert!(
            found[1].contains("write the body without it, or add"),
            "{found:?}"
        );
        let found = messages(
            "#[cfg(test)] let a = 1; let b = cfg!(any(unix, my_flag)); #[cfg_attr(not(test), inline)] fn f() {}",
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("`test` can differ"), "{found:?}");
        assert!(found[1].starts_with("`my_flag` can differ"), "{found:?}");
    }
}
