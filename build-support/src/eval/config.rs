//! Settings of the build-time evaluator, read from the environment of the
//! process that expands `const_init!` (rustc, through cargo), through
//! [`crate::settings`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::settings;

/// How long an evaluator program may run when nothing says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How long rustc may take to build an evaluator program.
pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// How much of what an evaluator program prints (each of stdout and
/// stderr) is kept, for messages; the rest is read and dropped.
pub const DEFAULT_OUTPUT_LIMIT: usize = 1 << 20;

/// The variable that limits an evaluator program's memory.
pub const MAX_MEMORY_VAR: &str = "STAGED_EVAL_MAX_MEMORY";

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
    /// [`settings::default_cache_dir`].
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
        }
    }
}

impl EvalConfig {
    /// The settings from the environment. A `STAGED_EVAL_TIMEOUT`,
    /// `STAGED_EVAL_MAX_MEMORY` or `STAGED_CACHE_MAX_BYTES` that cannot be
    /// read is ignored (and one out of range clamped), and
    /// [`EvalConfig::problems`] says so.
    pub fn from_env() -> Self {
        Self::read(&mut settings::Reader::new())
    }

    fn read(reader: &mut settings::Reader) -> Self {
        let mut config = Self {
            cache_dir: Some(settings::cache_dir()),
            ..Self::default()
        };
        if let Some(secs) = reader.seconds("STAGED_EVAL_TIMEOUT", DEFAULT_TIMEOUT) {
            config.timeout = secs;
        }
        if let Some(bytes) = reader.number(MAX_MEMORY_VAR, MIN_MAX_MEMORY.into(), u64::MAX.into()) {
            config.max_memory = u64::try_from(bytes).unwrap_or(u64::MAX);
            config.record_limit = usize::try_from(config.max_memory).unwrap_or(usize::MAX);
        }
        if let Some(bytes) = reader.bytes(MAX_BYTES_VAR) {
            config.cache_max_bytes = bytes;
        }
        for name in ["PATH", "TMPDIR"] {
            if let Some(value) = settings::var_os(name) {
                config.rustc_env.push((name.to_owned(), value));
            }
        }
        config
    }

    /// What is wrong with the environment's settings, for a warning.
    pub fn problems() -> Vec<String> {
        let mut reader = settings::Reader::new();
        Self::read(&mut reader);
        reader.warnings().to_vec()
    }
}

pub use crate::settings::{MAX_BYTES_VAR, parse_bytes, parse_seconds};
