//! Stage 3 across processes and when things go wrong. Each scenario runs in
//! a child process (this test binary, run again with `STAGED_TEST_SCENARIO`
//! set), so that it gets its own configuration, its own loaded libraries and
//! its own store: a second process loading from the disk cache, builds raced
//! by threads and by processes, and every fault of the run-time stage, each
//! of which must leave the generic body answering and say why in `stats()`.
#![allow(clippy::disallowed_methods)] // scenarios reach the children through the environment

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use staged::specialize;

const SCENARIO: &str = "STAGED_TEST_SCENARIO";
const VALUE: &str = "STAGED_TEST_VALUE";

/// `x` to the power `n`.
#[specialize(n = [2, 3])]
fn power(x: u64, n: u32) -> u64 {
    let mut p = 1u64;
    for _ in 0..n {
        p = p.wrapping_mul(x);
    }
    p
}

// ---- the child side ----------------------------------------------------

/// Prints a result line for the parent.
fn say(key: &str, value: impl std::fmt::Display) {
    println!("staged-test: {key}={value}");
}

fn value() -> u32 {
    std::env::var(VALUE)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
}

/// Whether any library of the store is mapped into this process.
fn maps_store() -> bool {
    let store = std::env::var("STAGED_CACHE_DIR").unwrap_or_default();
    let maps = fs::read_to_string("/proc/self/maps").unwrap_or_default();
    !store.is_empty() && maps.contains(&store)
}

fn report_stats() {
    let s = power::stats();
    say("compiled", s.compiled);
    say("cached", s.cached);
    say("failed", s.failed);
    say("generic_calls", s.generic_calls);
    say(
        "last_error",
        s.last_error.unwrap_or_default().replace('\n', " "),
    );
    say("maps_store", maps_store());
}

/// Asks for the variant of `value()`, checks every answer against the
/// generic body, and reports.
fn specialize_and_report() {
    let n = value();
    match power::specialized(n) {
        Ok(h) => {
            say("origin", format!("{:?}", h.origin()));
            say(
                "correct",
                (0..50).all(|x| h.call(x) == power::generic(x, n)),
            );
        }
        Err(e) => {
            say("origin", "none");
            say("error", e.to_string().replace('\n', " "));
        }
    }
    say(
        "dispatch_correct",
        (0..50).all(|x| power(x, n) == power::generic(x, n)),
    );
    report_stats();
}

