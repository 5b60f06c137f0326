//! Deployment (issue 10): value profiles, read-only bundles and short
//! processes, each run as real programs are, in child processes (this
//! binary again, see `common/child.rs`) with their own settings and a time
//! limit. Promotion of a profile to static variants builds a crate of its
//! own: `tests/promote.rs`.
//!
//! - profiles: every call of every run-time value counted, across
//!   processes writing one file at once; a profile that cannot be written
//!   changes nothing else;
//! - bundles: a training run's cache serves a process with no rustc and is
//!   left byte for byte as it was; a bundle someone else could write, a bad
//!   entry, a library for features this CPU lacks are refused, with the
//!   reason in `stats()`;
//! - short processes: a value already cached is used from its first call,
//!   and values the store does not hold are not looked for on disk one by
//!   one; a build a process left behind is used by the next one;
//! - the trigger: a value whose generic calls are slow is built after
//!   `STAGED_THRESHOLD_MS` of them, before `STAGED_THRESHOLD` calls;
//! - structured values (a plan of a self-contained module's enum, a slice
//!   of floats, a tuple with an `Option` and a string): loaded by a second
//!   process from the cache and from a training run's bundle, with no
//!   rustc, and recorded in the profile as the literal renderer writes
//!   them.
#![allow(clippy::disallowed_methods)] // scenarios reach the children through the environment

#[path = "common/child.rs"]
mod child;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use child::{Child, Ran, env, fresh_dir, power, report_stats, say, value};
use staged_build::profile::Profile;

