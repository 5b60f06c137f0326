//! The edition of the crate being compiled, read from its manifest.
//!
//! Run-time variants are built with the edition of the crate that declared the
//! function, so that its body means the same thing in both builds. Cargo does
//! not tell a proc macro the edition, so it is read from `Cargo.toml`
//! (following `edition.workspace = true`); when that fails, 2021 is assumed
//! and used consistently for the static variants and the run-time build.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const FALLBACK: &str = "2021";
const KNOWN: [&str; 4] = ["2015", "2018", "2021", "2024"];

/// The current crate's edition, `"2015"` to `"2024"`.
pub(crate) fn current() -> &'static str {
    static EDITION: OnceLock<&'static str> = OnceLock::new();
    EDITION.get_or_init(|| {
        let given = crate::build_flags::current().edition.as_deref();
        given.and_then(known).or_else(detect).unwrap_or(FALLBACK)
    })
}

#[allow(clippy::disallowed_methods)] // cargo's variable, not a STAGED_ setting
fn detect() -> Option<&'static str> {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    match table_value(&manifest, "package", "edition")? {
        Setting::Value(v) => known(&v),
        Setting::Workspace => workspace_edition(&dir),
    }
}

fn workspace_edition(start: &Path) -> Option<&'static str> {
    start.ancestors().skip(1).find_map(|dir| {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        match table_value(&text, "workspace.package", "edition")? {
            Setting::Value(v) => known(&v),
            Setting::Workspace => None,
        }
    })
}

fn known(value: &str) -> Option<&'static str> {
    KNOWN.into_iter().find(|k| *k == value)
}

enum Setting {
    Value(String),
    Workspace,
}

/// Finds `key` in `[table]` of a manifest, in the forms cargo writes:
/// `key = "v"`, `key.workspace = true`, `key = { workspace = true }`.
fn table_value(manifest: &str, table: &str, key: &str) -> Option<Setting> {
    let mut current = String::new();
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(header) = line.strip_prefix('[') {
            current = header.trim_end_matches(']').trim().to_owned();
            continue;
        }
        if current != table {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k == key {
            if v.contains("workspace") {
                return Some(Setting::Workspace);
            }
            return Some(Setting::Value(v.trim_matches(['"', '\'']).to_owned()));
        }
        if k == format!("{key}.workspace") {
            return Some(Setting::Workspace);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{Setting, table_value};

    fn value(manifest: &str, table: &str) -> Option<String> {
        match table_value(manifest, table, "edition")? {
            Setting::Value(v) => Some(v),
            Setting::Workspace => Some("workspace".into()),
        }
    }

    #[test]
    fn reads_the_forms_cargo_accepts() {
        let m =
            "[package]\nname = \"x\"\nedition = \"2024\" # new\n[dependencies]\nedition = \"1\"\n";
        assert_eq!(value(m, "package").as_deref(), Some("2024"));
        let m = "[package]\nedition.workspace = true\n";
        assert_eq!(value(m, "package").as_deref(), Some("workspace"));
        let m = "[package]\nedition = { workspace = true }\n";
        assert_eq!(value(m, "package").as_deref(), Some("workspace"));
        let m = "[workspace.package]\nedition = '2018'\n";
        assert_eq!(value(m, "workspace.package").as_deref(), Some("2018"));
        assert_eq!(value("[package]\nname = \"x\"\n", "package"), None);
    }
}