/// The entry of every child: does what `STAGED_TEST_SCENARIO` names.
#[test]
fn child_entry() {
    let Ok(scenario) = std::env::var(SCENARIO) else {
        return;
    };
    match scenario.as_str() {
        "specialize" => specialize_and_report(),
        "threads" => {
            let n = value();
            let barrier = std::sync::Barrier::new(8);
            let results: Vec<bool> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            let h = power::specialized(n).expect("a variant");
                            (0..50).all(|x| h.call(x) == power::generic(x, n))
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            say("correct", results.iter().all(|&r| r));
            report_stats();
        }
        "prepare" => {
            say("prepared", power::prepare([8, 9, 10, 2]).is_ok());
            for n in [8, 9, 10] {
                let h = power::specialized(n).unwrap();
                say(&format!("origin{n}"), format!("{:?}", h.origin()));
                say(
                    &format!("correct{n}"),
                    (0..50).all(|x| h.call(x) == power::generic(x, n)),
                );
            }
            report_stats();
        }
        "cap" => {
            for n in [5, 6, 7] {
                let outcome = power::specialized(n).map(|h| format!("{:?}", h.origin()));
                say(
                    &format!("origin{n}"),
                    outcome.unwrap_or_else(|e| format!("error: {e}")),
                );
                say(
                    &format!("dispatch{n}"),
                    (0..50).all(|x| power(x, n) == power::generic(x, n)),
                );
            }
            report_stats();
        }
        "background" => {
            let n = value();
            // Below the threshold: no build yet.
            for x in 0..3 {
                assert_eq!(power(x, n), power::generic(x, n));
            }
            say("compiled_before_threshold", power::stats().compiled);
            // The fourth call reaches STAGED_THRESHOLD=4 and queues a build.
            assert_eq!(power(3, n), power::generic(3, n));
            let start = Instant::now();
            let mut calls = 4;
            while power::stats().compiled == 0 && start.elapsed() < Duration::from_secs(60) {
                assert_eq!(power(calls, n), power::generic(calls, n));
                calls += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            say("swapped_after_calls", calls);
            let generic_before = power::stats().generic_calls;
            say(
                "dispatch_correct",
                (0..50).all(|x| power(x, n) == power::generic(x, n)),
            );
            say(
                "generic_after_swap",
                power::stats().generic_calls - generic_before,
            );
            report_stats();
        }
        other => panic!("unknown scenario {other}"),
    }
}

// ---- the parent side ---------------------------------------------------

/// A fresh, private store directory.
fn fresh_store(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("faults")
        .join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    dir.join("store")
}

fn child(scenario: &str, store: &Path, envs: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "child_entry",
        "--exact",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env(SCENARIO, scenario)
    .env("STAGED_CACHE_DIR", store)
    .env("STAGED_MODE", "sync")
    .env_remove("STAGED_RUSTC")
    .env_remove("STAGED_MAX_VARIANTS")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// The `key=value` lines a child printed.
fn results(child: Child) -> HashMap<String, String> {
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        // The first line shares its start with libtest's `test child_entry ...`.
        .filter_map(|l| l.split_once("staged-test: ").map(|(_, rest)| rest))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn run(scenario: &str, store: &Path, envs: &[(&str, String)]) -> HashMap<String, String> {
    results(child(scenario, store, envs).spawn().unwrap())
}

/// A shell script standing in for rustc.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn real_rustc() -> &'static str {
    staged::__private::toolchain::RUSTC
}

/// A rustc that appends a line to `log` for every build, then runs the real
/// one.
fn counting_rustc(dir: &Path, log: &Path) -> PathBuf {
    script(
        dir,
        "counting-rustc",
        &format!(
            "for a in \"$@\"; do if [ \"$a\" = cdylib ]; then echo build >> '{}'; fi; done\nexec '{}' \"$@\"",
            log.display(),
            real_rustc()
        ),
    )
}

fn builds(log: &Path) -> usize {
    fs::read_to_string(log).map_or(0, |s| s.lines().count())
}

fn assert_generic_answers(r: &HashMap<String, String>) {
    assert_eq!(r["origin"], "none", "{r:?}");
    assert_eq!(r["dispatch_correct"], "true", "{r:?}");
    assert_eq!(r["maps_store"], "false", "{r:?}");
    assert!(r["failed"].parse::<u64>().unwrap() >= 1, "{r:?}");
    assert!(r["generic_calls"].parse::<u64>().unwrap() >= 50, "{r:?}");
}

#[test]
fn a_second_process_loads_from_the_disk_cache_without_rustc() {
    let store = fresh_store("second-process");
    let first = run("specialize", &store, &[]);
    assert_eq!(
        (first["origin"].as_str(), first["correct"].as_str()),
        ("Compiled", "true"),
        "{first:?}"
    );
    assert_eq!(first["compiled"], "1");
    let second = run(
        "specialize",
        &store,
        &[("STAGED_RUSTC", "/nonexistent/rustc".into())],
    );
    assert_eq!(
        (second["origin"].as_str(), second["correct"].as_str()),
        ("Cached", "true"),
        "{second:?}"
    );
    assert_eq!(
        (second["compiled"].as_str(), second["cached"].as_str()),
        ("0", "1")
    );
    assert_eq!(second["maps_store"], "true");
}

#[test]
fn eight_threads_asking_for_one_value_build_it_once() {
    let store = fresh_store("threads");
    let log = store.parent().unwrap().join("builds.log");
    let rustc = counting_rustc(store.parent().unwrap(), &log);
    let r = run(
        "threads",
        &store,
        &[("STAGED_RUSTC", rustc.display().to_string())],
    );
    assert_eq!(r["correct"], "true", "{r:?}");
    assert_eq!(builds(&log), 1, "{r:?}");
    assert_eq!(r["compiled"], "1", "{r:?}");
}

#[test]
fn four_processes_on_one_store_build_once() {
    let store = fresh_store("processes");
    let log = store.parent().unwrap().join("builds.log");
    let rustc = counting_rustc(store.parent().unwrap(), &log);
    let envs = [
        ("STAGED_RUSTC", rustc.display().to_string()),
        (VALUE, "11".to_owned()),
    ];
    let children: Vec<Child> = (0..4)
        .map(|_| child("specialize", &store, &envs).spawn().unwrap())
        .collect();
    let all: Vec<_> = children.into_iter().map(results).collect();
    for r in &all {
        assert_eq!(r["correct"], "true", "{r:?}");
        assert!(
            ["Compiled", "Cached"].contains(&r["origin"].as_str()),
            "{r:?}"
        );
    }
    assert_eq!(builds(&log), 1, "{all:?}");
    assert_eq!(
        all.iter().filter(|r| r["origin"] == "Compiled").count(),
        1,
        "{all:?}"
    );
}

#[test]
fn prepare_builds_many_values_in_one_run() {
    let store = fresh_store("prepare");
    let log = store.parent().unwrap().join("builds.log");
    let rustc = counting_rustc(store.parent().unwrap(), &log);
    let r = run(
        "prepare",
        &store,
        &[("STAGED_RUSTC", rustc.display().to_string())],
    );
    assert_eq!(r["prepared"], "true", "{r:?}");
    for n in [8, 9, 10] {
        assert_eq!(r[&format!("origin{n}")], "Compiled", "{r:?}");
        assert_eq!(r[&format!("correct{n}")], "true", "{r:?}");
    }
    assert_eq!(builds(&log), 1);
    assert_eq!(r["compiled"], "3");
}

#[test]
fn background_mode_swaps_the_variant_in_after_the_threshold() {
    let store = fresh_store("background");
    let envs = [
        ("STAGED_MODE", "background".to_owned()),
        ("STAGED_THRESHOLD", "4".to_owned()),
        (VALUE, "12".to_owned()),
    ];
    let r = run("background", &store, &envs);
    assert_eq!(r["compiled_before_threshold"], "0", "{r:?}");
    assert_eq!(r["compiled"], "1", "{r:?}");
    assert_eq!(r["dispatch_correct"], "true", "{r:?}");
    assert_eq!(r["generic_after_swap"], "0", "{r:?}");
}

#[test]
fn extra_rustflags_are_part_of_the_cache_key() {
    let store = fresh_store("rustflags");
    let flags = (
        "STAGED_RUSTFLAGS",
        "-C llvm-args=-unroll-threshold=1000".to_owned(),
    );
    assert_eq!(run("specialize", &store, &[])["origin"], "Compiled");
    let r = run("specialize", &store, std::slice::from_ref(&flags));
    assert_eq!(
        (r["origin"].as_str(), r["correct"].as_str()),
        ("Compiled", "true"),
        "{r:?}"
    );
    assert_eq!(run("specialize", &store, &[flags])["origin"], "Cached");
}

#[test]
fn off_mode_builds_nothing() {
    let store = fresh_store("off");
    let r = run("specialize", &store, &[("STAGED_MODE", "off".into())]);
    assert_eq!(r["origin"], "none");
    assert!(r["error"].contains("STAGED_MODE=off"), "{r:?}");
    assert_eq!((r["compiled"].as_str(), r["failed"].as_str()), ("0", "0"));
    assert!(
        !store.join("obj").exists() || fs::read_dir(store.join("obj")).unwrap().next().is_none()
    );
}

#[test]
fn fault_rustc_missing() {
    let store = fresh_store("no-rustc");
    let r = run(
        "specialize",
        &store,
        &[("STAGED_RUSTC", "/nonexistent/rustc".into())],
    );
    assert_generic_answers(&r);
    assert!(
        r["last_error"].contains("/nonexistent/rustc") && r["last_error"].contains("STAGED_RUSTC"),
        "{r:?}"
    );
}

#[test]
fn fault_rustc_of_another_version() {
    let store = fresh_store("other-rustc");
    let fake = script(
        store.parent().unwrap(),
        "old-rustc",
        &format!(
            "if [ \"$1\" = -vV ]; then printf 'rustc 1.60.0 (7737e0b5c 2022-04-04)\\nbinary: rustc\\nhost: x86_64-unknown-linux-gnu\\nrelease: 1.60.0\\n'; exit 0; fi\nexec '{}' \"$@\"",
            real_rustc()
        ),
    );
    let r = run(
        "specialize",
        &store,
        &[("STAGED_RUSTC", fake.display().to_string())],
    );
    assert_generic_answers(&r);
    assert!(r["last_error"].contains("1.60.0"), "{r:?}");
}

#[test]
fn fault_store_unwritable() {
    let store = PathBuf::from("/proc/staged-test-store");
    let r = run("specialize", &store, &[]);
    assert_generic_answers(&r);
    assert!(r["last_error"].contains("/proc/staged-test-store"), "{r:?}");
}

#[test]
fn fault_store_writable_by_others_is_never_mapped() {
    let store = fresh_store("shared");
    assert_eq!(run("specialize", &store, &[])["origin"], "Compiled");
    fs::set_permissions(&store, fs::Permissions::from_mode(0o777)).unwrap();
    let r = run("specialize", &store, &[]);
    assert_generic_answers(&r);
    assert!(r["last_error"].contains("writable by others"), "{r:?}");
    // One of its folders rather than the root.
    fs::set_permissions(&store, fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(store.join("obj"), fs::Permissions::from_mode(0o757)).unwrap();
    let r = run("specialize", &store, &[]);
    assert_generic_answers(&r);
}

fn the_object(store: &Path) -> PathBuf {
    let objects: Vec<_> = fs::read_dir(store.join("obj"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(objects.len(), 1, "{objects:?}");
    objects[0].clone()
}

#[test]
fn fault_stored_library_truncated_or_replaced() {
    for damage in ["truncate", "junk"] {
        let store = fresh_store(damage);
        assert_eq!(run("specialize", &store, &[])["origin"], "Compiled");
        let object = the_object(&store);
        let bytes = fs::read(&object).unwrap();
        let spoil = || {
            fs::set_permissions(&object, fs::Permissions::from_mode(0o600)).unwrap();
            match damage {
                "truncate" => fs::write(&object, &bytes[..bytes.len() / 2]).unwrap(),
                _ => fs::write(&object, vec![0x5a; bytes.len()]).unwrap(),
            }
            fs::set_permissions(&object, fs::Permissions::from_mode(0o500)).unwrap();
        };
        // Without a compiler: never loaded, and the generic body answers.
        spoil();
        let r = run(
            "specialize",
            &store,
            &[("STAGED_RUSTC", "/nonexistent/rustc".into())],
        );
        assert_generic_answers(&r);
        // The entry was dropped: the next process builds afresh. With a
        // compiler, damage found is reported, and the entry replaced.
        assert_eq!(run("specialize", &store, &[])["origin"], "Compiled");
        spoil();
        let r = run("specialize", &store, &[]);
        assert_eq!(
            (r["origin"].as_str(), r["correct"].as_str()),
            ("Compiled", "true"),
            "{damage}: {r:?}"
        );
        assert!(r["last_error"].contains("corrupt"), "{damage}: {r:?}");
        assert_eq!(fs::read(the_object(&store)).unwrap(), bytes, "{damage}");
    }
}

#[test]
fn fault_build_killed_midway_leaves_nothing_that_loads() {
    let store = fresh_store("killed");
    let dir = store.parent().unwrap();
    // A "rustc" that writes half a library where rustc would, then hangs.
    let slow = script(
        dir,
        "slow-rustc",
        &format!(
            "if [ \"$1\" = -vV ]; then exec '{}' -vV; fi\nprev=\nfor a in \"$@\"; do if [ \"$prev\" = -o ]; then printf 'partial' > \"$a\"; fi; prev=\"$a\"; done\nsleep 60",
            real_rustc()
        ),
    );
    let mut victim = child(
        "specialize",
        &store,
        &[("STAGED_RUSTC", slow.display().to_string())],
    )
    .spawn()
    .unwrap();
    let start = Instant::now();
    let partial = loop {
        let found = fs::read_dir(store.join("tmp")).ok().and_then(|d| {
            d.flatten()
                .map(|e| e.path().join("libvariant.so"))
                .find(|p| p.exists())
        });
        if let Some(p) = found {
            break p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the build never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    victim.kill().unwrap();
    victim.wait().unwrap();
    assert!(partial.exists());
    assert_eq!(
        fs::read_dir(store.join("obj")).unwrap().count(),
        0,
        "nothing was published"
    );
    assert_eq!(fs::read_dir(store.join("idx")).unwrap().count(), 0);
    // The next process is not blocked by the dead one's lock, and builds.
    let r = run("specialize", &store, &[]);
    assert_eq!(
        (r["origin"].as_str(), r["correct"].as_str()),
        ("Compiled", "true"),
        "{r:?}"
    );
}

#[test]
fn fault_variant_cap_reached() {
    let store = fresh_store("cap");
    let r = run("cap", &store, &[("STAGED_MAX_VARIANTS", "2".into())]);
    assert_eq!(r["origin5"], "Compiled", "{r:?}");
    assert_eq!(r["origin6"], "Compiled", "{r:?}");
    assert!(
        r["origin7"].starts_with("error") && r["origin7"].contains("STAGED_MAX_VARIANTS"),
        "{r:?}"
    );
    assert_eq!(r["dispatch7"], "true");
    assert!(r["failed"].parse::<u64>().unwrap() >= 1, "{r:?}");
    assert!(r["last_error"].contains("STAGED_MAX_VARIANTS"), "{r:?}");
}