/// Calls `power(x, value())` for `STAGED_TEST_CALLS` values of `x` (1000 by
/// default; `until-swap`: until the variant takes over, for at most a
/// minute), checking each answer, then reports when the variant took over
/// and what the builds were doing meanwhile.
fn calls() {
    let n = value();
    let until_swap = env("STAGED_TEST_CALLS").as_deref() == Some("until-swap");
    let total: u64 = env("STAGED_TEST_CALLS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let start = Instant::now();
    let mut swapped_after = None;
    let mut busy_seen = 0;
    for x in 0.. {
        let more = if until_swap {
            swapped_after.is_none() && start.elapsed() < Duration::from_secs(60)
        } else {
            x < total
        };
        if !more {
            break;
        }
        assert_eq!(power(x, n), power::generic(x, n), "x = {x}");
        let s = power::stats();
        busy_seen = busy_seen.max(s.pending + s.building);
        if swapped_after.is_none() && s.compiled + s.cached + s.bundled > 0 {
            swapped_after = Some(x + 1);
        }
    }
    say(
        "swapped_after_calls",
        swapped_after.map_or_else(|| "never".to_owned(), |c| c.to_string()),
    );
    say("busy_seen", busy_seen);
    report_stats(power::stats());
}

// ---- structured values ----------------------------------------------------

#[staged::self_contained]
mod query {
    /// A predicate on a row of two columns.
    #[repr(C)]
    #[derive(Clone, Copy, Debug)]
    pub enum Pred {
        Between { col: u8, lo: i64, hi: i64 },
        ModEq { col: u8, m: i64, r: i64 },
        Not(u8),
        Always,
    }

    /// Rows passing every predicate of `plan`: one copy of the test per
    /// predicate in every variant.
    #[staged::specialize(plan)]
    pub fn count(rows: &[[i64; 2]], plan: &[Pred]) -> u64 {
        let mut n = 0;
        for row in rows {
            let mut keep = true;
            #[staged::unroll]
            for p in plan {
                keep &= match *p {
                    Pred::Between { col, lo, hi } => (lo..=hi).contains(&row[col as usize % 2]),
                    Pred::ModEq { col, m, r } => row[col as usize % 2].rem_euclid(m) == r,
                    Pred::Not(col) => row[col as usize % 2] == 0,
                    Pred::Always => true,
                };
            }
            n += u64::from(keep);
        }
        n
    }
}

/// A stack machine whose loop becomes the program's (`#[staged::unroll(pc)]`).
#[staged::self_contained]
mod machine {
    #[repr(C)]
    #[derive(Clone, Copy, Debug)]
    pub enum Op {
        Push(i64),
        Add,
        Dup,
        Dec,
        Swap,
        JumpIfZero(u32),
        Jump(u32),
    }

    /// Runs `prog` on `x`.
    #[staged::specialize(prog)]
    pub fn run(prog: &[Op], x: i64) -> i64 {
        let mut stack = [0i64; 8];
        let mut sp = 1;
        stack[0] = x;
        let mut pc = 0usize;
        #[staged::unroll(pc)]
        while pc < prog.len() {
            match prog[pc] {
                Op::Push(v) => {
                    stack[sp] = v;
                    sp += 1;
                }
                Op::Add => {
                    sp -= 1;
                    stack[sp - 1] = stack[sp - 1].wrapping_add(stack[sp]);
                }
                Op::Dup => {
                    stack[sp] = stack[sp - 1];
                    sp += 1;
                }
                Op::Dec => stack[sp - 1] -= 1,
                Op::Swap => stack.swap(sp - 1, sp - 2),
                Op::JumpIfZero(t) => {
                    sp -= 1;
                    if stack[sp] == 0 {
                        pc = t as usize;
                        continue;
                    }
                }
                Op::Jump(t) => {
                    pc = t as usize;
                    continue;
                }
            }
            pc += 1;
        }
        stack[sp - 1]
    }
}

use machine::{Op, run};
use query::{Pred, count};

/// `x + 2x` by a loop: `acc += 2` while `x` counts down (to zero: `x` is
/// not negative).
const PROGRAM: &[Op] = &[
    Op::Push(0),
    Op::Swap,
    Op::Dup,
    Op::JumpIfZero(11),
    Op::Swap,
    Op::Push(2),
    Op::Add,
    Op::Swap,
    Op::Dec,
    Op::Jump(2),
    Op::Push(0),
    Op::Swap,
];

/// Every shape of enum variant, negative numbers included.
const PLANS: [&[Pred]; 2] = [
    &[
        Pred::Between {
            col: 0,
            lo: 10,
            hi: 500,
        },
        Pred::ModEq { col: 1, m: 7, r: 3 },
    ],
    &[
        Pred::Not(1),
        Pred::Always,
        Pred::Between {
            col: 1,
            lo: -5,
            hi: 5,
        },
    ],
];

/// The plans as the literal renderer writes them, which the profile holds.
const PLAN_LITERALS: [&str; 2] = [
    "&[self::Pred::Between { col: 0u8, lo: 10i64, hi: 500i64 }, self::Pred::ModEq { col: 1u8, m: 7i64, r: 3i64 }]",
    "&[self::Pred::Not(1u8), self::Pred::Always, self::Pred::Between { col: 1u8, lo: -5i64, hi: 5i64 }]",
];

/// A weighted sum whose weights and tag are values: floats by their bits
/// (`-0.0` too), an `Option` in a tuple, and a string holding what a
/// profile line must survive (a tab, quotes, commas, braces, `::`, `&`,
/// `#`).
#[staged::specialize(taps, tag)]
pub fn score(xs: &[f64], taps: &[f64], tag: (Option<i32>, &str)) -> f64 {
    let mut acc = 0.0;
    #[staged::unroll]
    for (k, t) in taps.iter().enumerate() {
        acc += t * xs[k];
    }
    acc + f64::from(tag.0.unwrap_or(0)) + tag.1.len() as f64
}

const TAPS: &[f64] = &[1.0, -0.0, 0.1];
const TAG: (Option<i32>, &str) = (Some(-3), "a\tb, {c} \"d\" ::e &f #g");
const SCORE_LITERALS: [&str; 2] = [
    "&[::core::primitive::f64::from_bits(0x3ff0000000000000u64), ::core::primitive::f64::from_bits(0x8000000000000000u64), ::core::primitive::f64::from_bits(0x3fb999999999999au64)]",
    r#"(::core::option::Option::Some(-3i32), "a\tb, {c} \"d\" ::e &f #g", )"#,
];

/// [`PROGRAM`] as the literal renderer writes it.
const PROGRAM_LITERAL: &str = "&[self::Op::Push(0i64), self::Op::Swap, self::Op::Dup, self::Op::JumpIfZero(11u32), self::Op::Swap, self::Op::Push(2i64), self::Op::Add, self::Op::Swap, self::Op::Dec, self::Op::Jump(2u32), self::Op::Push(0i64), self::Op::Swap]";

/// Rows to check the plans on.
fn rows() -> Vec<[i64; 2]> {
    (-40i64..40)
        .flat_map(|a| [[a * 13, a], [a, a * 7 + 3], [a * a, 0]])
        .collect()
}

/// Builds (`STAGED_TEST_PREPARE`: the second plan with `prepare`) or loads
/// the variants of the plans and of `score`, checks every answer against
/// the generic bodies, makes `STAGED_TEST_CALLS` dispatched calls of each
/// value (1 by default), and reports.
fn structured() {
    let rows = rows();
    let xs = [2.5, -1.0, 8.0, 3.0];
    if env("STAGED_TEST_PREPARE").is_some() {
        say("prepared", count::prepare([PLANS[1]]).is_ok());
    }
    for (i, plan) in PLANS.into_iter().enumerate() {
        match count::specialized(plan) {
            Ok(h) => {
                say(&format!("plan{i}_origin"), format!("{:?}", h.origin()));
                say(
                    &format!("plan{i}_correct"),
                    h.call(&rows) == count::generic(&rows, plan),
                );
            }
            Err(e) => say(&format!("plan{i}_origin"), format!("none: {e}")),
        }
    }
    match run::specialized(PROGRAM) {
        Ok(h) => {
            say("program_origin", format!("{:?}", h.origin()));
            say(
                "program_correct",
                (0..40).all(|x| h.call(x) == run::generic(PROGRAM, x)),
            );
        }
        Err(e) => say("program_origin", format!("none: {e}")),
    }
    match score::specialized(TAPS, TAG) {
        Ok(h) => {
            say("score_origin", format!("{:?}", h.origin()));
            say(
                "score_correct",
                h.call(&xs).to_bits() == score::generic(&xs, TAPS, TAG).to_bits(),
            );
        }
        Err(e) => say("score_origin", format!("none: {e}")),
    }
    let calls: u64 = env("STAGED_TEST_CALLS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut dispatch_correct = true;
    for _ in 0..calls {
        for plan in PLANS {
            dispatch_correct &= count(&rows, plan) == count::generic(&rows, plan);
        }
        dispatch_correct &=
            score(&xs, TAPS, TAG).to_bits() == score::generic(&xs, TAPS, TAG).to_bits();
        dispatch_correct &= run(PROGRAM, 9) == run::generic(PROGRAM, 9);
    }
    say("dispatch_correct", dispatch_correct);
    let (c, s) = (count::stats(), score::stats());
    for (what, count, score) in [
        ("compiled", c.compiled, s.compiled),
        ("cached", c.cached, s.cached),
        ("bundled", c.bundled, s.bundled),
        ("failed", c.failed, s.failed),
        ("generic_calls", c.generic_calls, s.generic_calls),
    ] {
        say(&format!("count_{what}"), count);
        say(&format!("score_{what}"), score);
    }
    let errors = [c.last_error, s.last_error].map(Option::unwrap_or_default);
    say("last_error", errors.join(" | ").replace('\n', " "));
}

/// `x` to the power `n`, slowly: each call sleeps 5 ms.
#[staged::specialize(n)]
pub fn slow_power(x: u64, n: u32) -> u64 {
    ::std::thread::sleep(::std::time::Duration::from_millis(5));
    x.wrapping_pow(n)
}

/// Calls `slow_power(x, value())` until the value is handed to a builder,
/// for at most 64 calls, and reports after how many calls it was.
fn trigger() {
    let n = value();
    let mut handed_after = None;
    for x in 0..64u64 {
        assert_eq!(slow_power(x, n), x.wrapping_pow(n));
        let s = slow_power::stats();
        if s.pending + s.building + s.failed + s.compiled > 0 {
            handed_after = Some(x + 1);
            break;
        }
    }
    say(
        "handed_after_calls",
        handed_after.map_or_else(|| "never".to_owned(), |c| c.to_string()),
    );
}

/// A function whose calls cost the same whatever the value.
#[staged::specialize(k)]
pub fn keyed(x: u64, k: u32) -> u64 {
    x.rotate_left(k) ^ u64::from(k)
}

/// With `STAGED_TEST_TRAIN`, builds `keyed` for `value()`. Otherwise calls
/// `keyed` once with each of `STAGED_TEST_CALLS` values the store does not
/// hold (1000 and up), then with `value()`; reports the index reads each
/// part made, and the counters.
fn distinct() {
    let n = value();
    if env("STAGED_TEST_TRAIN").is_some() {
        let h = keyed::specialized(n).unwrap();
        say("origin", format!("{:?}", h.origin()));
        return;
    }
    let total: u32 = env("STAGED_TEST_CALLS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let before = staged::__private::index_reads();
    let start = Instant::now();
    for k in 1000..1000 + total {
        assert_eq!(keyed(3, k), keyed::generic(3, k));
    }
    let elapsed = start.elapsed();
    say("distinct_reads", staged::__private::index_reads() - before);
    say(
        "ns_per_distinct_value",
        elapsed.as_nanos() / u128::from(total.max(1)),
    );
    let before = staged::__private::index_reads();
    assert_eq!(keyed(3, n), keyed::generic(3, n));
    say("held_reads", staged::__private::index_reads() - before);
    report_stats(keyed::stats());
}

/// The entry of every child: does what `STAGED_TEST_SCENARIO` names. It is
/// ignored in a normal run, where it would have nothing to do.
#[test]
#[ignore = "run by the other tests in a child process"]
fn child_entry() {
    let scenario = std::env::var(child::SCENARIO)
        .expect("child_entry runs only as a child of the deploy tests");
    match scenario.as_str() {
        "specialize" => child::specialize_and_report(),
        "calls" => calls(),
        "structured" => structured(),
        "trigger" => trigger(),
        "distinct" => distinct(),
        other => panic!("unknown scenario {other}"),
    }
}

// ---- profiles ------------------------------------------------------------

/// The calls the profile at `path` counts for `power` with the value `n`,
/// checking that it has no torn or foreign line and no other value.
fn profiled_calls(path: &Path, n: u32) -> u64 {
    let (profile, problems) = Profile::read(path).unwrap();
    assert!(problems.is_empty(), "torn or foreign lines: {problems:?}");
    let text = fs::read_to_string(path).unwrap();
    assert!(text.starts_with(staged_build::profile::HEADER), "{text}");
    assert_eq!(text.matches("# staged profile").count(), 1, "{text}");
    let mut calls = 0;
    for (entry, count) in profile.entries() {
        assert_eq!(entry.krate, "deploy", "{entry:?}");
        assert!(entry.function.ends_with("::power"), "{entry:?}");
        assert_eq!(entry.fingerprint.len(), 64, "{entry:?}");
        assert_eq!(entry.values, [format!("{n}u32")], "{entry:?}");
        calls += count;
    }
    calls
}

/// Before: nothing recorded which run-time values a program met.
#[test]
fn a_profile_counts_every_call_of_each_value_a_run_built_or_loaded() {
    let dir = fresh_dir("profile");
    let store = dir.join("store");
    let profile = dir.join("staged.profile");
    let run = |mode: &str| {
        Child::new("calls", &store)
            .env("STAGED_MODE", mode)
            .env("STAGED_THRESHOLD", "4")
            .env("STAGED_PROFILE", &profile)
            .run()
            .ok()
    };
    // Built on the first call, then 999 calls of the variant.
    let r = run("sync");
    assert_eq!(r.get("compiled"), "1", "{r:#?}");
    assert_eq!(profiled_calls(&profile, 7), 1000);
    // Loaded from the cache at the first call.
    let r = run("background");
    assert_eq!(
        (r.get("cached"), r.get("generic_calls")),
        ("1", "0"),
        "{r:#?}"
    );
    assert_eq!(profiled_calls(&profile, 7), 2000);
    // Four processes appending at once: no line torn, no call lost.
    let running: Vec<_> = (0..4)
        .map(|_| {
            Child::new("calls", &store)
                .env("STAGED_PROFILE", &profile)
                .spawn()
        })
        .collect();
    for r in running {
        r.wait().ok();
    }
    assert_eq!(profiled_calls(&profile, 7), 6000);
    // A static value is no run-time value: nothing to record.
    Child::new("calls", &store)
        .env("STAGED_PROFILE", &profile)
        .env(child::VALUE, "2")
        .run()
        .ok();
    assert_eq!(profiled_calls(&profile, 7), 6000);
}

/// A profile that cannot be written (a directory, a FIFO nobody reads, a
/// symlink, a missing directory) is logged; the program's answers and
/// exit are unchanged, and nothing blocks.
#[test]
fn a_profile_that_cannot_be_written_changes_nothing_else() {
    let dir = fresh_dir("profile-bad");
    let store = dir.join("store");
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let link = dir.join("link");
    std::os::unix::fs::symlink(dir.join("elsewhere"), &link).unwrap();
    fs::create_dir(dir.join("a-directory")).unwrap();
    for profile in [
        dir.join("a-directory"),
        fifo,
        link,
        dir.join("missing/staged.profile"),
    ] {
        let r = Child::new("calls", &store)
            .env("STAGED_PROFILE", &profile)
            .limit(Duration::from_secs(60))
            .run()
            .ok();
        assert_eq!(r.get("failed"), "0", "{}: {r:#?}", profile.display());
        assert_eq!(r.get("swapped_after_calls"), "1", "{r:#?}");
    }
    assert!(!dir.join("elsewhere").exists(), "the symlink was followed");
}

// ---- bundles -------------------------------------------------------------

/// Every file and directory under `dir`: its kind, mode, owner, size,
/// modification time and bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, u32, i128, Vec<u8>)> {
    let state = |path: &Path| {
        let m = fs::symlink_metadata(path).unwrap();
        let bytes = if m.is_file() {
            fs::read(path).unwrap()
        } else {
            Vec::new()
        };
        let mtime = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
        (m.mode(), m.uid(), mtime, bytes)
    };
    let mut all = BTreeMap::from([(dir.to_owned(), state(dir))]);
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            }
            all.insert(e.path(), state(&e.path()));
        }
    }
    all
}

