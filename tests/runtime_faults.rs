//! Stage 3 across processes and when things go wrong. Each scenario runs in
//! a child process (see `common/child.rs`), so that it gets its own
//! configuration, its own loaded libraries and its own store: a second
//! process loading from the disk cache, builds raced by threads and by
//! processes, and every fault of the run-time stage, each of which must
//! leave the generic body answering and say why in `stats()`.
//!
//! | fault | what happens | test |
//! |---|---|---|
//! | no rustc | generic; `last_error` names it and `STAGED_RUSTC` | `fault_rustc_missing` |
//! | rustc of another release | generic; both releases named | `fault_rustc_of_another_version` |
//! | cache cannot be created | generic; the path named | `fault_store_unwritable` |
//! | cache or one of its folders writable by others | never mapped; generic | `fault_store_writable_by_others_is_never_mapped` |
//! | a directory above the cache another user owns (or a sticky one not root's, a relative path in a 0777 dir) | refused; generic | `trust::store::*` |
//! | library truncated or replaced | never loaded; reported, removed, built again | `fault_stored_library_truncated_or_replaced` |
//! | a FIFO, a symlink or a directory where a store file belongs | refused at once, reported, replaced | `trust::store::fifos_at_index_object_and_lock_paths_never_block` |
//! | an index entry naming another value's library | refused before loading; built again | `trust::store::an_index_entry_naming_another_values_library_is_not_served` |
//! | a library for another CPU (missing target features) | refused before loading; generic | `trust::answers::a_library_needing_features_this_cpu_lacks_is_never_loaded` |
//! | a library laid out for another caller | refused before loading | `trust::answers::a_library_laid_out_otherwise_is_refused_before_loading` |
//! | build killed midway | nothing published; the next process builds | `fault_build_killed_midway_leaves_nothing_that_loads` |
//! | rustc (or a wrapper's child) past the time limit | its process group killed; generic | `trust::answers::a_wrapper_whose_child_holds_the_pipe_cannot_outlast_the_limit` |
//! | a refused `STAGED_RUSTFLAGS` flag | nothing built; generic; the reason in `stats()` | `trust::answers::rustflags_that_would_change_the_answer_are_refused` |
//! | a setting out of range | clamped; `stats().warnings` says so | `trust::answers::settings_out_of_range_are_clamped_not_fatal` |
//! | the host closed the runtime's descriptors | the store is opened again; no stale library | `trust::store::a_host_closing_descriptors_gets_no_stale_library` |
//! | `fork()` while a thread builds | the child builds on its own | `trust::answers::a_fork_while_a_thread_builds_does_not_hang_the_child` |
//! | variant cap reached | generic for further values; one failure per value | `fault_variant_cap_reached` |
#![allow(clippy::disallowed_methods)] // scenarios reach the children through the environment

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "common/child.rs"]
mod child;

use child::{
    Child, Ran, VALUE, fresh_dir, power, real_rustc, report_stats, say, script,
    specialize_and_report, value,
};

// ---- the child side ----------------------------------------------------

/// The entry of every child: does what `STAGED_TEST_SCENARIO` names. It is
/// ignored in a normal run, where it would have nothing to do.
#[test]
#[ignore = "run by the other tests in a child process"]
fn child_entry() {
    let scenario = std::env::var(child::SCENARIO)
        .expect("child_entry runs only as a child of the fault tests");
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
            report_stats(power::stats());
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
            report_stats(power::stats());
        }
        "cap" => {
            for n in [5, 6, 7] {
                let outcome = power::specialized(n).map(|h| format!("{:?}", h.origin()));
                say(
                    &format!("origin{n}"),
                    outcome
                        .unwrap_or_else(|e| format!("error: {}", staged_build::chain::Chain(&e))),
                );
                say(
                    &format!("dispatch{n}"),
                    (0..50).all(|x| power(x, n) == power::generic(x, n)),
                );
            }
            report_stats(power::stats());
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
            report_stats(power::stats());
        }
        "slow_build" => {
            // The build limit the parent chose, so that a build left
            // behind by a killed process ends within it.
            let limit = child::env("STAGED_TEST_BUILD_TIMEOUT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(2);
            staged::runtime::Config::from_env()
                .build_timeout(Duration::from_secs(limit))
                .install();
            let outcome = power::specialized(value()).map(|h| h.origin());
            say("outcome", format!("{outcome:?}").replace('\n', " "));
        }
        other => panic!("unknown scenario {other}"),
    }
}

