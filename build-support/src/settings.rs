//! The `STAGED_*` settings: the one place the environment is read.
//! [`Settings::from_env`] reads every variable once into a typed snapshot,
//! with a [`Warning`] for each value that cannot be used as written; the
//! runtime's `Config`, the `const_init!` evaluator's [`EvalConfig`] and the
//! `staged` command are views of one snapshot, each keeping the warnings
//! about the variables it uses. So they agree on every default (the cache
//! directory above all), every range, and how a bad value is reported.
//!
//! [`EvalConfig`]: crate::eval::config::EvalConfig

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::eval::config::{DEFAULT_TIMEOUT, MIN_MAX_MEMORY};

/// A `STAGED_*` variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Var {
    /// `STAGED_MODE`.
    Mode,
    /// `STAGED_CACHE_DIR`.
    CacheDir,
    /// `STAGED_RUSTC`.
    Rustc,
    /// `STAGED_TARGET_CPU`.
    TargetCpu,
    /// `STAGED_RUSTFLAGS`.
    Rustflags,
    /// `STAGED_PROFILE`.
    Profile,
    /// `STAGED_BUNDLE`.
    Bundle,
    /// `STAGED_CACHE_MAX_BYTES`.
    CacheMaxBytes,
    /// `STAGED_THRESHOLD`.
    Threshold,
    /// `STAGED_THRESHOLD_MS`.
    ThresholdMs,
    /// `STAGED_UNROLL_MAX`.
    UnrollMax,
    /// `STAGED_VALUE_MAX_BYTES`.
    ValueMaxBytes,
    /// `STAGED_MAX_VARIANTS`.
    MaxVariants,
    /// `STAGED_EVAL_TIMEOUT`.
    EvalTimeout,
    /// `STAGED_EVAL_MAX_MEMORY`.
    EvalMaxMemory,
}

impl Var {
    /// Its name in the environment.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Mode => "STAGED_MODE",
            Self::CacheDir => "STAGED_CACHE_DIR",
            Self::Rustc => "STAGED_RUSTC",
            Self::TargetCpu => "STAGED_TARGET_CPU",
            Self::Rustflags => "STAGED_RUSTFLAGS",
            Self::Profile => "STAGED_PROFILE",
            Self::Bundle => "STAGED_BUNDLE",
            Self::CacheMaxBytes => "STAGED_CACHE_MAX_BYTES",
            Self::Threshold => "STAGED_THRESHOLD",
            Self::ThresholdMs => "STAGED_THRESHOLD_MS",
            Self::UnrollMax => "STAGED_UNROLL_MAX",
            Self::ValueMaxBytes => "STAGED_VALUE_MAX_BYTES",
            Self::MaxVariants => "STAGED_MAX_VARIANTS",
            Self::EvalTimeout => "STAGED_EVAL_TIMEOUT",
            Self::EvalMaxMemory => "STAGED_EVAL_MAX_MEMORY",
        }
    }
}

/// Where the cache lives, when set.
pub const CACHE_DIR_VAR: &str = Var::CacheDir.name();

/// The variable that caps what libraries and `const_init!` results may
/// take together in the cache.
pub const MAX_BYTES_VAR: &str = Var::CacheMaxBytes.name();

/// The most run-time variants one function may load: each is a library
/// mapped for good, and the table has a slot per variant.
pub const MAX_VARIANTS_LIMIT: usize = 4096;
/// The largest threshold taken.
pub const THRESHOLD_LIMIT: u32 = 1_000_000_000;
/// The largest `STAGED_THRESHOLD_MS` taken: a day.
pub const THRESHOLD_MS_LIMIT: u32 = 86_400_000;
/// Copies of a loop body `#[staged::unroll]` makes at most in one variant,
/// by default (`STAGED_UNROLL_MAX`).
pub const DEFAULT_UNROLL_MAX: usize = 4096;
/// The largest `STAGED_UNROLL_MAX` taken.
pub const UNROLL_MAX_LIMIT: usize = 1 << 20;
/// The rendered size past which a structured value runs generic, by
/// default (`STAGED_VALUE_MAX_BYTES`): 1 MiB.
pub const DEFAULT_VALUE_MAX_BYTES: usize = 1 << 20;
/// The largest `STAGED_VALUE_MAX_BYTES` taken: 1 GiB.
pub const VALUE_MAX_BYTES_LIMIT: usize = 1 << 30;

/// `STAGED_MODE`: when values without a variant get one (the runtime's
/// `Mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `background`: a worker builds it after the threshold.
    Background,
    /// `sync`: built on first sight.
    Sync,
    /// `off`: nothing is built or loaded at run time.
    Off,
}

