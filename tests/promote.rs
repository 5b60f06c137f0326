//! Promotion, end to end (issue 10), in a crate outside this repository
//! (`tests/fixtures/promoted`, copied to a temporary directory): a run
//! records its run-time values in a profile; the next build's script
//! promotes them to static variants, which a run with no rustc gets as
//! `Origin::Static`; removing a value from the profile removes its variant;
//! stale and ill-typed entries are skipped with a warning that names them;
//! `cargo check` sees the same; a promoted value compiles to the same
//! machine code as a listed one. Structured values (issue 19: a plan of a
//! self-contained module's enum with `#[staged::unroll]`, an array of
//! floats, an `Option` and a string in a tuple) go the same way, from the
//! literals the runtime writes.
//!
//! One test, in steps, because each step builds on the last and every
//! build of the fixture takes seconds; its dependencies are built once, in
//! a target directory of their own that later runs reuse.
#![allow(clippy::disallowed_methods)] // the fixture gets its settings through the environment

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use staged_build::profile::{Entry, Profile};

/// The fixture, copied next to this test's other temporary files.
struct Fixture {
    dir: PathBuf,
    target: PathBuf,
    cache: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = tmp.join(format!("promoted-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap();
        let from = root.join("tests/fixtures/promoted");
        let manifest = fs::read_to_string(from.join("Cargo.toml.in")).unwrap();
        fs::write(
            dir.join("Cargo.toml"),
            manifest.replace("@STAGED@", root.to_str().unwrap()),
        )
        .unwrap();
        for file in ["build.rs", "src/main.rs"] {
            fs::copy(from.join(file), dir.join(file)).unwrap();
        }
        // The workspace's versions of every dependency, already on disk.
        fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        let cache = dir.join("cache");
        fs::create_dir(&cache).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&cache, fs::Permissions::from_mode(0o700)).unwrap();
        Self {
            target: tmp.join("promoted-target"),
            dir,
            cache,
        }
    }

    fn profile(&self) -> PathBuf {
        self.dir.join("staged.profile")
    }

    /// `cargo <command>` on the fixture; its output, which must be a
    /// success.
    fn cargo(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO"))
            .arg("--offline")
            .args(args)
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .unwrap();
        let text = text(&out);
        assert!(out.status.success(), "cargo {args:?} failed:\n{text}");
        text
    }

    /// Builds the fixture; the compiler's and the build script's messages.
    fn build(&self) -> String {
        self.cargo(&["build"])
    }

