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
        Self::known(path, wrapper, &version).ok_or_else(|| ProcessError::Failed {
            command: process::CommandLine::of(&cmd),
            status: "answered, but not like rustc -vV".into(),
            stderr: process::head(&out.stdout),
        })
    }

    /// The compiler at `path` whose `rustc -vV` is already known to be
    /// `version`; `None` if `version` does not read like one.
    pub fn known(path: &Path, wrapper: Option<&Path>, version: &str) -> Option<Self> {
        let version = version.trim();
        let field = |name: &str| {
            version
                .lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
        };
        Some(Self {
            path: path.to_owned(),
            wrapper: wrapper.map(Path::to_owned),
            version: version.to_owned(),
            release: field("release:")?,
            host: field("host:")?,
        })
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

/// What identifies one installed compiler binary without running it: size,
/// modification time and inode. A toolchain update replaces the file, so a
/// matching stamp means the binary whose `-vV` was recorded with it.
pub fn stamp(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(format!(
        "{}:{}.{}:{}",
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ino()
    ))
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
    fn a_known_version_needs_no_run() {
        let vv = "rustc 1.95.0 (x 2026-04-14)\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\n";
        let rustc = Rustc::known(Path::new("/r/rustc"), None, vv).unwrap();
        assert_eq!(
            (rustc.release.as_str(), rustc.host.as_str()),
            ("1.95.0", "x86_64-unknown-linux-gnu")
        );
        assert!(Rustc::known(Path::new("/r/rustc"), None, "not a version").is_none());
        assert!(stamp(Path::new("/nonexistent/rustc")).is_none());
    }

    #[test]
    fn a_stamp_changes_when_the_compiler_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rustc");
        std::fs::write(&path, b"one").unwrap();
        let first = stamp(&path).unwrap();
        assert_eq!(stamp(&path).unwrap(), first);
        // Same size, another modification time: a rustup update in place.
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::SystemTime::UNIX_EPOCH)
            .unwrap();
        drop(file);
        let touched = stamp(&path).unwrap();
        assert_ne!(touched, first);
        std::fs::write(&path, b"longer").unwrap();
        assert_ne!(stamp(&path).unwrap(), touched);
    }

    #[test]
    fn caching_wrappers_are_skipped() {
        assert!(!wrapper_serves_cdylib(Path::new("/usr/bin/sccache")));
        assert!(wrapper_serves_cdylib(Path::new("/opt/remote-exec")));
    }
}
