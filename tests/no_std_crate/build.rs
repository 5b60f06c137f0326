//! Bakes a table with the build-script API of staged-build, as a crate
//! would for data that needs build-dependencies: the values are computed
//! here, with `std`, and written as `core`-only source under `OUT_DIR`.

use staged_build::baked_file::BakedFile;

fn main() {
    // A stand-in for parsing a data file with a crate: Fibonacci numbers
    // modulo 2^32, more than fit inline, so they go through blob files.
    let mut fib = vec![0u32, 1];
    while fib.len() < 20_000 {
        let next = fib[fib.len() - 1].wrapping_add(fib[fib.len() - 2]);
        fib.push(next);
    }
    let mut file = BakedFile::new();
    file.add_static("NOSTD_FIB", &<[u32; 20_000]>::try_from(fib).unwrap())
        .doc("Fibonacci numbers modulo 2^32, baked by build.rs.")
        .attribute("#[unsafe(no_mangle)]");
    file.add_const("BUILD_NOTE", &"baked by build.rs".to_string());
    file.write_to_out_dir("tables.rs").expect("write the baked tables");
    println!("cargo:rerun-if-changed=build.rs");
}
