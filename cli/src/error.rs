//! Why a command failed. Each message is short; `main` prints it with its
//! causes and a hint where one helps.

use std::io;
use std::path::PathBuf;

use staged_build::store::StoreError;

/// Why a command failed (its arguments were fine; clap reports those).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Nothing says where the cache is.
    #[error("no cache directory: pass --dir or set STAGED_CACHE_DIR")]
    NoCacheDir,
    /// There is no cache where it was looked for.
    #[error("no cache at {}", .0.display())]
    NoCache(PathBuf),
    /// The cache cannot be opened, or refused to be.
    #[error("cannot use the cache at {}", dir.display())]
    Store {
        /// The cache directory.
        dir: PathBuf,
        /// What the store said.
        #[source]
        source: StoreError,
    },
    /// A profile cannot be read.
    #[error("cannot read the profile {}", path.display())]
    ReadProfile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file cannot be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl CliError {
    /// What the user can do about it, when that is not obvious.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NoCache(_) => Some(
                "nothing was cached there yet, or the programs use another directory \
                 (STAGED_CACHE_DIR); pass --dir to look elsewhere"
                    .to_owned(),
            ),
            Self::Store {
                source: StoreError::Unsafe { path, reason },
                ..
            } => {
                let rule = "staged uses a cache only if it and every directory above it are \
                            owned by you (or root, to read) and writable by no one else";
                Some(if reason.contains("writable by others") {
                    format!("{rule}; `chmod go-w {}` fixes this one", path.display())
                } else {
                    format!("{rule}; pass --dir to use another cache")
                })
            }
            Self::Store {
                source: StoreError::NotAStore { .. },
                ..
            } => Some(
                "the commands work only on a cache, which a program using staged tags with \
                 its CACHEDIR.TAG when it makes it (a cache made by an earlier staged is \
                 tagged the next time a program uses it); pass --dir to name one"
                    .to_owned(),
            ),
            Self::Store {
                source: StoreError::ReadOnly { .. },
                ..
            } => Some("a bundle is never written; prune the cache it was made from".to_owned()),
            _ => None,
        }
    }
}
