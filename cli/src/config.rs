//! The settings the command shares with the programs whose cache it
//! manages: its view of staged-build's settings snapshot, so the command
//! always looks where the programs write and keeps their cap.

use std::path::PathBuf;

use staged_build::settings::{Settings, Var};

pub use staged_build::settings::MAX_BYTES_VAR;

/// What the environment says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The cache the programs use: `STAGED_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/staged`, else `~/.cache/staged`.
    pub cache_dir: Option<PathBuf>,
    /// `STAGED_CACHE_MAX_BYTES`, else [`DEFAULT_MAX_BYTES`].
    ///
    /// [`DEFAULT_MAX_BYTES`]: staged_build::store::DEFAULT_MAX_BYTES
    pub max_bytes: u64,
    /// What was wrong with the environment, for a warning.
    pub warnings: Vec<String>,
}

impl Config {
    /// The settings from the environment. A `STAGED_CACHE_MAX_BYTES` that
    /// is not a whole number of bytes is ignored with a warning, as the
    /// runtime ignores it.
    pub fn from_env() -> Self {
        let settings = Settings::from_env();
        Self {
            cache_dir: Some(settings.cache_dir.clone()),
            max_bytes: settings
                .cache_max_bytes
                .unwrap_or(staged_build::store::DEFAULT_MAX_BYTES),
            warnings: settings.warnings_about(&[Var::CacheDir, Var::CacheMaxBytes]),
        }
    }
}
