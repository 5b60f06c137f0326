//! The settings the command shares with the programs whose cache it
//! manages, read from the environment. This is the only module of the
//! command that reads it; the cache directory comes from staged-build's own
//! reader, so the command always looks where the programs write.

use std::path::PathBuf;

use staged_build::eval::config::EvalConfig;
use staged_build::store::DEFAULT_MAX_BYTES;

/// The variable that caps what libraries and `const_init!` results may
/// take together.
pub const MAX_BYTES_VAR: &str = "STAGED_CACHE_MAX_BYTES";

/// What the environment says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The cache the programs use: `STAGED_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/staged`, else `~/.cache/staged`.
    pub cache_dir: Option<PathBuf>,
    /// `STAGED_CACHE_MAX_BYTES`, else [`DEFAULT_MAX_BYTES`].
    pub max_bytes: u64,
    /// What was wrong with the environment, for a warning.
    pub warnings: Vec<String>,
}

impl Config {
    /// The settings from the environment. A `STAGED_CACHE_MAX_BYTES` that
    /// is not a whole number of bytes is ignored with a warning, as the
    /// runtime ignores it.
    pub fn from_env() -> Self {
        let mut config = Self {
            cache_dir: EvalConfig::from_env().cache_dir,
            max_bytes: DEFAULT_MAX_BYTES,
            warnings: Vec::new(),
        };
        if let Some(text) = var(MAX_BYTES_VAR) {
            match text.trim().parse::<u64>() {
                Ok(bytes) => config.max_bytes = bytes,
                Err(_) => config.warnings.push(format!(
                    "{MAX_BYTES_VAR}={text:?} is not a whole number of bytes; using {DEFAULT_MAX_BYTES}"
                )),
            }
        }
        config
    }
}

#[allow(clippy::disallowed_methods)] // this module is where the environment is read
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
