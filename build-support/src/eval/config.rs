//! Settings of the build-time evaluator: a view of the environment of the
//! process that expands `const_init!` (rustc, through cargo), as
//! [`crate::settings`] reads it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::settings::{Settings, Var};

/// How long an evaluator program may run when nothing says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How long rustc may take to build an evaluator program.
pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// How much of what an evaluator program prints (each of stdout and
/// stderr) is kept, for messages; the rest is read and dropped.
pub const DEFAULT_OUTPUT_LIMIT: usize = 1 << 20;

/// The variable that limits an evaluator program's memory.
pub const MAX_MEMORY_VAR: &str = Var::EvalMaxMemory.name();

/// How much memory an evaluator program may use when nothing says
/// otherwise.
pub const DEFAULT_MAX_MEMORY: u64 = 1 << 30;

/// The least memory that may be set: less and the harness itself would fail.
pub const MIN_MAX_MEMORY: u64 = 16 << 20;

/// How many bytes of records (the values, rendered) one run of an
/// evaluator program may send; an item past it fails. The same bound as
/// its memory: a program cannot hold a value larger than that, and the
/// process that reads the records holds them all.
pub const DEFAULT_RECORD_LIMIT: usize = DEFAULT_MAX_MEMORY as usize;

/// The evaluator's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalConfig {
    /// Where evaluated blocks are cached: `STAGED_CACHE_DIR`, else
    /// [`default_cache_dir`](crate::settings::default_cache_dir).
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
    /// How much memory an evaluator program may use, in bytes:
    /// `STAGED_EVAL_MAX_MEMORY`, else [`DEFAULT_MAX_MEMORY`]; at least
    /// [`MIN_MAX_MEMORY`]. `u64::MAX` sets no limit.
    pub max_memory: u64,
    /// How many bytes of records one run may send: `max_memory` (so
    /// [`DEFAULT_RECORD_LIMIT`] by default).
    pub record_limit: usize,
    /// How many bytes libraries and `const_init!` results may take together
    /// in the cache before the oldest are pruned: `STAGED_CACHE_MAX_BYTES`,
    /// else [`DEFAULT_MAX_BYTES`](crate::store::DEFAULT_MAX_BYTES).
    pub cache_max_bytes: u64,
    /// What is wrong with the settings above as the environment gives
    /// them (a value that cannot be read is ignored, one out of range
    /// clamped), for a warning.
    pub warnings: Vec<String>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            timeout: DEFAULT_TIMEOUT,
            build_timeout: DEFAULT_BUILD_TIMEOUT,
            rustc_env: Vec::new(),
            output_limit: DEFAULT_OUTPUT_LIMIT,
            max_memory: DEFAULT_MAX_MEMORY,
            record_limit: DEFAULT_RECORD_LIMIT,
            cache_max_bytes: crate::store::DEFAULT_MAX_BYTES,
            warnings: Vec::new(),
        }
    }
}

/// The variables the evaluator reads.
const VARS: [Var; 4] = [
    Var::EvalTimeout,
    Var::EvalMaxMemory,
    Var::CacheDir,
    Var::CacheMaxBytes,
];

impl EvalConfig {
    /// The settings from the environment. A `STAGED_EVAL_TIMEOUT`,
    /// `STAGED_EVAL_MAX_MEMORY` or `STAGED_CACHE_MAX_BYTES` that cannot be
    /// read is ignored (and one out of range clamped), and
    /// [`EvalConfig::warnings`] says so.
    pub fn from_env() -> Self {
        Self::from_settings(&Settings::from_env())
    }

    /// The evaluator's view of `settings`.
    pub fn from_settings(settings: &Settings) -> Self {
        let defaults = Self::default();
        let max_memory = settings.eval_max_memory.unwrap_or(defaults.max_memory);
        Self {
            cache_dir: Some(settings.cache_dir.clone()),
            timeout: settings.eval_timeout.unwrap_or(defaults.timeout),
            rustc_env: settings.rustc_env.clone(),
            max_memory,
            record_limit: settings.eval_max_memory.map_or(defaults.record_limit, |m| {
                usize::try_from(m).unwrap_or(usize::MAX)
            }),
            cache_max_bytes: settings.cache_max_bytes.unwrap_or(defaults.cache_max_bytes),
            warnings: settings.warnings_about(&VARS),
            ..defaults
        }
    }
}

pub use crate::settings::{MAX_BYTES_VAR, parse_seconds};
