//! Settings of the run-time stage: a view of the `STAGED_*` environment
//! as `staged_build::settings` reads it (for the evaluator and the
//! `staged` command too), or set in code with the [`Config`] builder.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use staged_build::settings::{self, Settings, Var};

pub use staged_build::settings::{
    DEFAULT_UNROLL_MAX, DEFAULT_VALUE_MAX_BYTES, MAX_VARIANTS_LIMIT, THRESHOLD_LIMIT,
    THRESHOLD_MS_LIMIT, UNROLL_MAX_LIMIT, VALUE_MAX_BYTES_LIMIT,
};

/// When values without a variant get one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// A value without a variant runs the generic body; after
    /// [`Config::threshold`] calls, or [`Config::threshold_ms`] milliseconds
    /// of them, a worker builds it, and calls switch to it. A value the
    /// cache or a bundle holds is loaded at its first call.
    Background,
    /// A value without a variant is built on first sight; the caller waits.
    Sync,
    /// Nothing is built or loaded at run time.
    Off,
}

impl From<settings::Mode> for Mode {
    fn from(mode: settings::Mode) -> Self {
        match mode {
            settings::Mode::Background => Self::Background,
            settings::Mode::Sync => Self::Sync,
            settings::Mode::Off => Self::Off,
        }
    }
}

/// The settings of the run-time stage.
///
/// ```no_run
/// # mod staged { pub mod runtime { pub use staged_runtime::{Config, Mode}; } }
/// use staged::runtime::{Config, Mode};
///
/// Config::from_env().mode(Mode::Sync).threshold(8).install();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub(crate) mode: Mode,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) rustc: Option<PathBuf>,
    pub(crate) target_cpu: String,
    pub(crate) rustflags: Vec<String>,
    pub(crate) threshold: u32,
    /// Milliseconds of generic calls of one value before `Background`
    /// builds it, whichever of this and `threshold` comes first.
    pub(crate) threshold_ms: u32,
    /// Copies of a loop body `#[staged::unroll]` may make in one variant.
    pub(crate) unroll_max: usize,
    /// Rendered size past which a structured value is not specialized.
    pub(crate) value_max_bytes: usize,
    pub(crate) max_variants: usize,
    pub(crate) build_timeout: Duration,
    pub(crate) cache_max_bytes: u64,
    /// Append the values built or loaded to this profile.
    pub(crate) profile: Option<PathBuf>,
    /// Read-only stores searched before building, in order.
    pub(crate) bundles: Vec<PathBuf>,
    /// What was wrong with the settings (unreadable, out of range), as
    /// `stats()` reports it.
    pub(crate) warnings: Vec<String>,
}

/// How large the disk cache may grow (libraries and `const_init!` results)
/// before its oldest entries are removed: `STAGED_CACHE_MAX_BYTES`.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = staged_build::store::DEFAULT_MAX_BYTES;

/// The variables the runtime reads.
const VARS: [Var; 13] = [
    Var::Mode,
    Var::CacheDir,
    Var::Rustc,
    Var::TargetCpu,
    Var::Rustflags,
    Var::Profile,
    Var::Bundle,
    Var::CacheMaxBytes,
    Var::Threshold,
    Var::ThresholdMs,
    Var::UnrollMax,
    Var::ValueMaxBytes,
    Var::MaxVariants,
];

/// The shortest and longest build time limits taken.
pub const BUILD_TIMEOUT_RANGE: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(24 * 3600));

