//! Why a block could not be evaluated at all (as opposed to an item whose
//! code failed, which is part of the outcome).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::process::ProcessError;
use crate::rustc::FindError;
use crate::store::StoreError;

/// Why the evaluator could not run.
///
/// `Display` says what failed here; a cause that is an error of its own is
/// `source()` (print the whole chain with [`Chain`](crate::chain::Chain)).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// No cache directory is configured.
    #[error("no directory to build in: set STAGED_CACHE_DIR (or HOME)")]
    NoCacheDir,
    /// The cache cannot be used.
    #[error("the evaluator cache")]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{path}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        cause: Arc<io::Error>,
    },
    /// rustc or the evaluator program could not be run.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// There is no rustc to build with: missing, or of another version
    /// than the one recorded when staged was built.
    #[error(transparent)]
    Compiler(#[from] FindError),
    /// rustc failed without saying why in a form that can be read.
    #[error("rustc failed to build the evaluator ({status}):\n{stderr}")]
    Rustc {
        /// How it ended.
        status: String,
        /// The first lines of its stderr.
        stderr: String,
    },
    /// The evaluator program died before evaluating any item.
    #[error("the evaluator program died before evaluating anything ({status}):\n{stderr}")]
    Crashed {
        /// How it ended.
        status: String,
        /// The first lines of its stderr.
        stderr: String,
    },
    /// The sandbox could not be prepared where the kernel offers one.
    #[error("cannot prepare the evaluator's sandbox: {cause}")]
    Sandbox {
        /// Why.
        cause: String,
    },
    /// A cache entry could not be read.
    #[error("a cache entry is corrupt: {0}")]
    Corrupt(String),
}

impl EvalError {
    pub(crate) fn file(path: &Path, cause: io::Error) -> Self {
        Self::File {
            path: path.to_owned(),
            cause: Arc::new(cause),
        }
    }
}
