//! Records the toolchain that builds this crate, which is the one compiling
//! the crates that use its macros: `const_init!` builds its evaluator
//! programs with the same rustc.

fn main() {
    staged_build::toolchain::record();
    println!("cargo:rerun-if-changed=build.rs");
}
