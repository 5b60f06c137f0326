//! Code that the isolation rules of a run-time body must refuse, or that
//! must answer alike at every stage (issue 18, items 3, 4 and 7). What is
//! refused does not compile, so each attack is a crate of its own, built
//! with cargo against this checkout and then run: either the build fails
//! with the isolation error, or every stage gives the generic body's answer.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use super::child::{Child, Ran, fresh_dir};

/// What became of an attack.
enum Outcome {
    /// The build failed; what cargo printed.
    Refused(String),
    /// The program ran; what it said.
    Ran(Ran),
}

/// Builds `main` as the crate `name` and runs it, with its store in a
/// fresh directory and `env` set.
fn attack(name: &str, main: &str, env: &[(&str, &str)]) -> Outcome {
    // One build at a time: the attacks share a target directory (its
    // dependencies are built once), and each limit counts from its start.
    static ONE: Mutex<()> = Mutex::new(());
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("attack-target");
    let dir = fresh_dir(name);
    fs::create_dir(dir.join("src")).unwrap();
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nstaged = {{ path = \"{}\" }}\n\n[workspace]\n",
            root.display()
        ),
    )
    .unwrap();
    fs::write(dir.join("src/main.rs"), main).unwrap();
    // The workspace's versions of every dependency, already on disk.
    fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let store = dir.join("store");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    // A first build compiles staged and its dependencies.
    let built = Child::command(cargo, &store)
        .limit(Duration::from_secs(900))
        .run();
    if !built.success {
        return Outcome::Refused(built.stderr);
    }
    let program: PathBuf = target.join("debug").join(name);
    let mut run = Child::command(Command::new(program), &store);
    for (key, value) in env {
        run = run.env(key, value);
    }
    Outcome::Ran(run.run().ok())
}

/// `cfg!` spelled by `macro_rules!` macros: through fragments named after
/// options the check lets through, and as an identifier handed to a macro
/// that calls it (by a fragment named after a macro of `std`). The generic body, built for the baseline CPU, and a
/// variant built for this one (which has SSE4.2, POPCNT, AVX, ...) answered
/// differently, in a body (1000 against 1127 here) and through a module
/// constant (5001 against 9001).
const CFG_IN_MACROS: &str = r#"
#[staged::specialize(k)]
pub fn features(k: u32) -> u32 {
    macro_rules! has {
        ($unix:ident = $windows:literal) => { cfg!($unix = $windows) };
    }
    let found = [
        has!(target_feature = "sse3"),
        has!(target_feature = "ssse3"),
        has!(target_feature = "sse4.1"),
        has!(target_feature = "sse4.2"),
        has!(target_feature = "popcnt"),
        has!(target_feature = "avx"),
        has!(target_feature = "avx2"),
    ];
    found.iter().enumerate().fold(k, |acc, (i, &f)| acc + (u32::from(f) << i))
}

#[staged::self_contained]
pub mod kernels {
    pub const LEVEL: u32 = {
        macro_rules! call {
            ($matches:ident, $($t:tt)*) => { $matches!($($t)*) };
        }
        if call!(cfg, target_feature = "sse4.2") { 9001 } else { 5001 }
    };

    #[staged::specialize(k)]
    pub fn level(k: u32) -> u32 {
        LEVEL + k
    }
}

fn say(key: &str, value: impl std::fmt::Display) {
    println!("staged-test: {key}={value}");
}

fn main() {
    let h = features::specialized(1000).unwrap();
    say("features_origin", format!("{:?}", h.origin()));
    say("features", format!("{} {}", features::generic(1000), h.call()));
    let h = kernels::level::specialized(0).unwrap();
    say("level_origin", format!("{:?}", h.origin()));
    say("level", format!("{} {}", kernels::level::generic(0), h.call()));
}
"#;

#[test]
fn cfg_spelled_by_a_macro_cannot_differ_between_stages() {
    match attack(
        "attack-cfg-in-macros",
        CFG_IN_MACROS,
        &[("STAGED_TARGET_CPU", "native")],
    ) {
        Outcome::Refused(stderr) => {
            assert!(
                stderr.contains("takes its predicate from the macro's fragments"),
                "{stderr}"
            );
            assert!(stderr.contains("`cfg` handed to macro `call!`"), "{stderr}");
        }
        Outcome::Ran(r) => {
            let differ: Vec<(&str, &str)> = ["features", "level"]
                .into_iter()
                .map(|f| {
                    assert_eq!(r.get(&format!("{f}_origin")), "Compiled", "{r:#?}");
                    (f, r.get(f))
                })
                .filter(|(_, answers)| answers.split_once(' ').is_some_and(|(g, v)| g != v))
                .collect();
            assert!(differ.is_empty(), "generic and variant differ: {differ:?}");
        }
    }
}

/// A `static` with interior mutability below the top of a module: in a
/// nested module, and in a helper's body. The program and each run-time
/// library have a copy of their own, so a variant did not see the counts
/// of the calls before it (1 where the generic body said 3).
const STATE_IN_MODULE: &str = r#"
#[staged::self_contained]
pub mod counter {
    mod inner {
        pub static HITS: ::std::sync::atomic::AtomicU32 = ::std::sync::atomic::AtomicU32::new(0);
    }