// ---- the parent side ---------------------------------------------------

/// A fresh, private store directory.
fn fresh_store(name: &str) -> PathBuf {
    fresh_dir(name).join("store")
}

fn run(scenario: &str, store: &Path, envs: &[(&str, &str)]) -> Ran {
    envs.iter()
        .fold(Child::new(scenario, store), |c, (k, v)| c.env(k, v))
        .run()
        .ok()
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

fn assert_generic_answers(r: &Ran) {
    assert_eq!(r.get("origin"), "none", "{r:#?}");
    assert_eq!(r.get("dispatch_correct"), "true", "{r:#?}");
    assert_eq!(r.get("maps_store"), "false", "{r:#?}");
    assert!(r.get("failed").parse::<u64>().unwrap() >= 1, "{r:#?}");
    assert!(
        r.get("generic_calls").parse::<u64>().unwrap() >= 50,
        "{r:#?}"
    );
}

#[test]
fn a_second_process_loads_from_the_disk_cache_without_rustc() {
    let store = fresh_store("second-process");
    let first = run("specialize", &store, &[]);
    assert_eq!(
        (first.get("origin"), first.get("correct")),
        ("Compiled", "true"),
        "{first:#?}"
    );
    assert_eq!(first.get("compiled"), "1");
    let second = run(
        "specialize",
        &store,
        &[("STAGED_RUSTC", "/nonexistent/rustc")],
    );
    assert_eq!(
        (second.get("origin"), second.get("correct")),
        ("Cached", "true"),
        "{second:#?}"
    );
    assert_eq!((second.get("compiled"), second.get("cached")), ("0", "1"));
    assert_eq!(second.get("maps_store"), "true");
}

#[test]
fn eight_threads_asking_for_one_value_build_it_once() {
    let store = fresh_store("threads");
    let log = store.parent().unwrap().join("builds.log");
    let rustc = counting_rustc(store.parent().unwrap(), &log);
    let r = run(
        "threads",
        &store,
        &[("STAGED_RUSTC", &rustc.display().to_string())],
    );
    assert_eq!(r.get("correct"), "true", "{r:#?}");
    assert_eq!(builds(&log), 1, "{r:#?}");
    assert_eq!(r.get("compiled"), "1", "{r:#?}");
}

#[test]
fn four_processes_on_one_store_build_once() {
    let store = fresh_store("processes");
    let log = store.parent().unwrap().join("builds.log");
    let rustc = counting_rustc(store.parent().unwrap(), &log);
    let running: Vec<_> = (0..4)
        .map(|_| {
            Child::new("specialize", &store)
                .env("STAGED_RUSTC", &rustc)
                .env(VALUE, "11")
                .spawn()
        })
        .collect();
    let all: Vec<Ran> = running.into_iter().map(|r| r.wait().ok()).collect();
    for r in &all {
        assert_eq!(r.get("correct"), "true", "{r:#?}");
        assert!(["Compiled", "Cached"].contains(&r.get("origin")), "{r:#?}");
    }
    assert_eq!(builds(&log), 1, "{all:#?}");
    assert_eq!(
        all.iter().filter(|r| r.get("origin") == "Compiled").count(),
        1,
        "{all:#?}"
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
        &[("STAGED_RUSTC", &rustc.display().to_string())],
    );
    assert_eq!(r.get("prepared"), "true", "{r:#?}");
    for n in [8, 9, 10] {
        assert_eq!(r.get(&format!("origin{n}")), "Compiled", "{r:#?}");
        assert_eq!(r.get(&format!("correct{n}")), "true", "{r:#?}");
    }
    assert_eq!(builds(&log), 1);
    assert_eq!(r.get("compiled"), "3");
}

#[test]
fn background_mode_swaps_the_variant_in_after_the_threshold() {
    let store = fresh_store("background");
    let envs = [
        ("STAGED_MODE", "background"),
        ("STAGED_THRESHOLD", "4"),
        (VALUE, "12"),
    ];
    let r = run("background", &store, &envs);
    assert_eq!(r.get("compiled_before_threshold"), "0", "{r:#?}");
    assert_eq!(r.get("compiled"), "1", "{r:#?}");
    assert_eq!(r.get("dispatch_correct"), "true", "{r:#?}");
    assert_eq!(r.get("generic_after_swap"), "0", "{r:#?}");
}

#[test]
fn extra_rustflags_are_part_of_the_cache_key() {
    let store = fresh_store("rustflags");
    let flags = ("STAGED_RUSTFLAGS", "-C llvm-args=-unroll-threshold=1000");
    assert_eq!(run("specialize", &store, &[]).get("origin"), "Compiled");
    let r = run("specialize", &store, &[flags]);
    assert_eq!(
        (r.get("origin"), r.get("correct")),
        ("Compiled", "true"),
        "{r:#?}"
    );
    assert_eq!(run("specialize", &store, &[flags]).get("origin"), "Cached");
}

#[test]
fn off_mode_builds_nothing() {
    let store = fresh_store("off");
    let r = run("specialize", &store, &[("STAGED_MODE", "off")]);
    assert_eq!(r.get("origin"), "none");
    assert!(r.get("error").contains("STAGED_MODE=off"), "{r:#?}");
    assert_eq!((r.get("compiled"), r.get("failed")), ("0", "0"));
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
        &[("STAGED_RUSTC", "/nonexistent/rustc")],
    );
    assert_generic_answers(&r);
    assert!(
        r.get("last_error").contains("/nonexistent/rustc")
            && r.get("last_error").contains("STAGED_RUSTC"),
        "{r:#?}"
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
        &[("STAGED_RUSTC", &fake.display().to_string())],
    );
    assert_generic_answers(&r);
    assert!(r.get("last_error").contains("1.60.0"), "{r:#?}");
}