/// The CPU a training run names: one this machine has every feature of.
fn training_cpu() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("movbe")
        {
            return "x86-64-v3";
        }
        "x86-64"
    }
    #[cfg(not(target_arch = "x86_64"))]
    "generic"
}

/// A bundle made by a training run, as the crate docs show one. A library for
/// a CPU other than this one is built but not loaded here.
fn train(dir: &Path, cpu: &str) -> PathBuf {
    let bundle = dir.join("bundle");
    let r = Child::new("specialize", &bundle)
        .env("STAGED_TARGET_CPU", cpu)
        .run()
        .ok();
    if cpu == training_cpu() {
        assert_eq!(r.get("origin"), "Compiled", "{r:#?}");
    }
    let libraries = fs::read_dir(bundle.join("obj")).unwrap().count();
    assert_eq!(libraries, 1, "the training run built nothing: {r:#?}");
    bundle
}

/// A process deployed with `bundle`, a cache of its own and no rustc.
fn deployed(dir: &Path, bundle: &str) -> Ran {
    Child::new("specialize", &dir.join("cache"))
        .env("STAGED_BUNDLE", bundle)
        .env("STAGED_RUSTC", "/nonexistent/rustc")
        .run()
        .ok()
}

/// The done-when of the issue: a bundle made by a training run serves a
/// fresh process with no rustc, and is left byte for byte as it was.
#[test]
fn a_training_runs_bundle_serves_a_process_without_rustc_and_is_never_written() {
    let dir = fresh_dir("bundle");
    let bundle = train(&dir, training_cpu());
    let before = snapshot(&bundle);
    // The bundle is named second, after one that does not exist: that one
    // is reported, and the next serves.
    let named = format!(
        "{}:{}",
        dir.join("no-such-bundle").display(),
        bundle.display()
    );
    for _ in 0..2 {
        let r = deployed(&dir, &named);
        assert_eq!(
            (r.get("origin"), r.get("correct"), r.get("dispatch_correct")),
            ("Bundled", "true", "true"),
            "{r:#?}"
        );
        assert_eq!(r.get("compiled"), "0", "{r:#?}");
        assert!(r.get("last_error").contains("no-such-bundle"), "{r:#?}");
        assert!(
            r.get("maps_store") == "false",
            "served from the bundle, not the cache"
        );
    }
    assert_eq!(snapshot(&bundle), before, "the bundle changed");
    // A read-only bundle (a container layer) serves as well.
    let ro = |mode| {
        for path in before.keys().filter(|p| p.is_dir()) {
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        }
    };
    ro(0o555);
    let r = deployed(&dir, bundle.to_str().unwrap());
    ro(0o700);
    assert_eq!(r.get("origin"), "Bundled", "{r:#?}");
    assert_eq!(r.get("bundled"), "1", "{r:#?}");
}

