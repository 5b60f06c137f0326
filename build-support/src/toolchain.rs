//! For build scripts: records the toolchain that builds the current crate, so
//! that builds made later (at run time, or by a proc macro) use the same
//! rustc, can check its version, and link with the C toolchain cargo would use
//! for the target.
//!
//! In `build.rs`, call `staged_build::toolchain::record()`; then in the
//! crate, `include!(concat!(env!("OUT_DIR"), "/toolchain.rs"));`.

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

/// Writes `$OUT_DIR/toolchain.rs` with the constants `RUSTC` (the
/// toolchain's own rustc binary, which starts faster than the rustup proxy),
/// `RUSTC_VERSION` (its `rustc -vV`), `TARGET`, `RUSTC_WRAPPER` and `LINKER`
/// (the C compiler cc-rs picks for the target; empty if none).
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
    let consts = [
        ("RUSTC", "the rustc that built this crate", rustc),
        ("RUSTC_VERSION", "its `rustc -vV`", version),
        (
            "RUSTC_STAMP",
            "its binary's `rustc::stamp`, to know it again without running it",
            stamp,
        ),
        ("TARGET", "the target triple", env("TARGET")),
        (
            "RUSTC_WRAPPER",
            "cargo's RUSTC_WRAPPER as an absolute path, or empty (none, or a caching one)",
            crate::rustc::find_wrapper(&env("RUSTC_WRAPPER"))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        (
            "LINKER",
            "the C compiler cc-rs picks for the target, or empty",
            linker,
        ),
    ];
    let mut text = String::new();
    for (name, doc, value) in consts {
        text.push_str(&format!(
            "/// {doc}.\n#[allow(dead_code)]\npub const {name}: &str = {};\n",
            value.to_literal()
        ));
    }
    let out = PathBuf::from(env("OUT_DIR")).join("toolchain.rs");
    std::fs::write(&out, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