#[test]
fn fault_store_unwritable() {
    let store = PathBuf::from("/proc/staged-test-store");
    let r = run("specialize", &store, &[]);
    assert_generic_answers(&r);
    assert!(
        r.get("last_error").contains("/proc/staged-test-store"),
        "{r:#?}"
    );
}

#[test]
fn fault_store_writable_by_others_is_never_mapped() {
    let store = fresh_store("shared");
    assert_eq!(run("specialize", &store, &[]).get("origin"), "Compiled");
    fs::set_permissions(&store, fs::Permissions::from_mode(0o777)).unwrap();
    let r = run("specialize", &store, &[]);
    assert_generic_answers(&r);
    assert!(r.get("last_error").contains("writable by others"), "{r:#?}");
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
        assert_eq!(run("specialize", &store, &[]).get("origin"), "Compiled");
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
            &[("STAGED_RUSTC", "/nonexistent/rustc")],
        );
        assert_generic_answers(&r);
        // The entry was dropped: the next process builds afresh. With a
        // compiler, damage found is reported, and the entry replaced.
        assert_eq!(run("specialize", &store, &[]).get("origin"), "Compiled");
        spoil();
        let r = run("specialize", &store, &[]);
        assert_eq!(
            (r.get("origin"), r.get("correct")),
            ("Compiled", "true"),
            "{damage}: {r:#?}"
        );
        assert!(r.get("last_error").contains("corrupt"), "{damage}: {r:#?}");
        assert_eq!(fs::read(the_object(&store)).unwrap(), bytes, "{damage}");
    }
}