impl Mode {
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "background" => Some(Self::Background),
            "sync" => Some(Self::Sync),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

/// A setting that cannot be used as written, and what is used instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The variable.
    pub var: Var,
    /// What is wrong and what is used instead, for people.
    pub message: String,
}

/// The `STAGED_*` settings the environment gives, read once. `None` is a
/// variable not set, empty, or not used (with a [`Warning`]); a number out
/// of range is clamped (with a warning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `STAGED_MODE`.
    pub mode: Option<Mode>,
    /// `STAGED_CACHE_DIR`, else [`default_cache_dir`].
    pub cache_dir: PathBuf,
    /// `STAGED_RUSTC`.
    pub rustc: Option<PathBuf>,
    /// `STAGED_TARGET_CPU`.
    pub target_cpu: Option<String>,
    /// `STAGED_RUSTFLAGS`, split at white space.
    pub rustflags: Option<Vec<String>>,
    /// `STAGED_PROFILE`.
    pub profile: Option<PathBuf>,
    /// `STAGED_BUNDLE`, split at `:`.
    pub bundles: Option<Vec<PathBuf>>,
    /// `STAGED_CACHE_MAX_BYTES`.
    pub cache_max_bytes: Option<u64>,
    /// `STAGED_THRESHOLD`, 1 to [`THRESHOLD_LIMIT`].
    pub threshold: Option<u32>,
    /// `STAGED_THRESHOLD_MS`, 0 to [`THRESHOLD_MS_LIMIT`].
    pub threshold_ms: Option<u32>,
    /// `STAGED_UNROLL_MAX`, 0 to [`UNROLL_MAX_LIMIT`].
    pub unroll_max: Option<usize>,
    /// `STAGED_VALUE_MAX_BYTES`, at most [`VALUE_MAX_BYTES_LIMIT`].
    pub value_max_bytes: Option<usize>,
    /// `STAGED_MAX_VARIANTS`, 0 to [`MAX_VARIANTS_LIMIT`].
    pub max_variants: Option<usize>,
    /// `STAGED_EVAL_TIMEOUT`, seconds greater than zero.
    pub eval_timeout: Option<Duration>,
    /// `STAGED_EVAL_MAX_MEMORY`, at least
    /// [`MIN_MAX_MEMORY`](crate::eval::config::MIN_MAX_MEMORY).
    pub eval_max_memory: Option<u64>,
    /// `PATH` (to find the linker) and `TMPDIR`, when set: all the
    /// evaluator passes on to rustc.
    pub rustc_env: Vec<(String, OsString)>,
    /// What could not be used as written, in the order read.
    pub warnings: Vec<Warning>,
}

impl Settings {
    /// The settings of the environment, as it is now.
    #[allow(clippy::disallowed_methods)] // this module is where the environment is read
    pub fn from_env() -> Self {
        Self::read(&|name| std::env::var_os(name))
    }