/// A bundle someone else could write (group- or world-writable, or owned
/// by another user, or below such a directory) could hold their code: it
/// is never read, and `stats()` says why.
#[test]
fn a_bundle_others_could_write_is_refused() {
    let dir = fresh_dir("bundle-writable");
    let bundle = train(&dir, training_cpu());
    let obj = bundle.join("obj");
    let check = |what: &str, expect: &str| {
        let r = deployed(&dir, bundle.to_str().unwrap());
        assert_eq!(r.get("origin"), "none", "{what}: {r:#?}");
        assert_eq!(r.get("dispatch_correct"), "true", "{what}: {r:#?}");
        assert!(r.get("last_error").contains(expect), "{what}: {r:#?}");
        assert_eq!(r.get("maps_store"), "false", "{what}: {r:#?}");
    };
    for (path, mode) in [(&bundle, 0o770), (&bundle, 0o703), (&obj, 0o775)] {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        check(&format!("{} at {mode:o}", path.display()), "writable");
        fs::set_permissions(path, fs::Permissions::from_mode(0o700)).unwrap();
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    check("its parent world-writable", "writable");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    if let Some(uid) = child::other_user() {
        std::os::unix::fs::chown(&bundle, Some(uid), None).unwrap();
        check("owned by another user", "owned by");
        std::os::unix::fs::chown(&bundle, Some(0), None).unwrap();
    }
    // Put right, it serves again.
    assert_eq!(
        deployed(&dir, bundle.to_str().unwrap()).get("origin"),
        "Bundled"
    );
}

/// A bundle with a bad entry (a truncated or altered library) degrades to
/// building, or without rustc to the generic body, with the reason in
/// `stats()`; the bundle itself is not repaired.
#[test]
fn a_bad_entry_in_a_bundle_degrades_and_says_why() {
    let dir = fresh_dir("bundle-bad");
    let bundle = train(&dir, training_cpu());
    let obj = bundle.join("obj");
    let library = fs::read_dir(&obj).unwrap().flatten().next().unwrap().path();
    let mut bytes = fs::read(&library).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    fs::set_permissions(&library, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&library, &bytes).unwrap();
    fs::set_permissions(&library, fs::Permissions::from_mode(0o400)).unwrap();
    let before = snapshot(&bundle);
    let r = deployed(&dir, bundle.to_str().unwrap());
    assert_eq!(
        (r.get("origin"), r.get("dispatch_correct")),
        ("none", "true"),
        "{r:#?}"
    );
    assert!(r.get("last_error").contains("corrupt"), "{r:#?}");
    // With a compiler, the value is built into the writable cache.
    let r = Child::new("specialize", &dir.join("cache"))
        .env("STAGED_BUNDLE", &bundle)
        .run()
        .ok();
    assert_eq!(
        (r.get("origin"), r.get("correct")),
        ("Compiled", "true"),
        "{r:#?}"
    );
    assert_eq!(
        snapshot(&bundle),
        before,
        "the bundle was repaired or written"
    );
}

/// Before: a FIFO where a bundle's index entry belongs blocked the
/// process, and a store opened for reading removed what it found there.
/// Now it is refused without blocking, and left as it is.
#[test]
fn junk_in_a_bundle_is_refused_and_left_alone() {
    let dir = fresh_dir("bundle-junk");
    let bundle = train(&dir, training_cpu());
    let idx = bundle.join("idx");
    for (n, entry) in fs::read_dir(&idx).unwrap().flatten().enumerate() {
        fs::remove_file(entry.path()).unwrap();
        if n == 0 {
            let c = std::ffi::CString::new(entry.path().to_str().unwrap()).unwrap();
            // SAFETY: `c` is a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        } else {
            std::os::unix::fs::symlink("/etc/passwd", entry.path()).unwrap();
        }
    }
    let before = snapshot(&bundle);
    let r = deployed(&dir, bundle.to_str().unwrap());
    assert_eq!(
        (r.get("origin"), r.get("dispatch_correct")),
        ("none", "true"),
        "{r:#?}"
    );
    assert!(r.get("last_error").contains("read-only"), "{r:#?}");
    assert_eq!(snapshot(&bundle), before, "the bundle was changed");
}

/// A bundle trained for a CPU with features this one lacks (`bdver4`'s
/// TBM) is refused before anything of it is loaded.
#[test]
fn a_bundle_for_features_this_cpu_lacks_is_refused() {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("tbm") {
            eprintln!("skipped: this CPU has TBM, which bdver4 needs");
            return;
        }
        let dir = fresh_dir("bundle-cpu");
        let bundle = train(&dir, "bdver4");
        let r = deployed(&dir, bundle.to_str().unwrap());
        assert_eq!(r.get("origin"), "none", "{r:#?}");
        assert_eq!(r.get("dispatch_correct"), "true", "{r:#?}");
        assert!(r.get("last_error").contains("tbm"), "{r:#?}");
        assert_eq!(r.get("maps_store"), "false", "{r:#?}");
    }
}