#[test]
fn fault_build_killed_midway_leaves_nothing_that_loads() {
    let store = fresh_store("killed");
    let dir = store.parent().unwrap();
    // A "rustc" that writes half a library where rustc would, then hangs
    // (the support library it builds: a time-out there ends the call).
    let slow = script(
        dir,
        "slow-rustc",
        &format!(
            "case \"$*\" in *cdylib*) ;; *) exec '{}' \"$@\";; esac\nprev=\nfor a in \"$@\"; do if [ \"$prev\" = -o ]; then printf 'partial' > \"$a\"; fi; prev=\"$a\"; done\nsleep 60",
            real_rustc()
        ),
    );
    // A build limit of 3 s: the dead process's build, left running, holds
    // the keys' lock no longer than that.
    let victim = Child::new("slow_build", &store)
        .env("STAGED_RUSTC", &slow)
        .env("STAGED_TEST_BUILD_TIMEOUT", "3")
        .limit(Duration::from_secs(90))
        .spawn();
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
    victim.kill();
    assert!(partial.exists());
    assert_eq!(
        fs::read_dir(store.join("obj")).unwrap().count(),
        0,
        "nothing was published"
    );
    assert_eq!(fs::read_dir(store.join("idx")).unwrap().count(), 0);
    // The next process waits for the build left behind no longer than its
    // limit, does not adopt it (it never finished), and builds.
    let r = run("specialize", &store, &[]);
    assert!(r.elapsed < Duration::from_secs(30), "{:?}", r.elapsed);
    assert_eq!(
        (r.get("origin"), r.get("correct")),
        ("Compiled", "true"),
        "{r:#?}"
    );
}

#[test]
fn fault_variant_cap_reached() {
    let store = fresh_store("cap");
    let r = run("cap", &store, &[("STAGED_MAX_VARIANTS", "2")]);
    assert_eq!(r.get("origin5"), "Compiled", "{r:#?}");
    assert_eq!(r.get("origin6"), "Compiled", "{r:#?}");
    assert!(
        r.get("origin7").starts_with("error") && r.get("origin7").contains("STAGED_MAX_VARIANTS"),
        "{r:#?}"
    );
    assert_eq!(r.get("dispatch7"), "true");
    assert_eq!(r.get("failed"), "1", "one value failed: {r:#?}");
    assert!(
        r.get("last_error").contains("STAGED_MAX_VARIANTS"),
        "{r:#?}"
    );
}

// ---- the support library -------------------------------------------------

/// A rustc that logs each run's kind (`rlib` or `cdylib`, and whether it
/// links the support library) to `log`, and fails the runs `fail` (a shell
/// pattern over the arguments) matches.
fn logging_rustc(dir: &Path, log: &Path, fail: &str) -> PathBuf {
    script(
        dir,
        "logging-rustc",
        &format!(
            "if [ \"$1\" = -vV ]; then exec '{real}' -vV; fi\n\
             kind=\nfor a in \"$@\"; do case \"$a\" in rlib) kind=rlib;; cdylib) kind=cdylib;; staged_support=*) kind=\"$kind+linked\";; esac; done\n\
             echo \"$kind\" >> '{log}'\n\
             case \"$*\" in {fail}) exit 1;; esac\n\
             exec '{real}' \"$@\"",
            real = real_rustc(),
            log = log.display(),
        ),
    )
}

fn runs(log: &Path) -> Vec<String> {
    fs::read_to_string(log).map_or_else(|_| Vec::new(), |s| s.lines().map(str::to_owned).collect())
}

/// The support code is built once, as an rlib in the store's `support/`
/// area, and every later library links it.
#[test]
fn the_support_library_is_built_once_and_linked_by_every_library() {
    let store = fresh_store("support-once");
    let log = store.parent().unwrap().join("runs");
    let rustc = logging_rustc(store.parent().unwrap(), &log, "__never__");
    let first = run(
        "specialize",
        &store,
        &[("STAGED_RUSTC", rustc.to_str().unwrap())],
    );
    assert_eq!(
        (first.get("origin"), first.get("correct")),
        ("Compiled", "true"),
        "{first:#?}"
    );
    let other = (VALUE, "11");
    let second = run(
        "specialize",
        &store,
        &[("STAGED_RUSTC", rustc.to_str().unwrap()), other],
    );
    assert_eq!(
        (second.get("origin"), second.get("correct")),
        ("Compiled", "true"),
        "{second:#?}"
    );
    assert_eq!(runs(&log), ["rlib", "cdylib+linked", "cdylib+linked"]);
    let kept: Vec<_> = fs::read_dir(store.join("support")).unwrap().collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
}

