//! Records the toolchain that builds this crate: run-time builds use the same
//! rustc and linker.

fn main() {
    staged_build::toolchain::record();
    println!("cargo:rerun-if-changed=build.rs");
}