    /// The settings `env` gives (a variable's value by its name).
    fn read(env: &dyn Fn(&str) -> Option<OsString>) -> Self {
        let mut r = Reader {
            env,
            warnings: Vec::new(),
        };
        // The evaluator's first: each view lists its warnings in the order
        // it used to read its variables.
        let eval_timeout = r.seconds(Var::EvalTimeout, DEFAULT_TIMEOUT);
        let eval_max_memory = r
            .number(Var::EvalMaxMemory, MIN_MAX_MEMORY.into(), u64::MAX.into())
            .map(|n| u64::try_from(n).unwrap_or(u64::MAX));
        let mode = r.text(Var::Mode).and_then(|v| {
            let mode = Mode::parse(&v);
            if mode.is_none() {
                r.warn(
                    Var::Mode,
                    format!(
                        "STAGED_MODE={v:?} is not background, sync or off; using {:?}",
                        Mode::Background
                    ),
                );
            }
            mode
        });
        let cache_max_bytes = r.bytes(Var::CacheMaxBytes);
        let threshold = r
            .number(Var::Threshold, 1, THRESHOLD_LIMIT.into())
            .map(|n| u32::try_from(n).unwrap_or(THRESHOLD_LIMIT));
        let threshold_ms = r
            .number(Var::ThresholdMs, 0, THRESHOLD_MS_LIMIT.into())
            .map(|n| u32::try_from(n).unwrap_or(THRESHOLD_MS_LIMIT));
        let unroll_max = r
            .number(Var::UnrollMax, 0, UNROLL_MAX_LIMIT as u128)
            .map(|n| usize::try_from(n).unwrap_or(UNROLL_MAX_LIMIT));
        let value_max_bytes = r.bytes(Var::ValueMaxBytes).map(|n| {
            let limit = VALUE_MAX_BYTES_LIMIT as u64;
            if n > limit {
                r.warn(
                    Var::ValueMaxBytes,
                    format!("STAGED_VALUE_MAX_BYTES={n} is more than {limit}; using {limit}"),
                );
            }
            usize::try_from(n.min(limit)).unwrap_or(VALUE_MAX_BYTES_LIMIT)
        });
        let max_variants = r
            .number(Var::MaxVariants, 0, MAX_VARIANTS_LIMIT as u128)
            .map(|n| usize::try_from(n).unwrap_or(MAX_VARIANTS_LIMIT));
        Self {
            mode,
            cache_dir: r
                .os(Var::CacheDir.name())
                .map_or_else(default_cache_dir, PathBuf::from),
            rustc: r.text(Var::Rustc).map(PathBuf::from),
            target_cpu: r.text(Var::TargetCpu),
            rustflags: r
                .text(Var::Rustflags)
                .map(|v| v.split_whitespace().map(str::to_owned).collect()),
            profile: r.text(Var::Profile).map(PathBuf::from),
            bundles: r.os(Var::Bundle.name()).map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            }),
            cache_max_bytes,
            threshold,
            threshold_ms,
            unroll_max,
            value_max_bytes,
            max_variants,
            eval_timeout,
            eval_max_memory,
            rustc_env: ["PATH", "TMPDIR"]
                .into_iter()
                .filter_map(|name| Some((name.to_owned(), r.os(name)?)))
                .collect(),
            warnings: r.warnings,
        }
    }

    /// The warnings about `vars`, in the order found.
    pub fn warnings_about(&self, vars: &[Var]) -> Vec<String> {
        self.warnings
            .iter()
            .filter(|w| vars.contains(&w.var))
            .map(|w| w.message.clone())
            .collect()
    }
}

/// The directories of `PATH`, to look a program up as cargo would (for a
/// build script).
#[allow(clippy::disallowed_methods)] // this module is where the environment is read
pub(crate) fn search_path() -> Option<OsString> {
    std::env::var_os("PATH").filter(|v| !v.is_empty())
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

/// Seconds, possibly fractional, greater than zero.
pub fn parse_seconds(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().parse().ok()?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
}

/// Reads variables, and collects, for each that cannot be used as
/// written, one warning saying what is used instead.
struct Reader<'a> {
    env: &'a dyn Fn(&str) -> Option<OsString>,
    warnings: Vec<Warning>,
}