// ---- structured values ----------------------------------------------------

/// What a child said of the plans and `score`: each one's origin and
/// whether its handle answered right, then whether every dispatched call
/// did.
fn structured_origins(r: &Ran) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = ["plan0", "plan1", "score", "program"]
        .iter()
        .map(|v| {
            (
                r.get(&format!("{v}_origin")),
                r.get(&format!("{v}_correct")),
            )
        })
        .collect();
    out.push(("dispatch", r.get("dispatch_correct")));
    out
}

/// The calls the profile at `path` counts for each structured value, by
/// function name and literals, after checking that it holds nothing else
/// and reads back as it was written.
fn structured_profile(path: &Path) -> BTreeMap<(String, Vec<String>), u64> {
    let (profile, problems) = Profile::read(path).unwrap();
    assert!(problems.is_empty(), "lines not read back: {problems:?}");
    assert_eq!(
        Profile::parse(&profile.to_text()),
        (profile.clone(), vec![])
    );
    profile
        .entries()
        .map(|(e, calls)| {
            let name = e.function.rsplit("::").next().unwrap().to_owned();
            ((name, e.values.clone()), calls)
        })
        .collect()
}

/// Issue 19's values after issue 10's deployment: a plan (a slice of a
/// self-contained module's enum) built by one process, one with `prepare`,
/// and floats, an `Option` and a string in a tuple, are loaded by a second
/// process with no rustc from the cache, answer right, and are recorded in
/// the profile as the literal renderer writes them, calls counted across
/// both processes.
#[test]
fn a_second_process_loads_structured_values_from_the_cache() {
    let dir = fresh_dir("structured-cache");
    let store = dir.join("store");
    let profile = dir.join("staged.profile");
    let run = |rustc: Option<&str>| {
        let mut child = Child::new("structured", &store)
            .env("STAGED_PROFILE", &profile)
            .env("STAGED_TEST_CALLS", "5");
        if let Some(rustc) = rustc {
            child = child.env("STAGED_RUSTC", rustc);
        } else {
            child = child.env("STAGED_TEST_PREPARE", "1");
        }
        child.run().ok()
    };
    let first = run(None);
    assert_eq!(first.get("prepared"), "true", "{first:#?}");
    assert_eq!(
        structured_origins(&first),
        [
            ("Compiled", "true"),
            ("Compiled", "true"),
            ("Compiled", "true"),
            ("Compiled", "true"),
            ("dispatch", "true")
        ],
        "{first:#?}"
    );
    let second = run(Some("/nonexistent/rustc"));
    assert_eq!(
        structured_origins(&second),
        [
            ("Cached", "true"),
            ("Cached", "true"),
            ("Cached", "true"),
            ("Cached", "true"),
            ("dispatch", "true")
        ],
        "{second:#?}"
    );
    let counts: Vec<&str> = ["compiled", "cached", "failed", "generic_calls"]
        .iter()
        .flat_map(|w| {
            [
                second.get(&format!("count_{w}")),
                second.get(&format!("score_{w}")),
            ]
        })
        .collect();
    assert_eq!(
        counts,
        ["0", "0", "2", "1", "0", "0", "0", "0"],
        "{second:#?}"
    );
    assert!(second.get("last_error").trim() == "|", "{second:#?}");

    let recorded = structured_profile(&profile);
    let mut expected = BTreeMap::new();
    for literal in PLAN_LITERALS {
        expected.insert(("count".to_owned(), vec![literal.to_owned()]), 10);
    }
    expected.insert(
        (
            "score".to_owned(),
            SCORE_LITERALS.map(str::to_owned).to_vec(),
        ),
        10,
    );
    expected.insert(("run".to_owned(), vec![PROGRAM_LITERAL.to_owned()]), 10);
    assert_eq!(recorded, expected);
}

