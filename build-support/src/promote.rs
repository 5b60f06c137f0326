//! For build scripts: promote the values of a profile to static variants.
//!
//! ```no_run
//! // build.rs
//! staged_build::promote_profile("staged.profile");
//! ```
//!
//! Every `#[specialize]` function of the crate whose source is unchanged
//! since the profile was recorded then gets static variants for its
//! recorded values, hottest first, at most 16 per function, exactly as if
//! they were listed in its attribute: the next build needs no rustc at run
//! time for them. Entries of functions that changed (their fingerprint no
//! longer matches) and values that do not fit the parameter's type are
//! skipped with a warning naming them. The crate rebuilds when the profile
//! changes. For another limit:
//!
//! ```no_run
//! staged_build::promote::Promotion::new("staged.profile")
//!     .max_per_function(32)
//!     .run();
//! ```
//!
//! The build script merges the profile into `$OUT_DIR/staged-promoted.profile`
//! and tells the compiler where it is (`STAGED_PROMOTED`), where
//! `#[specialize]` reads it; rust-analyzer and `cargo check` see the same.

use std::path::{Path, PathBuf};

use crate::profile::Profile;

/// The variable that names the merged profile, for `#[specialize]`.
#[doc(hidden)]
pub const PROMOTED_VAR: &str = "STAGED_PROMOTED";

/// How many values of one function are promoted unless said otherwise.
pub const DEFAULT_MAX_PER_FUNCTION: usize = 16;

/// The first line of the merged file: the limit per function.
#[doc(hidden)]
pub const MAX_LINE: &str = "# max_per_function ";

/// A promotion of one profile.
#[derive(Clone, Debug)]
pub struct Promotion {
    path: PathBuf,
    max_per_function: usize,
}

impl Promotion {
    /// Promotes the values of the profile at `path` (relative to the
    /// crate's root, as build scripts run there).
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_owned(),
            max_per_function: DEFAULT_MAX_PER_FUNCTION,
        }
    }

    /// At most `n` values per function (the static variants of a function
    /// are at most 256 in all, listed and promoted).
    pub fn max_per_function(mut self, n: usize) -> Self {
        self.max_per_function = n;
        self
    }

    /// Writes the merged profile for the crate's macros and tells cargo.
    /// A missing profile promotes nothing, with a warning; one that cannot
    /// be written is a build error, as build scripts report them.
    ///
    /// # Panics
    ///
    /// When `OUT_DIR` is not set or not writable.
    pub fn run(self) {
        println!("cargo:rerun-if-changed={}", self.path.display());
        let profile = match Profile::read(&self.path) {
            Ok((profile, problems)) => {
                for problem in problems {
                    println!(
                        "cargo:warning=staged: {}: {problem}; skipped",
                        self.path.display()
                    );
                }
                profile
            }
            Err(e) => {
                println!(
                    "cargo:warning=staged: no profile promoted: {}: {e}",
                    self.path.display()
                );
                Profile::default()
            }
        };
        #[allow(clippy::disallowed_methods)] // cargo's variable, not a STAGED_ setting
        let out_dir = std::env::var_os("OUT_DIR").expect("OUT_DIR is set for build scripts");
        let out = PathBuf::from(out_dir).join("staged-promoted.profile");
        let text = format!("{MAX_LINE}{}\n{}", self.max_per_function, profile.to_text());
        std::fs::write(&out, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
        println!("cargo:rustc-env={PROMOTED_VAR}={}", out.display());
    }
}

/// Promotes the values of the profile at `path`; see the module's docs.
pub fn promote_profile(path: impl AsRef<Path>) {
    Promotion::new(path).run();
}

/// The merged profile a build script wrote, with its limit per function.
#[doc(hidden)]
pub fn read_promoted(path: &Path) -> std::io::Result<(Profile, usize)> {
    let text = std::fs::read_to_string(path)?;
    let max = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix(MAX_LINE))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_PER_FUNCTION);
    Ok((Profile::parse(&text).0, max))
}