    fn calls() -> u32 {
        static CALLS: ::std::sync::atomic::AtomicU32 = ::std::sync::atomic::AtomicU32::new(0);
        CALLS.fetch_add(1, ::std::sync::atomic::Ordering::Relaxed) + 1
    }

    #[staged::specialize(k)]
    pub fn hit(k: u32) -> u32 {
        inner::HITS.fetch_add(k, ::std::sync::atomic::Ordering::Relaxed) + k
    }

    #[staged::specialize(k)]
    pub fn call(k: u32) -> u32 {
        calls() * k
    }
}

fn say(key: &str, value: impl std::fmt::Display) {
    println!("staged-test: {key}={value}");
}

fn main() {
    use counter::{call, hit};
    let (h, c) = (hit::specialized(1).unwrap(), call::specialized(1).unwrap());
    say("origin", format!("{:?} {:?}", h.origin(), c.origin()));
    // Two calls of the generic body, then one of the variant: the third.
    say("hit", format!("{} {} {}", hit::generic(1), hit::generic(1), h.call()));
    say("call", format!("{} {} {}", call::generic(1), call::generic(1), c.call()));
}
"#;

#[test]
fn interior_mutable_statics_below_the_top_of_a_module_are_refused() {
    match attack("attack-state-in-module", STATE_IN_MODULE, &[]) {
        Outcome::Refused(stderr) => {
            assert_eq!(
                stderr.matches("may have interior mutability").count(),
                2,
                "{stderr}"
            );
        }
        Outcome::Ran(r) => {
            assert_eq!(r.get("origin"), "Compiled Compiled", "{r:#?}");
            assert_eq!(r.get("hit"), "1 2 3", "a variant has a static of its own");
            assert_eq!(r.get("call"), "1 2 3", "a variant has a static of its own");
        }
    }
}

/// The caller's `Location` read as a value (issue 18, item 7), spelled by
/// path, through `use … as`, a glob, a type alias, a `#[track_caller]`
/// helper of a module and a macro that puts the path together. The generic
/// body named this file and its line; a variant named the generated source
/// of its library (line 406 against 29 here).
const LOCATION: &str = r#"
#[staged::specialize(k)]
pub fn line(k: u32) -> u32 {
    std::panic::Location::caller().line() + k
}

#[staged::specialize(k)]
pub fn made(k: u32) -> u32 {
    use std::panic::*;
    macro_rules! at {
        ($f:ident) => { Location::$f() };
    }
    at!(caller).line() + k
}

#[staged::self_contained]
pub mod kernels {
    use std::panic::Location as At;
    type L = core::panic::Location<'static>;

    #[track_caller]
    fn site() -> &'static At<'static> {
        At::caller()
    }

    #[staged::specialize(k)]
    pub fn helper(k: u32) -> u32 {
        site().line() + k
    }

    #[staged::specialize(k)]
    pub fn file(k: u32) -> String {
        format!("{}:{k}", L::caller().file())
    }
}

fn say(key: &str, value: impl std::fmt::Display) {
    println!("staged-test: {key}={value}");
}

fn main() {
    let h = line::specialized(0).unwrap();
    say("line_origin", format!("{:?}", h.origin()));
    say("line", format!("{} {}", line::generic(0), h.call()));
    let h = made::specialized(0).unwrap();
    say("made_origin", format!("{:?}", h.origin()));
    say("made", format!("{} {}", made::generic(0), h.call()));
    let h = kernels::helper::specialized(0).unwrap();
    say("helper_origin", format!("{:?}", h.origin()));
    say("helper", format!("{} {}", kernels::helper::generic(0), h.call()));
    let h = kernels::file::specialized(0).unwrap();
    say("file_origin", format!("{:?}", h.origin()));
    say("file", format!("{} {}", kernels::file::generic(0), h.call()));
}
"#;

#[test]
fn a_location_read_as_a_value_cannot_differ_between_stages() {
    match attack("attack-location", LOCATION, &[]) {
        Outcome::Refused(stderr) => {
            for refused in ["Location::caller", "At::caller", "L::caller"] {
                assert!(
                    stderr.contains(&format!("`{refused}` could be")),
                    "{refused}: {stderr}"
                );
            }
            assert!(
                stderr.contains("`caller` handed to macro `at!`"),
                "{stderr}"
            );
        }
        Outcome::Ran(r) => {
            let differ: Vec<(&str, &str)> = ["line", "made", "helper", "file"]
                .into_iter()
                .map(|f| {
                    assert_eq!(r.get(&format!("{f}_origin")), "Compiled", "{r:#?}");
                    (f, r.get(f))
                })
                .filter(|(_, answers)| answers.split_once(' ').is_some_and(|(g, v)| g != v))
                .collect();
            assert!(differ.is_empty(), "generic and variant differ: {differ:?}");
        }
    }
}
