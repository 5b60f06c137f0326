//! For build scripts: records the toolchain that builds the current crate, so
//! that builds made later (at run time, or by a proc macro) use the same
//! rustc, can check its version, and link with the C toolchain cargo would use
//! for the target.
//!
//! ```ignore
//! // build.rs
//! fn main() {
//!     staged_build::toolchain::record();
//! }
//!
//! // src/lib.rs (staged-build is a dependency too, not only a build-dependency)
//! const TOOLCHAIN: staged_build::toolchain::Recorded =
//!     include!(concat!(env!("OUT_DIR"), "/toolchain.rs"));
//! ```

use std::path::PathBuf;
use std::process::Command;

use crate::bake::Bake;

#[allow(clippy::disallowed_methods)] // cargo's variables, not STAGED_ settings
fn env(name: &str) -> String {
    println!("cargo:rerun-if-env-changed={name}");
    std::env::var(name).unwrap_or_default()
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The toolchain that built a crate, as its build script [`record`]ed
/// it. Each field is empty when it could not be found out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The toolchain's own rustc binary, which starts faster than the
    /// rustup proxy (else the `RUSTC` cargo gave, or `rustc`).
    pub rustc: &'static str,
    /// Its `rustc -vV`: two compilers are the same only if these match.
    pub version: &'static str,
    /// What identifies its binary without running it (size, modification
    /// time, inode), to know it again.
    pub stamp: &'static str,
    /// The target triple.
    pub target: &'static str,
    /// Cargo's `RUSTC_WRAPPER` as an absolute path, unless it is a caching
    /// one.
    pub wrapper: &'static str,
    /// The C compiler cc-rs picks for the target, to link with.
    pub linker: &'static str,
}

/// Writes `$OUT_DIR/toolchain.rs`: a [`Recorded`] expression for the
/// crate to `include!`.
///
/// # Panics
///
/// When `OUT_DIR` is not writable: this runs in a build script, where a panic
/// is how a failure is reported.
pub fn record() {
    let rustc = {
        let given = env("RUSTC");
        let given = if given.is_empty() {
            "rustc".to_owned()
        } else {
            given
        };
        let real = output(Command::new(&given).args(["--print", "sysroot"]))
            .map(|sysroot| PathBuf::from(sysroot).join("bin").join("rustc"))
            .filter(|p| p.is_file());
        real.map_or(given, |p| p.to_string_lossy().into_owned())
    };
    let version = output(Command::new(&rustc).arg("-vV")).unwrap_or_default();
    let linker = cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .try_get_compiler()
        .map(|c| c.path().to_string_lossy().into_owned())
        .unwrap_or_default();
    let stamp = crate::rustc::stamp(std::path::Path::new(&rustc)).unwrap_or_default();
    let wrapper = crate::rustc::find_wrapper(&env("RUSTC_WRAPPER"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fields = [
        ("rustc", rustc),
        ("version", version),
        ("stamp", stamp),
        ("target", env("TARGET")),
        ("wrapper", wrapper),
        ("linker", linker),
    ];
    let mut text = String::from(
        "// Written by staged_build::toolchain::record() in the build script.\n\
         ::staged_build::toolchain::Recorded {\n",
    );
    for (name, value) in fields {
        text.push_str(&format!("    {name}: {},\n", value.to_literal()));
    }
    text.push_str("}\n");
    let out = PathBuf::from(env("OUT_DIR")).join("toolchain.rs");
    std::fs::write(&out, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
