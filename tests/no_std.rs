//! The `#![no_std]` crate in `tests/no_std_crate` builds against staged
//! without default features, as a staticlib with its own panic handler (so
//! `std` cannot sneak in), and a C program linked with it gets the right
//! answers from its specialized functions.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn no_std_staticlib_links_into_c() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let krate = manifest_dir.join("tests/no_std_crate");
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no_std_crate");
    run(Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS"));
    let lib = target.join("release/libstaged_no_std_check.a");
    let exe = target.join("no_std_check");
    #[allow(clippy::disallowed_methods)] // the C compiler, as cc-rs would pick it
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    // The precompiled `core` carries unwinding sections that a panic=abort
    // program never reaches; --gc-sections drops them, as firmware links do.
    run(Command::new(cc)
        .arg("-Wl,--gc-sections")
        .arg("-o")
        .arg(&exe)
        .arg(krate.join("main.c"))
        .arg(&lib));
    assert_eq!(run(&mut Command::new(&exe)).trim(), "ok");
}