    /// Runs the built program for `values` (powers, or the names of
    /// structured values), with `envs`; for each value, its origin, after
    /// checking that every answer was right.
    fn run(&self, values: &[impl ToString], envs: &[(&str, &str)]) -> Vec<String> {
        let mut cmd = Command::new(self.target.join("debug/promoted-fixture"));
        cmd.args(values.iter().map(ToString::to_string))
            .env("STAGED_CACHE_DIR", &self.cache)
            .env("STAGED_MODE", "sync");
        for var in ["STAGED_PROFILE", "STAGED_RUSTC", "STAGED_BUNDLE"] {
            cmd.env_remove(var);
        }
        cmd.envs(envs.iter().copied());
        let out = cmd.output().unwrap();
        let text = text(&out);
        assert!(out.status.success(), "{text}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        stdout
            .lines()
            .map(|l| {
                let fields: Vec<&str> = l.split(' ').collect();
                assert_eq!(fields.get(2), Some(&"true"), "a wrong answer: {l}");
                fields[1].to_owned()
            })
            .collect()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The profile's lines without those of `values`.
fn without(profile: &Path, values: &[&str]) -> String {
    let text = fs::read_to_string(profile).unwrap();
    text.lines()
        .filter(|l| !values.iter().any(|v| l.ends_with(&format!("\t{v}"))))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The fixture's structured values, by the names its program takes.
const STRUCTURED: [&str; 4] = ["plan0", "plan1", "score0", "score1"];

/// The fixture's structured values as the literal renderer writes them:
/// the function, then the literal of each specialized parameter.
const STRUCTURED_LITERALS: [(&str, &[&str]); 4] = [
    (
        "promoted_fixture::query::count",
        &[
            "&[self::Pred::Between { col: 0u8, lo: 10i64, hi: 500i64 }, self::Pred::ModEq { col: 1u8, m: 7i64, r: 3i64 }]",
        ],
    ),
    (
        "promoted_fixture::query::count",
        &[
            "&[self::Pred::Not(1u8), self::Pred::Always, self::Pred::Between { col: 1u8, lo: -5i64, hi: 5i64 }]",
        ],
    ),
    (
        "promoted_fixture::score",
        &[
            "[::core::primitive::f64::from_bits(0x3ff0000000000000u64), ::core::primitive::f64::from_bits(0x8000000000000000u64), ::core::primitive::f64::from_bits(0x3fb999999999999au64)]",
            r#"(::core::option::Option::Some(-3i32), "a\tb, {c} \"d\" ::e &f #g", )"#,
        ],
    ),
    (
        "promoted_fixture::score",
        &[
            "[::core::primitive::f64::from_bits(0x3fe0000000000000u64), ::core::primitive::f64::from_bits(0x7ff8000000000000u64), ::core::primitive::f64::from_bits(0xc000000000000000u64)]",
            r#"(::core::option::Option::None, "", )"#,
        ],
    ),
];

/// The assembly of the function `name` in `asm`, without its labels' names
/// and its own name.
fn function_asm(asm: &str, name: &str) -> String {
    let start = asm
        .find(&format!("\n{name}:\n"))
        .unwrap_or_else(|| panic!("no `{name}` in the assembly"));
    let body = &asm[start + name.len() + 3..];
    let end = body.find(".Lfunc_end").expect("the function's end");
    body[..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(".cfi"))
        .map(|l| {
            // Local labels are numbered per file.
            if l.starts_with(".L") { ".L" } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_recorded_profile_becomes_static_variants() {
    let f = Fixture::new();
    // No rustc, and a cache of its own that stays empty: only static
    // variants serve.
    let empty = f.dir.join("empty-cache");
    fs::create_dir(&empty).unwrap();
    let no_rustc = [
        ("STAGED_RUSTC", "/nonexistent/rustc"),
        ("STAGED_CACHE_DIR", empty.to_str().unwrap()),
    ];

    // 1. No profile yet: nothing promoted, and the build says so.
    let out = f.build();
    assert!(out.contains("no profile promoted"), "{out}");
    assert_eq!(f.run(&[7, 9], &no_rustc), ["none", "none"]);

    // 2. A run records its run-time values (2 is listed: not recorded).
    let profile = f.profile();
    let recording = [("STAGED_PROFILE", profile.to_str().unwrap())];
    assert_eq!(
        f.run(&[7, 9, 2], &recording),
        ["Compiled", "Compiled", "Static"]
    );
    let (recorded, problems) = Profile::read(&profile).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let values: Vec<Vec<String>> = recorded.entries().map(|(e, _)| e.values.clone()).collect();
    assert_eq!(values, [vec!["7u32".to_owned()], vec!["9u32".to_owned()]]);
    let (seven, _) = recorded.entries().next().unwrap();
    assert_eq!(seven.krate, "promoted_fixture");
    assert_eq!(seven.function, "promoted_fixture::power");
    let seven = seven.clone();
    // Structured values are recorded as the literal renderer writes them
    // (spaces, commas, braces, quotes, `::`, `&`, an escaped tab), and
    // read back whole.
    assert_eq!(f.run(&STRUCTURED, &recording), ["Compiled"; 4]);
    let (recorded, problems) = Profile::read(&profile).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let mut found: Vec<(&str, Vec<&str>)> = recorded
        .entries()
        .filter(|(e, _)| e.function != "promoted_fixture::power")
        .map(|(e, _)| {
            (
                e.function.as_str(),
                e.values.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let mut expected: Vec<(&str, Vec<&str>)> = STRUCTURED_LITERALS
        .iter()
        .map(|(function, values)| (*function, values.to_vec()))
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
    let entry_of = |function: &str| {
        let (e, _) = recorded
            .entries()
            .find(|(e, _)| e.function == function)
            .unwrap();
        e.clone()
    };
    let (count, score) = (
        entry_of("promoted_fixture::query::count"),
        entry_of("promoted_fixture::score"),
    );

    // 3. Built again, with no rustc at run time: both are static.
    f.build();
    assert_eq!(f.run(&[7, 9, 2], &no_rustc), ["Static", "Static", "Static"]);
    assert_eq!(f.run(&STRUCTURED, &no_rustc), ["Static"; 4]);

    // 4. A value removed from the profile loses its variant.
    let plan1 = STRUCTURED_LITERALS[1].1[0];
    fs::write(&profile, without(&profile, &["9u32", plan1])).unwrap();
    f.build();
    assert_eq!(f.run(&[7, 9], &no_rustc), ["Static", "none"]);
    assert_eq!(
        f.run(&STRUCTURED, &no_rustc),
        ["Static", "none", "Static", "Static"]
    );

    // 5. Entries that do not fit are skipped, with a warning naming them:
    //    a value of another type, a value that overflows the parameter,
    //    too many values, another version of the function.
    let line = |values: &[&str], calls: u64| {
        Entry {
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            ..seven.clone()
        }
        .line(calls)
    };
    let stale = Entry {
        fingerprint: "0".repeat(64),
        values: vec!["11u32".into()],
        ..seven.clone()
    };
    let mut text = fs::read_to_string(&profile).unwrap();
    text += &line(&["\"seven\""], 5);
    text += &line(&["99999999999u64"], 5);
    text += &line(&["3u32", "4u32"], 5);
    text += &stale.line(5);
    // Structured values that do not fit: a variant the enum lacks, a field
    // of another type, an array of the wrong length.
    let bad_plans = ["&[self::Pred::Nope]", "&[self::Pred::Not(1u16)]"];
    for plan in bad_plans {
        text += &Entry {
            values: vec![plan.to_owned()],
            ..count.clone()
        }
        .line(5);
    }
    let short_taps = "[::core::primitive::f64::from_bits(0x3ff0000000000000u64)]";
    let short_tag = r#"(::core::option::Option::None, "short", )"#;
    text += &Entry {
        values: vec![short_taps.to_owned(), short_tag.to_owned()],
        ..score.clone()
    }
    .line(5);
    fs::write(&profile, &text).unwrap();
    let out = f.build();
    for named in ["\"seven\"", "99999999999u64", "3u32, 4u32"] {
        assert!(
            out.contains(&format!("value ({named}) for `power` is not promoted")),
            "{named}: {out}"
        );
    }
    for (named, function) in [
        (bad_plans[0].to_owned(), "count"),
        (bad_plans[1].to_owned(), "count"),
        (format!("{short_taps}, {short_tag}"), "score"),
    ] {
        assert!(
            out.contains(&format!("value ({named}) for `{function}` is not promoted")),
            "{named}: {out}"
        );
    }
    assert_eq!(
        f.run(&STRUCTURED, &no_rustc),
        ["Static", "none", "Static", "Static"]
    );
    assert!(
        out.contains("1 value(s) of the profile for `power` are not promoted: they were recorded for another version"),
        "{out}"
    );
    assert_eq!(f.run(&[7, 11], &no_rustc), ["Static", "none"]);
    // `cargo check` (and so rust-analyzer) expands the same.
    let check = f.cargo(&["check", "--message-format", "short"]);
    assert!(check.contains("for `power` is not promoted"), "{check}");

    // 6. The hottest 16 values are promoted, the rest are not.
    let mut text = without(
        &profile,
        &[
            "\"seven\"",
            "99999999999u64",
            "4u32",
            "11u32",
            bad_plans[0],
            bad_plans[1],
            short_tag,
        ],
    );
    for n in 10..30u64 {
        text += &line(&[&format!("{n}u32")], 1000 + n);
    }
    fs::write(&profile, &text).unwrap();
    f.build();
    let values: Vec<u32> = (10..30).collect();
    let origins = f.run(&values, &no_rustc);
    let promoted: Vec<u32> = values
        .iter()
        .zip(&origins)
        .filter(|(_, o)| *o == "Static")
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(promoted, (14..30).collect::<Vec<u32>>(), "{origins:?}");
    // 7 was the coldest: it made way.
    assert_eq!(f.run(&[7], &no_rustc), ["none"]);

    // 7. A promoted value compiles to the code of a listed one.
    let mut text = without(&profile, &[]);
    text += &line(&["7u32"], 1_000_000);
    fs::write(&profile, &text).unwrap();
    f.cargo(&[
        "rustc",
        "--bin",
        "promoted-fixture",
        "--",
        "--emit",
        "asm",
        "-C",
        "codegen-units=1",
    ]);
    let deps = f.target.join("debug/deps");
    let asm_file = fs::read_dir(&deps)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "s")
                && p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("promoted_fixture")
        })
        .max_by_key(|p| fs::metadata(p).unwrap().modified().unwrap())
        .expect("the assembly");
    let asm = fs::read_to_string(asm_file).unwrap();
    let listed = function_asm(&asm, "listed_seven");
    assert!(!listed.contains("call"), "7 was not inlined:\n{listed}");
    // LLVM merges identical functions: one is then an alias of the other.
    let merged = [
        "promoted_seven = listed_seven",
        "listed_seven = promoted_seven",
    ];
    if !merged.iter().any(|alias| asm.contains(alias)) {
        let promoted = function_asm(&asm, "promoted_seven");
        assert_eq!(promoted, listed, "a promoted 7 and a listed 7 differ");
    }
}
