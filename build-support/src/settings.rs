//! The `STAGED_*` settings: the one place the environment is read, by the
//! runtime's `Config`, the `const_init!` evaluator's [`EvalConfig`] and the
//! `staged` command, so that they agree on every default (the cache
//! directory above all) and on how a value that cannot be read is reported.
//!
//! [`EvalConfig`]: crate::eval::config::EvalConfig

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Where the cache lives, when set.
pub const CACHE_DIR_VAR: &str = "STAGED_CACHE_DIR";

/// The variable that caps what libraries and `const_init!` results may
/// take together in the cache.
pub const MAX_BYTES_VAR: &str = "STAGED_CACHE_MAX_BYTES";

/// The value of `name`, when it is set, not empty and Unicode.
#[allow(clippy::disallowed_methods)] // this module is where the environment is read
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The value of `name`, when it is set and not empty.
#[allow(clippy::disallowed_methods)] // this module is where the environment is read
pub fn var_os(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// The cache directory: `STAGED_CACHE_DIR`, else [`default_cache_dir`].
pub fn cache_dir() -> PathBuf {
    var_os(CACHE_DIR_VAR).map_or_else(default_cache_dir, PathBuf::from)
}

/// `staged` in the platform's cache directory (`$XDG_CACHE_HOME` when it is
/// absolute, else `~/.cache`; `~/Library/Caches` on macOS), found by the
/// `etcetera` crate; with no home directory at all, `staged-<uid>` in the
/// temporary directory (whose sticky, root-owned parent the store accepts,
/// and which the store refuses if another user made it first).
pub fn default_cache_dir() -> PathBuf {
    use etcetera::BaseStrategy as _;
    match etcetera::choose_base_strategy() {
        Ok(base) => base.cache_dir().join("staged"),
        Err(_) => {
            std::env::temp_dir().join(format!("staged-{}", rustix::process::geteuid().as_raw()))
        }
    }
}

/// A whole number of bytes.
pub fn parse_bytes(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// Seconds, possibly fractional, greater than zero.
pub fn parse_seconds(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().parse().ok()?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
}

/// Reads settings and collects, for each that cannot be used as written,
/// one warning saying what is used instead.
#[derive(Debug, Default)]
pub struct Reader {
    warnings: Vec<String>,
}

impl Reader {
    /// A reader with no warnings yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `warning` (once).
    pub fn warn(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// The warnings so far.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The whole number in `name`, clamped to `min..=max` with a warning;
    /// `None`, with a warning, when it is not a number. A negative number
    /// counts as 0 (then clamped), one too large for any integer as the
    /// largest.
    pub fn number(&mut self, name: &str, min: u128, max: u128) -> Option<u128> {
        let v = var(name)?;
        let t = v.trim();
        let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
        let n = if digits(t) {
            t.parse::<u128>().unwrap_or(u128::MAX)
        } else if t.strip_prefix('-').is_some_and(digits) {
            0
        } else {
            self.warn(format!("{name}={v:?} is not a number; using the default"));
            return None;
        };
        let clamped = n.clamp(min, max);
        if clamped != n || t.starts_with('-') {
            self.warn(format!(
                "{name}={t} is out of range ({min} to {max}); using {clamped}"
            ));
        }
        Some(clamped)
    }

    /// The number of bytes in `name` (see [`number`](Self::number)).
    pub fn bytes(&mut self, name: &str) -> Option<u64> {
        let n = self.number(name, 0, u128::from(u64::MAX))?;
        Some(u64::try_from(n).unwrap_or(u64::MAX))
    }

    /// The seconds in `name`; `None`, with a warning naming `default`, when
    /// it is not a number of seconds greater than zero.
    pub fn seconds(&mut self, name: &str, default: Duration) -> Option<Duration> {
        let v = var(name)?;
        let secs = parse_seconds(&v);
        if secs.is_none() {
            self.warn(format!(
                "{name}={v:?} is not a number of seconds; using {}",
                default.as_secs_f64()
            ));
        }
        secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_loosely_but_not_wrongly() {
        assert_eq!(parse_seconds(" 2.5 "), Some(Duration::from_millis(2500)));
        for bad in ["0", "-1", "NaN", "inf", "two", ""] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_default_cache_dir_is_named_staged_and_absolute() {
        let dir = default_cache_dir();
        assert!(dir.is_absolute(), "{}", dir.display());
        assert!(
            dir.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("staged")),
            "{}",
            dir.display()
        );
    }
}