/// A damaged support library (flipped bits, a FIFO in its place) is never
/// linked: it is built again, and the variant is right.
#[test]
fn a_damaged_support_library_is_built_again() {
    for damage in ["flip", "fifo"] {
        let store = fresh_store(&format!("support-{damage}"));
        let log = store.parent().unwrap().join("runs");
        let rustc = logging_rustc(store.parent().unwrap(), &log, "__never__");
        let rustc = rustc.to_str().unwrap();
        run("specialize", &store, &[("STAGED_RUSTC", rustc)]);
        let kept = fs::read_dir(store.join("support"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        if damage == "flip" {
            let mut bytes = fs::read(&kept).unwrap();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x10;
            fs::write(&kept, bytes).unwrap();
        } else {
            fs::remove_file(&kept).unwrap();
            let c = std::ffi::CString::new(kept.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: `c` is a NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        }
        let r = Child::new("specialize", &store)
            .env("STAGED_RUSTC", rustc)
            .env(VALUE, "12")
            .limit(Duration::from_secs(60))
            .run()
            .ok();
        assert_eq!(
            (r.get("origin"), r.get("correct")),
            ("Compiled", "true"),
            "{damage}: {r:#?}"
        );
        assert_eq!(
            runs(&log),
            ["rlib", "cdylib+linked", "rlib", "cdylib+linked"],
            "{damage}"
        );
        assert!(kept.is_file(), "{damage}: replaced by a good one");
    }
}

/// When rustc cannot build the support library, or a library linking it,
/// libraries carry its code themselves: built, right, never the generic
/// body for that.
#[test]
fn without_the_support_library_libraries_carry_its_code() {
    for (fail, expected) in [
        ("*rlib*", &["rlib", "cdylib"][..]),
        (
            "*staged_support=*",
            &["rlib", "cdylib+linked", "cdylib"][..],
        ),
    ] {
        let store = fresh_store("support-fails");
        let log = store.parent().unwrap().join("runs");
        let rustc = logging_rustc(store.parent().unwrap(), &log, fail);
        let rustc = rustc.to_str().unwrap();
        let r = run("prepare", &store, &[("STAGED_RUSTC", rustc)]);
        assert_eq!(r.get("prepared"), "true", "{fail}: {r:#?}");
        for n in [8, 9, 10] {
            assert_eq!(r.get(&format!("correct{n}")), "true", "{fail}: {r:#?}");
        }
        assert_eq!(runs(&log), expected, "{fail}");
    }
}

/// A background builder's build yields the processor to the program (it
/// runs at a lower priority); a build the caller waits for does not.
#[test]
fn background_builds_run_at_a_lower_priority() {
    let store = fresh_store("niceness");
    let dir = store.parent().unwrap();
    let log = dir.join("niceness");
    let rustc = script(
        dir,
        "nice-rustc",
        &format!(
            "case \"$*\" in *cdylib*) cut -d' ' -f19 /proc/$$/stat >> '{}';; esac\nexec '{}' \"$@\"",
            log.display(),
            real_rustc()
        ),
    );
    let rustc = rustc.to_str().unwrap();
    let sync = run("specialize", &store, &[("STAGED_RUSTC", rustc)]);
    assert_eq!(sync.get("origin"), "Compiled", "{sync:#?}");
    let background = run(
        "background",
        &store,
        &[
            ("STAGED_RUSTC", rustc),
            ("STAGED_MODE", "background"),
            ("STAGED_THRESHOLD", "4"),
            (VALUE, "13"),
        ],
    );
    assert_eq!(background.get("compiled"), "1", "{background:#?}");
    let seen: Vec<i32> = fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    // Ten steps nicer than a waited-for build, as far as the scale goes
    // (19): the suite itself may run under `nice`.
    assert_eq!(seen[1], (seen[0] + 10).min(19), "{seen:?}");
    assert!(seen[1] > seen[0] || seen[0] == 19, "{seen:?}");
}
