//! The settings of the compilation the macro runs in, read from rustc's own
//! command line: a proc macro runs inside the rustc that compiles the
//! user's crate, so `std::env::args()` are that rustc's arguments, with the
//! profile's `-C overflow-checks`, `-C debug-assertions`, `-C opt-level`
//! and `--edition`. Run-time variants must be built with the same overflow
//! checks as the crate (a profile with `overflow-checks = true` and
//! `debug-assertions = false` is a common hardening setting), and no `cfg`
//! tells a macro that.
//!
//! Where the arguments are not rustc's (rust-analyzer expands macros in a
//! server of its own), nothing is known and the expansion falls back on
//! `cfg!(debug_assertions)`, which rustc's defaults tie overflow checks to.

use std::sync::OnceLock;

/// What the compilation's command line says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BuildFlags {
    /// Whether integer overflow panics, when rustc's arguments were seen.
    pub(crate) overflow_checks: Option<bool>,
    /// The crate's edition, when rustc's arguments were seen.
    pub(crate) edition: Option<String>,
    /// The name the crate gives the `staged` crate, when it renamed it
    /// (`foo = { package = "staged" }`): `--extern foo=…/libstaged-….rlib`.
    pub(crate) staged_as: Option<String>,
}

/// The flags of the current compilation, read once.
pub(crate) fn current() -> &'static BuildFlags {
    static FLAGS: OnceLock<BuildFlags> = OnceLock::new();
    FLAGS.get_or_init(|| from_args(std::env::args().skip(1)))
}

/// Reads rustc's arguments (`@file` arguments expanded) as rustc does: the
/// last setting of an option wins, debug assertions default to on at
/// `opt-level=0`, and overflow checks default to the debug assertions.
pub(crate) fn from_args(args: impl Iterator<Item = String>) -> BuildFlags {
    let args = expand_argfiles(args);
    if !args
        .iter()
        .any(|a| a == "--crate-name" || a.starts_with("--crate-name="))
    {
        return BuildFlags::default();
    }
    let mut opt_level = "0".to_owned();
    let mut debug_assertions: Option<bool> = None;
    let mut overflow_checks: Option<bool> = None;
    let mut edition = None;
    let mut staged_as = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let next = args.get(i + 1).map(String::as_str);
        let (codegen, used) = match arg {
            "-C" | "--codegen" => (next, 2),
            _ => match arg
                .strip_prefix("--codegen=")
                .or_else(|| arg.strip_prefix("-C"))
            {
                Some(rest) if !rest.is_empty() => (Some(rest), 1),
                _ => (None, 1),
            },
        };
        if let Some(option) =
            codegen.filter(|_| arg.starts_with("-C") || arg.starts_with("--codegen"))
        {
            let (key, value) = option.split_once('=').unwrap_or((option, ""));
            match key {
                "opt-level" => opt_level = value.to_owned(),
                "debug-assertions" => debug_assertions = switch(value),
                "overflow-checks" => overflow_checks = switch(value),
                _ => {}
            }
            i += used;
            continue;
        }
        match arg {
            "-O" => opt_level = "2".to_owned(),
            "--edition" => {
                edition = next.map(str::to_owned);
                i += 1;
            }
            "--extern" => {
                if let Some(name) = next.and_then(staged_extern) {
                    staged_as.get_or_insert(name);
                }
                i += 1;
            }
            _ => {
                if let Some(e) = arg.strip_prefix("--edition=") {
                    edition = Some(e.to_owned());
                }
                if let Some(name) = arg.strip_prefix("--extern=").and_then(staged_extern) {
                    staged_as.get_or_insert(name);
                }
            }
        }
        i += 1;
    }
    let debug_assertions = debug_assertions.unwrap_or(opt_level == "0");
    BuildFlags {
        overflow_checks: Some(overflow_checks.unwrap_or(debug_assertions)),
        edition,
        staged_as,
    }
}

