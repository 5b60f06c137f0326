//! `staged profile show|merge`: value profiles read with staged-build's
//! reader and merged (counts of one value add up).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use staged_build::profile::{Entry, Profile};

use crate::args::ProfileCommand;
use crate::cache::table::SHORT;
use crate::error::CliError;
use crate::output::Output;

/// Runs one `staged profile` command.
///
/// # Errors
///
/// When a profile cannot be read, or the merged one cannot be written.
pub fn run(command: &ProfileCommand) -> Result<Output, CliError> {
    let mut output = Output::default();
    match command {
        ProfileCommand::Show { files } => {
            let profile = read_all(files, &mut output.warnings)?;
            output.text = show(&profile);
        }
        ProfileCommand::Merge { files, output: out } => {
            let text = read_all(files, &mut output.warnings)?.to_text();
            match out {
                Some(path) => write_whole(path, &text)?,
                None => output.text = text,
            }
        }
    }
    Ok(output)
}

/// The profiles in `files`, merged; lines that are not entries become
/// warnings naming their file.
fn read_all(files: &[PathBuf], warnings: &mut Vec<String>) -> Result<Profile, CliError> {
    let mut merged = Profile::default();
    for path in files {
        let (profile, problems) = Profile::read(path).map_err(|source| CliError::ReadProfile {
            path: path.clone(),
            source,
        })?;
        warnings.extend(
            problems
                .into_iter()
                .map(|p| format!("{}: {p}", path.display())),
        );
        merged.merge(profile);
    }
    Ok(merged)
}

/// A function of a profile. Ordered by path first, for the listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Function<'a> {
    path: &'a str,
    krate: &'a str,
    fingerprint: &'a str,
}

/// One block per function (its path, crate and fingerprint), its values
/// hottest first with their calls.
fn show(profile: &Profile) -> String {
    let mut functions: BTreeMap<Function<'_>, Vec<(&Entry, u64)>> = BTreeMap::new();
    for (entry, calls) in profile.entries() {
        let function = Function {
            path: &entry.function,
            krate: &entry.krate,
            fingerprint: &entry.fingerprint,
        };
        functions.entry(function).or_default().push((entry, calls));
    }
    let mut out = String::new();
    for (function, mut values) in functions {
        if !out.is_empty() {
            out.push('\n');
        }
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.values.cmp(&b.0.values)));
        block(&mut out, function, &values);
    }
    if out.is_empty() {
        out.push_str("no values\n");
    }
    out
}

/// The block of `function`, whose `values` are sorted.
fn block(out: &mut String, function: Function<'_>, values: &[(&Entry, u64)]) {
    let calls = values
        .iter()
        .fold(0u64, |sum, (_, c)| sum.saturating_add(*c));
    let prefix = function
        .fingerprint
        .get(..SHORT)
        .unwrap_or(function.fingerprint);
    let _ = writeln!(
        out,
        "{}  (crate {}, fingerprint {prefix}, {}, {})",
        function.path,
        function.krate,
        counted(values.len() as u64, "value"),
        counted(calls, "call")
    );
    let width = values.first().map_or(1, |(_, c)| c.to_string().len());
    for (entry, calls) in values {
        let _ = writeln!(out, "  {calls:>width$}  {}", entry.values.join(", "));
    }
}

/// `1 value`, `3 values`.
fn counted(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Replaces `path` with `text` at once: a temporary file beside it, then a
/// rename, so that a reader (or a crash) never sees half a profile.
fn write_whole(path: &Path, text: &str) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let failed = |source| CliError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".staged-profile")
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)?;
    file.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}