impl Default for Config {
    fn default() -> Self {
        Self {
            mode: Mode::Background,
            cache_dir: Some(settings::default_cache_dir()),
            rustc: None,
            target_cpu: "native".to_owned(),
            rustflags: Vec::new(),
            threshold: 32,
            threshold_ms: 20,
            unroll_max: DEFAULT_UNROLL_MAX,
            value_max_bytes: DEFAULT_VALUE_MAX_BYTES,
            max_variants: 64,
            build_timeout: Duration::from_secs(120),
            cache_max_bytes: DEFAULT_CACHE_MAX_BYTES,
            profile: None,
            bundles: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

impl Config {
    /// The defaults, overridden by `STAGED_MODE`, `STAGED_CACHE_DIR`,
    /// `STAGED_RUSTC`, `STAGED_TARGET_CPU`, `STAGED_RUSTFLAGS`,
    /// `STAGED_PROFILE`, `STAGED_BUNDLE` (`:`-separated),
    /// `STAGED_CACHE_MAX_BYTES`, `STAGED_THRESHOLD`, `STAGED_THRESHOLD_MS`,
    /// `STAGED_UNROLL_MAX`, `STAGED_VALUE_MAX_BYTES` and
    /// `STAGED_MAX_VARIANTS`. A value that cannot be
    /// read is ignored, and one out of range is clamped, with a warning in
    /// the log and in every function's `stats()`.
    pub fn from_env() -> Self {
        Self::from_settings(&Settings::from_env())
    }

    /// The defaults, overridden by `settings`; its warnings about the
    /// runtime's variables are logged.
    fn from_settings(s: &Settings) -> Self {
        let d = Self::default();
        let warnings = s.warnings_about(&VARS);
        for warning in &warnings {
            log::warn!("staged: {warning}");
        }
        Self {
            mode: s.mode.map_or(d.mode, Mode::from),
            cache_dir: Some(s.cache_dir.clone()),
            rustc: s.rustc.clone().or(d.rustc),
            target_cpu: s.target_cpu.clone().unwrap_or(d.target_cpu),
            rustflags: s.rustflags.clone().unwrap_or(d.rustflags),
            threshold: s.threshold.unwrap_or(d.threshold),
            threshold_ms: s.threshold_ms.unwrap_or(d.threshold_ms),
            unroll_max: s.unroll_max.unwrap_or(d.unroll_max),
            value_max_bytes: s.value_max_bytes.unwrap_or(d.value_max_bytes),
            max_variants: s.max_variants.unwrap_or(d.max_variants),
            build_timeout: d.build_timeout,
            cache_max_bytes: s.cache_max_bytes.unwrap_or(d.cache_max_bytes),
            profile: s.profile.clone().or(d.profile),
            bundles: s.bundles.clone().unwrap_or(d.bundles),
            warnings,
        }
    }

    /// Notes that a setting was not taken as given, in the log and in
    /// every function's `stats()`.
    fn warn(&mut self, warning: String) {
        log::warn!("staged: {warning}");
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Sets the [`Mode`].
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the disk cache's directory.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Sets the rustc to run; by default the one that built the program.
    pub fn rustc(mut self, rustc: impl Into<PathBuf>) -> Self {
        self.rustc = Some(rustc.into());
        self
    }

    /// Sets `-C target-cpu` for run-time builds (`native` by default).
    pub fn target_cpu(mut self, cpu: impl Into<String>) -> Self {
        self.target_cpu = cpu.into();
        self
    }

    /// Sets extra rustc flags for run-time builds, such as
    /// `-C llvm-args=-unroll-threshold=1000` (they are part of the cache key).
    pub fn rustflags<S: Into<String>>(mut self, flags: impl IntoIterator<Item = S>) -> Self {
        self.rustflags = flags.into_iter().map(Into::into).collect();
        self
    }

    /// Sets how many calls with one value `Background` mode waits before it
    /// builds the value (1 to [`THRESHOLD_LIMIT`]; others are clamped, with
    /// a warning).
    pub fn threshold(mut self, calls: u32) -> Self {
        let clamped = calls.clamp(1, THRESHOLD_LIMIT);
        if clamped != calls {
            self.warn(format!(
                "a threshold of {calls} calls is out of range; using {clamped}"
            ));
        }
        self.threshold = clamped;
        self
    }

    /// Sets how many milliseconds the generic calls of one value may take
    /// before `Background` mode builds it, whichever of this and
    /// [`threshold`](Self::threshold) comes first (0 turns the time off;
    /// at most a day, [`THRESHOLD_MS_LIMIT`]; more is clamped, with a
    /// warning).
    pub fn threshold_ms(mut self, ms: u32) -> Self {
        let clamped = ms.min(THRESHOLD_MS_LIMIT);
        if clamped != ms {
            self.warn(format!(
                "STAGED_THRESHOLD_MS={ms} is more than {THRESHOLD_MS_LIMIT}; using {clamped}"
            ));
        }
        self.threshold_ms = clamped;
        self
    }

    /// Sets how many copies of a loop body `#[staged::unroll]` may make in
    /// one run-time variant ([`DEFAULT_UNROLL_MAX`] by default, at most
    /// [`UNROLL_MAX_LIMIT`]); past it the variant keeps its loops, with the
    /// value still a constant, and `stats()` says so.
    pub fn unroll_max(mut self, copies: usize) -> Self {
        let clamped = copies.min(UNROLL_MAX_LIMIT);
        if clamped != copies {
            self.warn(format!(
                "STAGED_UNROLL_MAX={copies} is more than {UNROLL_MAX_LIMIT}; using {clamped}"
            ));
        }
        self.unroll_max = clamped;
        self
    }

    /// Sets the rendered size (bytes of source) past which a structured
    /// value (a slice, an array, a struct…) is not specialized and runs the
    /// generic body ([`DEFAULT_VALUE_MAX_BYTES`] by default, at most
    /// [`VALUE_MAX_BYTES_LIMIT`]).
    pub fn value_max_bytes(mut self, bytes: usize) -> Self {
        let clamped = bytes.min(VALUE_MAX_BYTES_LIMIT);
        if clamped != bytes {
            self.warn(format!(
                "STAGED_VALUE_MAX_BYTES={bytes} is more than {VALUE_MAX_BYTES_LIMIT}; using {clamped}"
            ));
        }
        self.value_max_bytes = clamped;
        self
    }

    /// Sets how many run-time variants one function may load (at most
    /// [`MAX_VARIANTS_LIMIT`]; more is clamped, with a warning); past it,
    /// values run the generic body.
    pub fn max_variants(mut self, n: usize) -> Self {
        let clamped = n.min(MAX_VARIANTS_LIMIT);
        if clamped != n {
            self.warn(format!(
                "STAGED_MAX_VARIANTS={n} is more than {MAX_VARIANTS_LIMIT}; using {clamped}"
            ));
        }
        self.max_variants = clamped;
        self
    }

    /// Sets how long one rustc run may take (from 100 ms to 24 hours;
    /// others are clamped, with a warning).
    pub fn build_timeout(mut self, limit: Duration) -> Self {
        let (low, high) = BUILD_TIMEOUT_RANGE;
        let clamped = limit.clamp(low, high);
        if clamped != limit {
            self.warn(format!(
                "a build time limit of {limit:?} is out of range; using {clamped:?}"
            ));
        }
        self.build_timeout = clamped;
        self
    }

    /// Appends the values this process builds or loads to the profile at
    /// `path` (see `staged_build::profile` for the format), to promote them
    /// to static variants in a later build or to review them.
    pub fn profile(mut self, path: impl Into<PathBuf>) -> Self {
        self.profile = Some(path.into());
        self
    }

    /// Adds a read-only store of prebuilt variants (a bundle made by a
    /// training run), searched before building and before the cache; it
    /// and every directory above it must be owned by root or the current
    /// user and writable by no one else.
    pub fn bundle(mut self, dir: impl Into<PathBuf>) -> Self {
        self.bundles.push(dir.into());
        self
    }

    /// Sets the size past which the disk cache drops its oldest libraries
    /// and `const_init!` results ([`DEFAULT_CACHE_MAX_BYTES`] by default).
    pub fn cache_max_bytes(mut self, bytes: u64) -> Self {
        self.cache_max_bytes = bytes;
        self
    }

    /// Makes this the configuration of the process, for every build and load
    /// from now on. Variants already loaded stay.
    pub fn install(self) {
        let config = Arc::new(self);
        let mut current = slot().write().unwrap_or_else(|e| e.into_inner());
        HOT.store(&config);
        *current = config;
    }

    /// The configuration in effect: the installed one, else the environment.
    pub fn current() -> Arc<Config> {
        slot().read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn slot() -> &'static RwLock<Arc<Config>> {
    static SLOT: OnceLock<RwLock<Arc<Config>>> = OnceLock::new();
    SLOT.get_or_init(|| {
        let config = Arc::new(Config::from_env());
        HOT.store(&config);
        RwLock::new(config)
    })
}

/// The settings the dispatcher's miss path reads, as atomics, so a miss
/// never takes a lock to learn the mode.
pub(crate) struct Hot {
    mode: AtomicU8,
    threshold: AtomicU32,
    threshold_ms: AtomicU32,
    unroll_max: AtomicUsize,
    value_max_bytes: AtomicUsize,
    max_variants: AtomicUsize,
}

pub(crate) static HOT: Hot = Hot {
    mode: AtomicU8::new(u8::MAX),
    threshold: AtomicU32::new(32),
    threshold_ms: AtomicU32::new(20),
    unroll_max: AtomicUsize::new(DEFAULT_UNROLL_MAX),
    value_max_bytes: AtomicUsize::new(DEFAULT_VALUE_MAX_BYTES),
    max_variants: AtomicUsize::new(64),
};

impl Hot {
    fn store(&self, c: &Config) {
        self.threshold.store(c.threshold.max(1), Ordering::Relaxed);
        self.threshold_ms.store(c.threshold_ms, Ordering::Relaxed);
        self.unroll_max.store(c.unroll_max, Ordering::Relaxed);
        self.value_max_bytes
            .store(c.value_max_bytes, Ordering::Relaxed);
        self.max_variants.store(c.max_variants, Ordering::Relaxed);
        let mode = match c.mode {
            Mode::Background => 0,
            Mode::Sync => 1,
            Mode::Off => 2,
        };
        self.mode.store(mode, Ordering::Release);
    }

    /// The current mode.
    #[inline]
    pub(crate) fn mode(&self) -> Mode {
        match self.mode.load(Ordering::Acquire) {
            0 => Mode::Background,
            1 => Mode::Sync,
            2 => Mode::Off,
            _ => {
                slot();
                self.mode()
            }
        }
    }

    #[inline]
    pub(crate) fn threshold(&self) -> u32 {
        self.threshold.load(Ordering::Relaxed)
    }

    /// Milliseconds of generic calls before a value is built (0: off).
    #[inline]
    pub(crate) fn threshold_ms(&self) -> u32 {
        self.threshold_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn unroll_max(&self) -> usize {
        self.unroll_max.load(Ordering::Relaxed)
    }

    pub(crate) fn value_max_bytes(&self) -> usize {
        self.value_max_bytes.load(Ordering::Relaxed)
    }

    #[inline]
    pub(crate) fn max_variants(&self) -> usize {
        self.max_variants.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_overrides_the_defaults_and_its_warnings_are_kept() {
        let mut s = Settings::from_env();
        s.mode = Some(settings::Mode::Off);
        s.threshold = Some(7);
        s.max_variants = None;
        s.warnings = vec![
            settings::Warning {
                var: Var::Threshold,
                message: "runtime's".into(),
            },
            settings::Warning {
                var: Var::EvalTimeout,
                message: "the evaluator's".into(),
            },
        ];
        let c = Config::from_settings(&s);
        assert_eq!((c.mode, c.threshold), (Mode::Off, 7));
        assert_eq!(c.max_variants, Config::default().max_variants);
        assert_eq!(c.warnings, ["runtime's"]);
    }

    #[test]
    fn the_builder_sets_every_field() {
        let c = Config::default()
            .mode(Mode::Off)
            .cache_dir("/tmp/x")
            .rustc("/bin/rustc")
            .target_cpu("x86-64-v3")
            .threshold(0)
            .max_variants(3)
            .rustflags(["-C", "llvm-args=-unroll-threshold=500"]);
        assert_eq!(c.mode, Mode::Off);
        assert_eq!(c.cache_dir.as_deref(), Some(std::path::Path::new("/tmp/x")));
        assert_eq!(c.threshold, 1);
        assert_eq!((c.target_cpu.as_str(), c.max_variants), ("x86-64-v3", 3));
        assert_eq!(c.rustflags, ["-C", "llvm-args=-unroll-threshold=500"]);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    }

    /// `STAGED_MAX_VARIANTS=99999999999` used to allocate a table of that
    /// many slots (800 GB) and abort; `u64::MAX` overflowed.
    #[test]
    fn settings_out_of_range_are_clamped_with_a_warning() {
        let c = Config::default()
            .max_variants(99_999_999_999)
            .threshold(u32::MAX)
            .build_timeout(Duration::ZERO);
        assert_eq!(c.max_variants, MAX_VARIANTS_LIMIT);
        assert_eq!(c.threshold, THRESHOLD_LIMIT);
        assert_eq!(c.build_timeout, BUILD_TIMEOUT_RANGE.0);
        assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("99999999999"), "{:?}", c.warnings);
    }
}
