//! The processes of a build: what is left of them after a time limit, and
//! how many builds run at once on one store (issue 18, items 6 and 9).

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use super::child::{Child, VALUE, fresh_dir, real_rustc, runs_after, script};

/// The processes of `pids` still running once `wait` has passed, each
/// with its command line.
fn left_running(pids: &[i32], wait: Duration) -> Vec<String> {
    let deadline = Instant::now() + wait;
    pids.iter()
        .filter(|&&pid| runs_after(pid, deadline.saturating_duration_since(Instant::now())))
        .map(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            format!(
                "{pid}: {}",
                String::from_utf8_lossy(&cmdline).replace('\0', " ")
            )
        })
        .collect()
}

/// Kills what a failed test left running.
fn kill_all(pids: &[i32]) {
    for &pid in pids {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

fn pids_in(file: &Path) -> Vec<i32> {
    fs::read_to_string(file)
        .unwrap_or_default()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

/// Builds the support library into `store` with rustc itself (and one
/// value, 5), so that a later call runs one build: its library's.
fn with_support_built(store: &Path) {
    let r = Child::new("specialize", store).env(VALUE, "5").run().ok();
    assert_eq!(r.get("origin"), "Compiled", "{r:#?}");
}

/// A `STAGED_RUSTC` wrapper whose child sleeps 300 s, under a 5 s limit.
/// Before: the shell that ran rustc started `timeout`, which makes itself
/// a process group of its own; the limit killed the shell's group, not
/// `timeout`'s, so the wrapper and its child ran on until `timeout`'s own
/// limit, 5 s later; and the timed-out build was tried again with the
/// support code inline, so the call returned after twice the limit. The
/// test before this one missed it: it checked one pid, the last
/// grandchild's, and waited 5 s for it to die, as long as `timeout` took
/// to kill it. Now every process of the build is in the group the limit
/// ends, and a time-out is not tried again.
#[test]
fn a_build_past_its_limit_leaves_no_process_running() {
    let dir = fresh_dir("limit");
    let store = dir.join("store");
    with_support_built(&store);
    let pids = dir.join("pids");
    let rustc = script(
        &dir,
        "sleeping-rustc",
        &format!(
            "if [ \"$1\" = -vV ]; then exec '{real}' -vV; fi\n\
             echo $$ $PPID >> '{p}'\nsleep 300 &\necho $! >> '{p}'\nwait",
            real = real_rustc(),
            p = pids.display()
        ),
    );
    let limit = 5;
    let r = Child::new("slow_build", &store)
        .env("STAGED_RUSTC", &rustc)
        .env("STAGED_TEST_BUILD_TIMEOUT", limit.to_string())
        .limit(Duration::from_secs(120))
        .run()
        .ok();
    let elapsed: u64 = r.get("elapsed_ms").parse().unwrap();
    let pids = pids_in(&pids);
    // Killed a moment ago, they get 2 s to finish dying: well before the
    // 5 s after the limit when the build's own `timeout` would end them.
    let left = left_running(&pids, Duration::from_secs(2));
    kill_all(&pids);
    eprintln!(
        "a {limit} s build limit, a wrapper whose child sleeps: returned after {elapsed} ms; {} of {} processes of the build left running",
        left.len(),
        pids.len()
    );
    assert!(pids.len() >= 3, "the wrapper never ran: {r:#?}");
    assert!(left.is_empty(), "left running: {left:#?}");
    assert!(
        (limit * 1000..(limit + 4) * 1000).contains(&elapsed),
        "returned after {elapsed} ms: {r:#?}"
    );
    assert!(r.get("outcome").contains("TimedOut"), "{r:#?}");
    assert!(
        r.get("last_error")
            .contains(&format!("ran longer than {limit}s")),
        "{r:#?}"
    );
}

/// Before: every short process left a build running, one rustc each
/// (24 at once on 2 cores). Now a build takes one of the store's build
/// slots (one per core, across processes) and holds it until it ends,
/// after its process if need be; a background build that finds none
/// leaves its value to a later process. A `STAGED_RUSTC` wrapper counts
/// the builds running whenever one starts.
#[test]
fn short_processes_run_one_build_per_core_at_once() {
    let dir = fresh_dir("slots");
    let store = dir.join("store");
    with_support_built(&store);
    let cores = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(2);
    let running = dir.join("running");
    fs::create_dir(&running).unwrap();
    let counts = dir.join("counts");
    let rustc = script(
        &dir,
        "counting-rustc",
        &format!(
            "case \"$*\" in *cdylib*) ;; *) exec '{real}' \"$@\";; esac\n\
             : > '{running}/'$$\nls '{running}' | wc -l >> '{counts}'\nsleep 2\n\
             '{real}' \"$@\"; status=$?\nrm '{running}/'$$\nexit $status",
            real = real_rustc(),
            running = running.display(),
            counts = counts.display()
        ),
    );
    let values: Vec<u32> = (10..).take(3 * cores).collect();
    let built = || fs::read_dir(store.join("idx")).map_or(0, |d| d.count());
    let start = Instant::now();
    let mut rounds = 0;
    while built() < values.len() + 1 {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "after {rounds} rounds, {} of {} values built",
            built() - 1,
            values.len()
        );
        rounds += 1;
        for v in &values {
            let r = Child::new("short", &store)
                .env(VALUE, v.to_string())
                .env("STAGED_MODE", "background")
                .env("STAGED_THRESHOLD", "1")
                .env("STAGED_RUSTC", &rustc)
                .cpus(cores)
                .run()
                .ok();
            assert_eq!(r.get("correct"), "true", "{r:#?}");
        }
        // The builds of this round end before the next starts.
        let quiet = Instant::now();
        while fs::read_dir(&running).unwrap().count() > 0 {
            assert!(
                quiet.elapsed() < Duration::from_secs(120),
                "a build never ended"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let counts: Vec<usize> = fs::read_to_string(&counts)
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let peak = counts.iter().copied().max().unwrap_or(0);
    eprintln!(
        "{} short processes on {cores} cores: {} builds, at most {peak} at once, all built after {rounds} rounds",
        values.len(),
        counts.len()
    );
    assert!(
        peak <= cores,
        "{peak} builds ran at once on {cores} cores: {counts:?}"
    );
}
