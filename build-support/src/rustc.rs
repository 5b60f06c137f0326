//! The compiler: which rustc to run and what it says about itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::{self, ProcessError};

/// What to do when rustc cannot be found.
pub const MISSING_HINT: &str =
    "install the toolchain that built this program, or point STAGED_RUSTC at its rustc";

/// A rustc that answered `rustc -vV`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rustc {
    /// The compiler to run.
    pub path: PathBuf,
    /// A wrapper to run it through (`wrapper rustc args...`), if any.
    pub wrapper: Option<PathBuf>,
    /// The full `rustc -vV` text: two compilers are the same only if these
    /// match.
    pub version: String,
    /// The `release:` line, such as `1.95.0`.
    pub release: String,
    /// The `host:` line: the target it builds for by default.
    pub host: String,
}

impl Rustc {
    /// Runs `path -vV` (through `wrapper`, if any).
    ///
    /// # Errors
    ///
    /// [`ProcessError::NotFound`] when there is no such program; another
    /// [`ProcessError`] when it does not answer like a rustc.
    pub fn probe(
        path: &Path,
        wrapper: Option<&Path>,
        limit: Duration,
    ) -> Result<Self, ProcessError> {
        let mut cmd = command(path, wrapper);
        cmd.arg("-vV");
        let out = process::run(&mut cmd, limit, MISSING_HINT)?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let field = |name: &str| {
            version
                .lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
        };
        match (field("release:"), field("host:")) {
            (Some(release), Some(host)) => Ok(Self {
                path: path.to_owned(),
                wrapper: wrapper.map(Path::to_owned),
                version,
                release,
                host,
            }),
            _ => Err(ProcessError::Failed {
                command: process::CommandLine::of(&cmd),
                status: "answered, but not like rustc -vV".into(),
                stderr: process::head(&out.stdout),
            }),
        }
    }

    /// A command that runs this compiler.
    pub fn command(&self) -> Command {
        command(&self.path, self.wrapper.as_deref())
    }
}

fn command(path: &Path, wrapper: Option<&Path>) -> Command {
    match wrapper {
        Some(w) => {
            let mut cmd = Command::new(w);
            cmd.arg(path);
            cmd
        }
        None => Command::new(path),
    }
}

/// Whether a `RUSTC_WRAPPER` can serve a cdylib build. Caching wrappers
/// refuse to cache cdylibs and only add their start-up time, so they are
/// skipped; other wrappers (a remote executor, a logging shim) are kept.
pub fn wrapper_serves_cdylib(wrapper: &Path) -> bool {
    let name = wrapper.file_stem().and_then(|n| n.to_str()).unwrap_or("");
    !matches!(name, "sccache" | "cachepot" | "ccache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_the_rustc_on_path() {
        let rustc = Rustc::probe(Path::new("rustc"), None, Duration::from_secs(60)).unwrap();
        assert!(rustc.version.starts_with("rustc "), "{}", rustc.version);
        assert!(!rustc.release.is_empty() && !rustc.host.is_empty());
    }

    #[test]
    fn a_missing_compiler_says_what_to_do() {
        let err = Rustc::probe(
            Path::new("/nonexistent/rustc"),
            None,
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(matches!(err, ProcessError::NotFound { .. }));
        assert!(err.to_string().contains("STAGED_RUSTC"));
    }

    #[test]
    fn something_else_is_not_a_rustc() {
        let err = Rustc::probe(Path::new("echo"), None, Duration::from_secs(5)).unwrap_err();
        assert!(err.to_string().contains("not like rustc"), "{err}");
    }

    #[test]
    fn caching_wrappers_are_skipped() {
        assert!(!wrapper_serves_cdylib(Path::new("/usr/bin/sccache")));
        assert!(wrapper_serves_cdylib(Path::new("/opt/remote-exec")));
    }
}
