//! The `#![no_std]` crate in `tests/no_std_crate` builds against staged
//! without default features, as a staticlib with its own panic handler (so
//! `std` cannot sneak in). Its `const_init!` tables are checked in the
//! object code (read-only data, exact bytes, no initialization code), and a
//! C program built with the `cc` crate links the library and checks the
//! specialized functions (a slice of taps with an unrolled loop among them:
//! structured values and `#[staged::unroll]` need no `std` for listed
//! values) and the tables, as firmware would. One table comes
//! from the crate's build.rs, through `staged_build::baked_file`. Building the
//! crate twice also shows that an unchanged block is not evaluated again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use object::read::archive::ArchiveFile;
use object::{Object, ObjectSection, ObjectSymbol, SectionKind};

mod common;
use common::reference_crc;

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

/// Builds the crate, making cargo re-expand its macros; returns how long
/// the build took.
fn build(krate: &Path, target: &Path, cache: &Path) -> Duration {
    let source = krate.join("src/lib.rs");
    std::fs::File::options()
        .append(true)
        .open(&source)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()))
        .expect("touch lib.rs");
    let start = Instant::now();
    run(Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .env("STAGED_CACHE_DIR", cache)
        .env_remove("RUSTFLAGS"));
    start.elapsed()
}

/// Every file under `dir` with its inode and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            out.extend(snapshot(&entry.path()));
        } else {
            out.insert(entry.path(), (meta.ino(), meta.modified().unwrap()));
        }
    }
    out
}

#[test]
fn no_std_staticlib_links_into_c() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let krate = manifest_dir.join("tests/no_std_crate");
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no_std_crate");
    let cache = tempfile::tempdir().unwrap();

    build(&krate, &target, cache.path());
    let evaluated = snapshot(&cache.path().join("eval"));
    assert!(
        evaluated
            .keys()
            .any(|p| p.extension().is_some_and(|e| e == "bin")),
        "the squares table went to a blob file: {evaluated:?}"
    );
    let again = build(&krate, &target, cache.path());
    assert_eq!(
        snapshot(&cache.path().join("eval")),
        evaluated,
        "the second expansion read the cache instead of evaluating again"
    );
    eprintln!("rebuild with a cache hit: {again:?}");

    let lib = target.join("release/libstaged_no_std_check.a");
    check_object_code(&std::fs::read(&lib).unwrap());
    link_and_run_c(&krate, &target, &lib);
}

/// The tables are read-only data with the right bytes, and nothing in the
/// crate's code initializes anything at load time.
fn check_object_code(bytes: &[u8]) {
    let archive = ArchiveFile::parse(bytes).expect("a staticlib is an archive");
    let mut found = BTreeMap::new();
    let mut staged_targets = Vec::new();
    for member in archive.members() {
        let member = member.unwrap();
        let name = String::from_utf8_lossy(member.name()).into_owned();
        if !name.starts_with("staged_no_std_check") {
            continue;
        }
        let file = object::File::parse(member.data(bytes).unwrap()).unwrap();
        for section in file.sections() {
            let section_name = section.name().unwrap_or("");
            assert!(
                !(section_name.starts_with(".init_array") || section_name.starts_with(".ctors"))
                    || section.size() == 0,
                "{name} has load-time initialization code: {section_name}"
            );
        }
        for symbol in file.symbols() {
            let Ok(symbol_name) = symbol.name() else {
                continue;
            };
            if !symbol_name.starts_with("NOSTD_") {
                continue;
            }
            let section = file
                .section_by_index(symbol.section_index().unwrap())
                .unwrap();
            let data = section.data().unwrap();
            let start = (symbol.address() - section.address()) as usize;
            let bytes = data[start..start + symbol.size() as usize].to_vec();
            if symbol_name == "NOSTD_STAGED" {
                let range = symbol.address()..symbol.address() + symbol.size();
                for (offset, relocation) in section.relocations() {
                    let object::RelocationTarget::Symbol(index) = relocation.target() else {
                        continue;
                    };
                    if range.contains(&offset) {
                        let target = file.symbol_by_index(index).unwrap();
                        let kind = target
                            .section_index()
                            .and_then(|i| file.section_by_index(i).ok())
                            .map(|s| format!("{:?}", s.kind()))
                            .unwrap_or_default();
                        staged_targets.push(kind);
                    }
                }
            }
            found.insert(
                symbol_name.to_owned(),
                (section.kind(), section.name().unwrap().to_owned(), bytes),
            );
        }
    }
    let read_only = |name: &str| {
        let (kind, section, bytes) = found
            .get(name)
            .unwrap_or_else(|| panic!("no symbol {name}: {:?}", found.keys()));
        assert_eq!(*kind, SectionKind::ReadOnlyData, "{name} is in {section}");
        bytes.clone()
    };
    let crc: Vec<u8> = (0..256)
        .flat_map(|i| reference_crc(i).to_ne_bytes())
        .collect();
    assert_eq!(read_only("NOSTD_CRC32"), crc);
    let squares: Vec<u8> = (0..100_000u64)
        .flat_map(|i| (i * i).to_ne_bytes())
        .collect();
    assert_eq!(read_only("NOSTD_SQUARES"), squares);
    let sin: Vec<u8> = (0..1024)
        .flat_map(|i| (std::hint::black_box(i) as f32 / 100.0).sin().to_ne_bytes())
        .collect();
    assert_eq!(read_only("NOSTD_SIN"), sin);
    // Baked by build.rs through `staged_build::baked_file`.
    let mut fib = vec![0u32, 1];
    while fib.len() < 20_000 {
        fib.push(fib[fib.len() - 1].wrapping_add(fib[fib.len() - 2]));
    }
    let fib: Vec<u8> = fib.iter().flat_map(|v| v.to_ne_bytes()).collect();
    assert_eq!(read_only("NOSTD_FIB"), fib);
    // A baked `Staged` is a reference to read-only data: it needs a
    // relocation, not code, and lives in `.data.rel.ro`, which the loader
    // makes read-only once relocated.
    let (_, section, _) = &found["NOSTD_STAGED"];
    assert!(
        section.starts_with(".data.rel.ro"),
        "NOSTD_STAGED is in {section}"
    );
    assert_eq!(
        staged_targets
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["ReadOnlyData"],
        "what NOSTD_STAGED points to"
    );
}

/// Compiles `main.c` with the C compiler the `cc` crate picks for the host,
/// links the staticlib, and runs it.
fn link_and_run_c(krate: &Path, target: &Path, lib: &Path) {
    let version = run(Command::new("rustc").arg("-vV"));
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let out_dir = target.join("c");
    std::fs::create_dir_all(&out_dir).unwrap();
    let compiler = cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .target(host)
        .host(host)
        .opt_level(1)
        .debug(false)
        .out_dir(&out_dir)
        .get_compiler();
    let exe = out_dir.join("no_std_check");
    // The precompiled `core` carries unwinding sections that a panic=abort
    // program never reaches; --gc-sections drops them, as firmware links do.
    run(compiler
        .to_command()
        .arg("-Wl,--gc-sections")
        .arg("-o")
        .arg(&exe)
        .arg(krate.join("main.c"))
        .arg(lib)
        .arg("-lm"));
    assert_eq!(run(&mut Command::new(&exe)).trim(), "ok");
}