/// The name of an `--extern name=path` argument whose library is the
/// `staged` crate (`libstaged-<hash>.rlib` or `.rmeta`), when that name is
/// not `staged`.
fn staged_extern(value: &str) -> Option<String> {
    let (name, path) = value.split_once('=')?;
    let name = name.rsplit(':').next()?;
    let file = std::path::Path::new(path).file_name()?.to_str()?;
    let stem = file
        .strip_suffix(".rlib")
        .or_else(|| file.strip_suffix(".rmeta"))?;
    let hash = stem.strip_prefix("libstaged-")?;
    let is_staged = !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_alphanumeric());
    (is_staged && name != "staged").then(|| name.to_owned())
}

/// `on`, `yes`, `y`, `true` or nothing is on; `off`, `no`, `n`, `false` off.
fn switch(value: &str) -> Option<bool> {
    match value {
        "" | "on" | "yes" | "y" | "true" => Some(true),
        "off" | "no" | "n" | "false" => Some(false),
        _ => None,
    }
}

/// Replaces each `@path` argument with the lines of that file, as rustc
/// does (one argument per line).
fn expand_argfiles(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    for arg in args {
        match arg.strip_prefix('@').map(std::fs::read_to_string) {
            Some(Ok(text)) => out.extend(text.lines().map(str::to_owned)),
            _ => out.push(arg),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(args: &str) -> BuildFlags {
        from_args(args.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn overflow_checks_follow_rustcs_rules() {
        let rustc = "--crate-name demo --edition=2021 src/lib.rs";
        // Dev profile: opt-level 0, checks on by default.
        assert_eq!(read(rustc).overflow_checks, Some(true));
        // Release: off.
        let release = format!("{rustc} -C opt-level=3");
        assert_eq!(read(&release).overflow_checks, Some(false));
        // The hardening profile: overflow checks on, debug assertions off.
        let hardened = format!("{rustc} -C opt-level=3 -C overflow-checks=on");
        assert_eq!(read(&hardened).overflow_checks, Some(true));
        let dev_without_asserts = format!("{rustc} -C debug-assertions=off");
        assert_eq!(read(&dev_without_asserts).overflow_checks, Some(false));
        let both = format!("{rustc} -Copt-level=3 -Cdebug-assertions -C overflow-checks=no");
        assert_eq!(read(&both).overflow_checks, Some(false));
        assert_eq!(read("-O --crate-name x").overflow_checks, Some(false));
        assert_eq!(read(rustc).edition.as_deref(), Some("2021"));
        assert_eq!(
            read("--crate-name x --edition 2024").edition.as_deref(),
            Some("2024")
        );
    }

    #[test]
    fn a_renamed_staged_is_found_by_its_library() {
        let base = "--crate-name app --edition=2021 src/main.rs";
        let args = format!(
            "{base} --extern staged_macros=/t/deps/libstaged_macros-1a2b.so --extern stg=/t/deps/libstaged-0f9e8d.rlib"
        );
        assert_eq!(read(&args).staged_as.as_deref(), Some("stg"));
        let args = format!("{base} --extern=noprelude:stg=/t/deps/libstaged-0f9e8d.rmeta");
        assert_eq!(read(&args).staged_as.as_deref(), Some("stg"));
        // Not renamed, or not staged at all.
        let args = format!("{base} --extern staged=/t/deps/libstaged-0f9e8d.rlib");
        assert_eq!(read(&args).staged_as, None);
        let args = format!("{base} --extern staged_runtime=/t/libstaged_runtime-77.rlib");
        assert_eq!(read(&args).staged_as, None);
        assert_eq!(read(&format!("{base} --extern proc_macro")).staged_as, None);
    }

    #[test]
    fn arguments_that_are_not_rustcs_say_nothing() {
        assert_eq!(read("--stdio -C overflow-checks=on"), BuildFlags::default());
    }

    #[test]
    fn argument_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("args");
        std::fs::write(
            &file,
            "--crate-name\ndemo\n-C\nopt-level=3\n-C\noverflow-checks=on\n",
        )
        .unwrap();
        let flags = from_args([format!("@{}", file.display())].into_iter());
        assert_eq!(flags.overflow_checks, Some(true));
    }
}