/// A training run's bundle serves structured values to a process with no
/// rustc and a cache of its own, and is left as it was.
#[test]
fn a_training_runs_bundle_serves_structured_values_without_rustc() {
    let dir = fresh_dir("structured-bundle");
    let bundle = dir.join("bundle");
    let trained = Child::new("structured", &bundle)
        .env("STAGED_TARGET_CPU", training_cpu())
        .run()
        .ok();
    assert_eq!(
        structured_origins(&trained),
        [
            ("Compiled", "true"),
            ("Compiled", "true"),
            ("Compiled", "true"),
            ("Compiled", "true"),
            ("dispatch", "true")
        ],
        "{trained:#?}"
    );
    let before = snapshot(&bundle);
    let deployed = Child::new("structured", &dir.join("cache"))
        .env("STAGED_BUNDLE", &bundle)
        .env("STAGED_RUSTC", "/nonexistent/rustc")
        .run()
        .ok();
    assert_eq!(
        structured_origins(&deployed),
        [
            ("Bundled", "true"),
            ("Bundled", "true"),
            ("Bundled", "true"),
            ("Bundled", "true"),
            ("dispatch", "true")
        ],
        "{deployed:#?}"
    );
    let counts: Vec<&str> = ["compiled", "bundled", "failed", "generic_calls"]
        .iter()
        .flat_map(|w| {
            [
                deployed.get(&format!("count_{w}")),
                deployed.get(&format!("score_{w}")),
            ]
        })
        .collect();
    assert_eq!(
        counts,
        ["0", "0", "2", "1", "0", "0", "0", "0"],
        "{deployed:#?}"
    );
    assert_eq!(snapshot(&bundle), before, "the bundle changed");
}