impl Reader<'_> {
    /// The value of `name`, when it is set and not empty.
    fn os(&self, name: &str) -> Option<OsString> {
        (self.env)(name).filter(|v| !v.is_empty())
    }

    /// The value of `var`, when it is set, not empty and Unicode.
    fn text(&self, var: Var) -> Option<String> {
        self.os(var.name())?.into_string().ok()
    }

    /// Records `message` about `var` (once).
    fn warn(&mut self, var: Var, message: String) {
        let warning = Warning { var, message };
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// The whole number in `var`, clamped to `min..=max` with a warning;
    /// `None`, with a warning, when it is not a number. A negative number
    /// counts as 0 (then clamped), one too large for any integer as the
    /// largest.
    fn number(&mut self, var: Var, min: u128, max: u128) -> Option<u128> {
        let name = var.name();
        let v = self.text(var)?;
        let t = v.trim();
        let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
        let n = if digits(t) {
            t.parse::<u128>().unwrap_or(u128::MAX)
        } else if t.strip_prefix('-').is_some_and(digits) {
            0
        } else {
            self.warn(
                var,
                format!("{name}={v:?} is not a number; using the default"),
            );
            return None;
        };
        let clamped = n.clamp(min, max);
        if clamped != n || t.starts_with('-') {
            self.warn(
                var,
                format!("{name}={t} is out of range ({min} to {max}); using {clamped}"),
            );
        }
        Some(clamped)
    }

    /// The number of bytes in `var` (see [`number`](Self::number)).
    fn bytes(&mut self, var: Var) -> Option<u64> {
        let n = self.number(var, 0, u128::from(u64::MAX))?;
        Some(u64::try_from(n).unwrap_or(u64::MAX))
    }

    /// The seconds in `var`; `None`, with a warning naming `default`, when
    /// it is not a number of seconds greater than zero.
    fn seconds(&mut self, var: Var, default: Duration) -> Option<Duration> {
        let v = self.text(var)?;
        let secs = parse_seconds(&v);
        if secs.is_none() {
            self.warn(
                var,
                format!(
                    "{}={v:?} is not a number of seconds; using {}",
                    var.name(),
                    default.as_secs_f64()
                ),
            );
        }
        secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        Settings::read(&|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

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
        assert_eq!(settings(&[]).cache_dir, dir);
    }

    #[test]
    fn every_variable_is_read_into_its_type() {
        let s = settings(&[
            ("STAGED_MODE", " Sync "),
            ("STAGED_CACHE_DIR", "/c"),
            ("STAGED_RUSTC", "/r/rustc"),
            ("STAGED_TARGET_CPU", "x86-64-v3"),
            ("STAGED_RUSTFLAGS", " -C  opt-level=2 "),
            ("STAGED_PROFILE", "p.profile"),
            ("STAGED_BUNDLE", "/a::/b"),
            ("STAGED_CACHE_MAX_BYTES", "1000"),
            ("STAGED_THRESHOLD", "7"),
            ("STAGED_THRESHOLD_MS", "0"),
            ("STAGED_UNROLL_MAX", "9"),
            ("STAGED_VALUE_MAX_BYTES", "100"),
            ("STAGED_MAX_VARIANTS", "3"),
            ("STAGED_EVAL_TIMEOUT", "1.5"),
            ("STAGED_EVAL_MAX_MEMORY", "33554432"),
            ("PATH", "/bin"),
            ("TMPDIR", ""),
        ]);
        assert_eq!(s.mode, Some(Mode::Sync));
        assert_eq!(s.cache_dir, PathBuf::from("/c"));
        assert_eq!(s.rustc, Some(PathBuf::from("/r/rustc")));
        assert_eq!(s.target_cpu.as_deref(), Some("x86-64-v3"));
        assert_eq!(s.rustflags, Some(vec!["-C".into(), "opt-level=2".into()]));
        assert_eq!(s.profile, Some(PathBuf::from("p.profile")));
        assert_eq!(s.bundles, Some(vec!["/a".into(), "/b".into()]));
        assert_eq!(s.cache_max_bytes, Some(1000));
        assert_eq!((s.threshold, s.threshold_ms), (Some(7), Some(0)));
        assert_eq!((s.unroll_max, s.value_max_bytes), (Some(9), Some(100)));
        assert_eq!(s.max_variants, Some(3));
        assert_eq!(s.eval_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(s.eval_max_memory, Some(32 << 20));
        assert_eq!(s.rustc_env, [("PATH".to_owned(), OsString::from("/bin"))]);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn what_cannot_be_used_is_said_once_about_its_variable() {
        let s = settings(&[
            ("STAGED_MODE", "later"),
            ("STAGED_CACHE_MAX_BYTES", "lots"),
            ("STAGED_THRESHOLD", "0"),
            ("STAGED_MAX_VARIANTS", "99999999999"),
            ("STAGED_VALUE_MAX_BYTES", "99999999999"),
            ("STAGED_UNROLL_MAX", "-3"),
            ("STAGED_EVAL_TIMEOUT", "-1"),
            ("STAGED_EVAL_MAX_MEMORY", "1"),
        ]);
        assert_eq!(s.mode, None);
        assert_eq!(s.cache_max_bytes, None);
        assert_eq!(s.threshold, Some(1));
        assert_eq!(s.max_variants, Some(MAX_VARIANTS_LIMIT));
        assert_eq!(s.value_max_bytes, Some(VALUE_MAX_BYTES_LIMIT));
        assert_eq!(s.unroll_max, Some(0));
        assert_eq!(s.eval_timeout, None);
        assert_eq!(s.eval_max_memory, Some(MIN_MAX_MEMORY));
        assert_eq!(
            s.warnings_about(&[Var::Mode, Var::CacheMaxBytes]),
            [
                "STAGED_MODE=\"later\" is not background, sync or off; using Background",
                "STAGED_CACHE_MAX_BYTES=\"lots\" is not a number; using the default",
            ]
        );
        assert_eq!(
            s.warnings_about(&[Var::EvalTimeout, Var::EvalMaxMemory]),
            [
                "STAGED_EVAL_TIMEOUT=\"-1\" is not a number of seconds; using 120",
                "STAGED_EVAL_MAX_MEMORY=1 is out of range (16777216 to 18446744073709551615); using 16777216",
            ]
        );
        assert_eq!(
            s.warnings_about(&[Var::ValueMaxBytes]),
            ["STAGED_VALUE_MAX_BYTES=99999999999 is more than 1073741824; using 1073741824"]
        );
        assert_eq!(s.warnings.len(), 8, "{:?}", s.warnings);
    }
}
