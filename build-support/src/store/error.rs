//! Why the store, or one entry of it, cannot be used.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why the store cannot be used, or an entry cannot be trusted.
///
/// `Display` says what failed here; the operating system's error of
/// [`StoreError::Io`] is its `source()`.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file system operation failed.
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause, shared so that the error can be cloned.
        #[source]
        cause: Arc<io::Error>,
    },
    /// A directory or file is not ours alone: another user owns it or can
    /// write to it, so nothing from it is loaded.
    #[error("{path} is not safe to load from: {reason}")]
    Unsafe {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored file does not match what was recorded for it, or is not a
    /// regular file at all (it was removed, so the next use replaces it).
    #[error("{path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// How it differs.
        reason: String,
    },
    /// Another process held a lock for longer than a build may take.
    #[error("{path} stayed locked by another process for {waited:?}")]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// A directory that is not a store: it has no tag of staged's
    /// ([`TAG`](super::TAG)), and is not a store made before stores were
    /// tagged either (it holds what staged did not put there, or another
    /// program's tag). Nothing was created, changed or removed there.
    #[error("{path} is not a staged store: {reason}")]
    NotAStore {
        /// The directory.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// Every build slot of the store was held by a running build for as
    /// long as the caller would wait.
    #[error("all {slots} build slots of {path} are held by running builds{}", for_how_long(*waited))]
    NoSlot {
        /// The folder of the slots.
        path: PathBuf,
        /// How many there are.
        slots: usize,
        /// How long we waited.
        waited: Duration,
    },
    /// The store is a read-only bundle.
    #[error("{path} is a read-only store")]
    ReadOnly {
        /// Its root.
        path: PathBuf,
    },
}

/// `for 2s`, after a wait; nothing without one.
fn for_how_long(waited: Duration) -> String {
    if waited.is_zero() {
        String::new()
    } else {
        format!(" for {waited:.1?}")
    }
}

impl StoreError {
    /// Whether this is a plain "there is no such file".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { cause, .. } if cause.kind() == io::ErrorKind::NotFound)
    }

    /// Whether this says an entry cannot be trusted as it is (damaged, not
    /// a regular file, or not ours alone), so that it is dropped and built
    /// again, rather than that the store could not be reached.
    pub fn is_bad_entry(&self) -> bool {
        matches!(self, Self::Corrupt { .. } | Self::Unsafe { .. })
    }

    pub(crate) fn io(path: &Path, cause: impl Into<io::Error>) -> Self {
        Self::Io {
            path: path.to_owned(),
            cause: Arc::new(cause.into()),
        }
    }

    pub(crate) fn unsafe_because(path: &Path, reason: impl Into<String>) -> Self {
        Self::Unsafe {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}