// ---- short processes -----------------------------------------------------

/// Before: even with the variant on disk, a process's first calls of a
/// value ran generic, up to the threshold (first 100 calls, then 31). Now
/// its first call loads the variant and runs it, whatever the threshold.
#[test]
fn a_cached_value_is_used_from_its_first_call() {
    let dir = fresh_dir("warm");
    let store = dir.join("store");
    Child::new("specialize", &store).run().ok();
    for (threshold, bundle) in [(8, None), (1, None), (8, Some(&store))] {
        let cache = if bundle.is_some() {
            dir.join("other")
        } else {
            store.clone()
        };
        let mut child = Child::new("calls", &cache)
            .env("STAGED_MODE", "background")
            .env("STAGED_THRESHOLD", threshold.to_string())
            .env("STAGED_RUSTC", "/nonexistent/rustc");
        if let Some(b) = bundle {
            child = child.env("STAGED_BUNDLE", b);
        }
        let r = child.run().ok();
        assert_eq!(
            (r.get("swapped_after_calls"), r.get("generic_calls")),
            ("1", "0"),
            "{r:#?}"
        );
        let loaded = if bundle.is_some() {
            "bundled"
        } else {
            "cached"
        };
        assert_eq!((r.get(loaded), r.get("compiled")), ("1", "0"), "{r:#?}");
        assert!(r.get("last_error").is_empty(), "{r:#?}");
    }
}

/// Values seen once each, none of them in the store, are not looked for
/// on disk one by one (the store's keys are listed once), and a value the
/// store holds is still found at its first call after them.
#[test]
fn values_seen_once_each_do_not_read_the_store_one_by_one() {
    let dir = fresh_dir("distinct");
    let store = dir.join("store");
    let trained = Child::new("distinct", &store)
        .env("STAGED_TEST_TRAIN", "1")
        .run()
        .ok();
    assert_eq!(trained.get("origin"), "Compiled", "{trained:#?}");
    let r = Child::new("distinct", &store)
        .env("STAGED_MODE", "background")
        .env("STAGED_RUSTC", "/nonexistent/rustc")
        .env("STAGED_TEST_CALLS", "1000000")
        .run()
        .ok();
    // One listing, and one more if the first came within a second of the
    // store's last change (it may have missed a change in that tick).
    let reads: u64 = r.get("distinct_reads").parse().unwrap();
    assert!(reads <= 2, "{r:#?}");
    assert_eq!(r.get("held_reads"), "1", "{r:#?}");
    assert_eq!(
        (r.get("cached"), r.get("compiled"), r.get("failed")),
        ("1", "0", "0"),
        "{r:#?}"
    );
    assert_eq!(r.get("generic_calls"), "1000000", "{r:#?}");
    eprintln!(
        "a value the store does not hold: {} ns its first call (this build)",
        r.get("ns_per_distinct_value")
    );
}

/// Before: a value was built after 32 calls whatever they cost; 32 calls
/// of a body that takes 5 ms are 160 ms of generic calls. Now it is
/// handed to a builder once its calls took `STAGED_THRESHOLD_MS` (20 ms:
/// after the fourth call); with the time off, after 32 calls. (How the
/// time of fast calls is sampled is tested in `trigger.rs`: a timed
/// assertion on them here could fail on a loaded machine.)
#[test]
fn a_slow_value_is_built_after_its_time_threshold() {
    let dir = fresh_dir("trigger");
    let run = |ms: Option<&str>| {
        let mut child = Child::new("trigger", &dir.join("store"))
            .env("STAGED_MODE", "background")
            .env("STAGED_RUSTC", "/nonexistent/rustc");
        if let Some(ms) = ms {
            child = child.env("STAGED_THRESHOLD_MS", ms);
        }
        let r = child.run().ok();
        r.get("handed_after_calls").to_owned()
    };
    // Each call takes 5 ms or more: 20 ms are reached by the fourth call
    // at the latest, so the fifth hands the value over (sooner if the
    // machine stalls a call).
    let slow: u32 = run(None).parse().expect("never handed over");
    assert!((2..=5).contains(&slow), "handed over after {slow} calls");
    assert_eq!(run(Some("0")), "32");
}

