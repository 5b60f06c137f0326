//! Settings of the build-time evaluator, read from the environment of the
//! process that expands `const_init!` (rustc, through cargo). This is the
//! only module of staged-build that reads `STAGED_*` variables.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// How long an evaluator program may run when nothing says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How long rustc may take to build an evaluator program.
pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// How much of what an evaluator program prints (each of stdout and
/// stderr) is kept, for messages; the rest is read and dropped.
pub const DEFAULT_OUTPUT_LIMIT: usize = 1 << 20;

/// How many bytes of records (the values, rendered) one run of an
/// evaluator program may send; an item past it fails.
pub const DEFAULT_RECORD_LIMIT: usize = 1 << 30;

/// The evaluator's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalConfig {
    /// Where evaluated blocks are cached: `STAGED_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/staged`, else `~/.cache/staged`, else (no `HOME`)
    /// `staged-<uid>` in the temporary directory.
    pub cache_dir: Option<PathBuf>,
    /// How long one run of an evaluator program may take:
    /// `STAGED_EVAL_TIMEOUT` (seconds), else [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
    /// How long rustc may take to build it.
    pub build_timeout: Duration,
    /// The only variables rustc gets: `PATH` (to find the linker) and
    /// `TMPDIR`; the evaluator program itself gets none.
    pub rustc_env: Vec<(String, OsString)>,
    /// How much of an evaluator program's stdout and of its stderr is kept:
    /// [`DEFAULT_OUTPUT_LIMIT`].
    pub output_limit: usize,
    /// How many bytes of records one run may send:
    /// [`DEFAULT_RECORD_LIMIT`].
    pub record_limit: usize,
    /// How many bytes libraries and `const_init!` results may take together
    /// in the cache before the oldest are pruned: `STAGED_CACHE_MAX_BYTES`,
    /// else [`DEFAULT_MAX_BYTES`](crate::store::DEFAULT_MAX_BYTES).
    pub cache_max_bytes: u64,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            timeout: DEFAULT_TIMEOUT,
            build_timeout: DEFAULT_BUILD_TIMEOUT,
            rustc_env: Vec::new(),
            output_limit: DEFAULT_OUTPUT_LIMIT,
            record_limit: DEFAULT_RECORD_LIMIT,
            cache_max_bytes: crate::store::DEFAULT_MAX_BYTES,
        }
    }
}

impl EvalConfig {
    /// The settings from the environment. A `STAGED_EVAL_TIMEOUT` that is
    /// not a number of seconds is ignored, and [`EvalConfig::problems`] says
    /// so.
    pub fn from_env() -> Self {
        let mut config = Self {
            cache_dir: cache_dir(),
            ..Self::default()
        };
        if let Some(secs) = var("STAGED_EVAL_TIMEOUT").and_then(|v| parse_seconds(&v)) {
            config.timeout = secs;
        }
        if let Some(bytes) = var(MAX_BYTES_VAR).and_then(|v| parse_bytes(&v)) {
            config.cache_max_bytes = bytes;
        }
        for name in ["PATH", "TMPDIR"] {
            if let Some(value) = var_os(name) {
                config.rustc_env.push((name.to_owned(), value));
            }
        }
        config
    }

    /// What is wrong with the environment's settings, for a warning.
    pub fn problems() -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(v) = var("STAGED_EVAL_TIMEOUT").filter(|v| parse_seconds(v).is_none()) {
            problems.push(format!(
                "STAGED_EVAL_TIMEOUT={v:?} is not a number of seconds; using {}",
                DEFAULT_TIMEOUT.as_secs()
            ));
        }
        if let Some(v) = var(MAX_BYTES_VAR).filter(|v| parse_bytes(v).is_none()) {
            problems.push(format!(
                "{MAX_BYTES_VAR}={v:?} is not a whole number of bytes; using {}",
                crate::store::DEFAULT_MAX_BYTES
            ));
        }
        problems
    }
}

/// The variable that caps what libraries and `const_init!` results may
/// take together in the cache.
pub const MAX_BYTES_VAR: &str = "STAGED_CACHE_MAX_BYTES";

/// A whole number of bytes.
pub fn parse_bytes(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// Seconds, possibly fractional, greater than zero.
pub fn parse_seconds(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().parse().ok()?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
}

fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = var_os("STAGED_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(xdg) = var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(xdg).join("staged"));
    }
    let Some(home) = var_os("HOME").map(PathBuf::from) else {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let uid = unsafe { libc::geteuid() };
        return Some(std::env::temp_dir().join(format!("staged-{uid}")));
    };
    let base = if cfg!(target_os = "macos") {
        home.join("Library/Caches")
    } else {
        home.join(".cache")
    };
    Some(base.join("staged"))
}

#[allow(clippy::disallowed_methods)] // this module is where the environment is read
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[allow(clippy::disallowed_methods)] // this module is where the environment is read
fn var_os(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_loosely_but_not_wrongly() {
        assert_eq!(parse_seconds(" 5 "), Some(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_seconds("0"), None);
        assert_eq!(parse_seconds("-3"), None);
        assert_eq!(parse_seconds("soon"), None);
        assert_eq!(parse_seconds("inf"), None);
    }
}