/// Whether a build a process left in `store` has finished.
fn left_build_done(store: &Path) -> bool {
    let done = staged_build::store::BuildDir::done_marker();
    fs::read_dir(store.join("tmp"))
        .map(|d| d.flatten().any(|e| e.path().join(done).exists()))
        .unwrap_or(false)
}

/// Before: a program making 1000 calls and exiting showed `compiled: 0,
/// cached: 0, generic_calls: 1000` four runs in a row, nothing on disk.
/// Now its build outlives it, and a later process adopts it: the third of
/// three short processes runs the variant.
#[test]
fn three_short_processes_the_third_runs_the_variant() {
    let dir = fresh_dir("short");
    let store = dir.join("store");
    let short = || {
        Child::new("calls", &store)
            .env("STAGED_MODE", "background")
            .env("STAGED_THRESHOLD", "32")
            .run()
            .ok()
    };
    let first = short();
    assert_eq!(
        first.get("compiled"),
        "0",
        "the first ends before its build: {first:#?}"
    );
    assert_eq!(first.get("busy_seen"), "1", "{first:#?}");
    let second = short();
    // The third comes once the first's build has finished (it takes a
    // rustc run; a short process takes milliseconds).
    let start = Instant::now();
    while !left_build_done(&store)
        && !fs::read_dir(store.join("obj")).is_ok_and(|mut d| d.next().is_some())
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the build left behind never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Its first call adopts the build and runs the variant.
    let third = short();
    assert_eq!(
        third.get("swapped_after_calls"),
        "1",
        "{first:#?}\n{second:#?}\n{third:#?}"
    );
    assert_eq!(
        (third.get("cached"), third.get("compiled")),
        ("1", "0"),
        "{third:#?}"
    );
    assert_eq!(third.get("generic_calls"), "0", "{third:#?}");
    assert!(third.get("last_error").is_empty(), "{third:#?}");
}

/// A value whose build is queued or running shows in `stats()`, so that a
/// user timing background mode sees what is happening.
#[test]
fn stats_show_builds_pending_and_running() {
    let dir = fresh_dir("busy");
    let r = Child::new("calls", &dir.join("store"))
        .env("STAGED_MODE", "background")
        .env("STAGED_THRESHOLD", "4")
        .env("STAGED_TEST_CALLS", "until-swap")
        .run()
        .ok();
    assert_eq!(r.get("busy_seen"), "1", "{r:#?}");
    assert_ne!(r.get("swapped_after_calls"), "never", "{r:#?}");
    assert_eq!(r.get("compiled"), "1", "{r:#?}");
}

/// The builds running in `store` right now: the build directories that
/// are some rustc process's working directory.
fn rustc_jobs_in(store: &Path) -> usize {
    let tmp = store.join("tmp");
    let Ok(procs) = fs::read_dir("/proc") else {
        return 0;
    };
    let dirs: std::collections::BTreeSet<PathBuf> = procs
        .flatten()
        .filter(|e| fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "rustc"))
        .filter_map(|e| fs::read_link(e.path().join("cwd")).ok())
        .filter(|cwd| cwd.starts_with(&tmp))
        .collect();
    dirs.len()
}

/// A measurement, not a check: 24 short processes, each with a value of
/// its own to build in background mode, run one after the other; how many
/// rustc processes build at once, at most (polled in `/proc`). Run with
/// `cargo test --test deploy -- --ignored --nocapture builds_at_once`.
#[test]
#[ignore = "a measurement: 24 real builds"]
fn builds_at_once_of_24_short_processes() {
    let dir = fresh_dir("pileup");
    let store = dir.join("store");
    Child::new("specialize", &store).run().ok();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let (done, store) = (done.clone(), store.clone());
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rustc_jobs_in(&store));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    let start = Instant::now();
    for v in 100..124u32 {
        Child::new("calls", &store)
            .env(child::VALUE, v.to_string())
            .env("STAGED_MODE", "background")
            .env("STAGED_THRESHOLD", "8")
            .env("STAGED_TEST_CALLS", "40")
            .run()
            .ok();
    }
    let launched = start.elapsed();
    while rustc_jobs_in(&store) > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "builds never ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = poller.join().unwrap();
    let left = fs::read_dir(store.join("tmp")).map_or(0, |d| d.count());
    eprintln!(
        "24 short processes (launched in {launched:.1?}) on {} cores: at most {peak} rustc builds at once; {left} build directories left for later processes; quiet after {:.1?}",
        std::thread::available_parallelism().map_or(1, usize::from),
        start.elapsed()
    );
}
