//! Running a scenario in a child process: the test binary run again with
//! `STAGED_TEST_SCENARIO` set, so that it gets its own settings, its own
//! loaded libraries and its own store, as a real program would. The child
//! prints `staged-test: key=value` lines; the parent reads them, and kills a
//! child that runs past its time limit, so that a hang fails the test
//! instead of stalling the suite. Used by `tests/trust.rs` and
//! `tests/runtime_faults.rs`, each of which has an ignored `child_entry`
//! test that runs the scenario the variable names.
#![allow(dead_code)] // each test binary uses some of it

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const SCENARIO: &str = "STAGED_TEST_SCENARIO";
pub const VALUE: &str = "STAGED_TEST_VALUE";
const PREFIX: &str = "staged-test: ";

/// Prints a result line for the parent.
pub fn say(key: &str, value: impl std::fmt::Display) {
    println!("{PREFIX}{key}={value}");
}

/// `x` to the power `n`: the function most scenarios specialize.
#[staged::specialize(n = [2, 3])]
pub fn power(x: u64, n: u32) -> u64 {
    let mut p = 1u64;
    for _ in 0..n {
        p = p.wrapping_mul(x);
    }
    p
}

/// A variable of the child's environment.
#[allow(clippy::disallowed_methods)] // scenarios reach the children through the environment
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The value the parent asked for (7 by default).
pub fn value() -> u32 {
    env(VALUE).and_then(|v| v.parse().ok()).unwrap_or(7)
}

/// Whether any library of the store is mapped into this process.
pub fn maps_store() -> bool {
    let store = env("STAGED_CACHE_DIR").unwrap_or_default();
    let maps = fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let real = fs::canonicalize(&store).map(|p| p.display().to_string());
    !store.is_empty() && (maps.contains(&store) || real.is_ok_and(|r| maps.contains(&r)))
}

/// Reports a function's counters.
pub fn report_stats(s: staged::SiteStats) {
    say("compiled", s.compiled);
    say("cached", s.cached);
    say("bundled", s.bundled);
    say("failed", s.failed);
    say("generic_calls", s.generic_calls);
    say(
        "last_error",
        s.last_error.unwrap_or_default().replace('\n', " "),
    );
    say("warnings", s.warnings.unwrap_or_default());
    say("maps_store", maps_store());
}

/// Asks for the variant of `value()`, checks every answer against the
/// generic body, and reports.
pub fn specialize_and_report() {
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
            let reason = staged_build::chain::Chain(&e).to_string();
            say("error", reason.replace('\n', " "));
        }
    }
    say(
        "dispatch_correct",
        (0..50).all(|x| power(x, n) == power::generic(x, n)),
    );
    report_stats(power::stats());
}

/// A fresh directory for one test, mode 0700, under cargo's target dir.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("children")
        .join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// A shell script, standing in for rustc.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The rustc that built this program.
pub fn real_rustc() -> &'static str {
    staged::__private::TOOLCHAIN.rustc
}

/// A child running `scenario` with the store at `store`, in sync mode.
pub struct Child {
    cmd: Command,
    limit: Duration,
}

impl Child {
    pub fn new(scenario: &str, store: &Path) -> Self {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "child_entry",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(SCENARIO, scenario);
        Self::command(cmd, store)
    }

    /// A child running `cmd`, a program other than this test binary, with
    /// the settings of a scenario: the store at `store`, sync mode.
    pub fn command(mut cmd: Command, store: &Path) -> Self {
        cmd.env("STAGED_CACHE_DIR", store)
            .env("STAGED_MODE", "sync")
            .env("RUST_BACKTRACE", "0");
        for var in [
            "STAGED_RUSTC",
            "STAGED_MAX_VARIANTS",
            "STAGED_THRESHOLD",
            "STAGED_THRESHOLD_MS",
            "STAGED_RUSTFLAGS",
            "STAGED_TARGET_CPU",
            "STAGED_PROFILE",
            "STAGED_BUNDLE",
            "STAGED_CACHE_MAX_BYTES",
        ] {
            cmd.env_remove(var);
        }
        Self {
            cmd,
            limit: Duration::from_secs(120),
        }
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    pub fn limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Runs the child on `n` of the processors this process may use (all
    /// of them if fewer), so that it counts at most `n` cores whatever the
    /// machine has.
    pub fn cpus(mut self, n: usize) -> Self {
        // SAFETY: a zeroed cpu_set_t is an empty set; sched_getaffinity
        // writes at most its size into it.
        let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut chosen: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `allowed` is a valid set of the size given.
        let got =
            unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&allowed), &mut allowed) };
        assert_eq!(
            got,
            0,
            "sched_getaffinity: {}",
            std::io::Error::last_os_error()
        );
        let mut taken = 0;
        for cpu in 0..libc::CPU_SETSIZE as usize {
            // SAFETY: `cpu` is below the set's size.
            if taken < n && unsafe { libc::CPU_ISSET(cpu, &allowed) } {
                // SAFETY: as above.
                unsafe { libc::CPU_SET(cpu, &mut chosen) };
                taken += 1;
            }
        }
        // SAFETY: the closure runs in the child between fork and exec and
        // only calls sched_setaffinity, which is async-signal-safe, with a
        // set it owns.
        unsafe {
            self.cmd.pre_exec(move || {
                if libc::sched_setaffinity(0, std::mem::size_of_val(&chosen), &chosen) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        self
    }

    /// Runs the child to its end; what it said, its stdout and stderr.
    pub fn run(self) -> Ran {
        self.spawn().wait()
    }

    /// Starts the child; [`Running::wait`] collects it.
    pub fn spawn(mut self) -> Running {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let start = Instant::now();
        let mut child = self.cmd.spawn().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Running {
            child,
            out,
            err,
            start,
            limit: self.limit,
        }
    }
}

/// A child that runs.
pub struct Running {
    child: std::process::Child,
    out: std::thread::JoinHandle<String>,
    err: std::thread::JoinHandle<String>,
    start: Instant,
    limit: Duration,
}

impl Running {
    /// Kills the child and its process group, as a crash would.
    pub fn kill(mut self) {
        // SAFETY: kill has no memory-safety preconditions; the group is
        // the child's own.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }

    /// Waits for the child, killing it (and failing) past its time limit.
    pub fn wait(mut self) -> Ran {
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if self.start.elapsed() > self.limit {
                // SAFETY: kill has no memory-safety preconditions; the
                // group is the child's own.
                unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
                let _ = self.child.wait();
                panic!("the child hung: still running after {:?}", self.limit);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = self.out.join().unwrap();
        let stderr = self.err.join().unwrap();
        let said = stdout
            .lines()
            // The first line shares its start with libtest's own.
            .filter_map(|l| l.split_once(PREFIX).map(|(_, rest)| rest))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Ran {
            said,
            stdout,
            stderr,
            success: status.success(),
            elapsed: self.start.elapsed(),
        }
    }
}

/// What a child said and printed.
#[derive(Debug)]
pub struct Ran {
    pub said: HashMap<String, String>,
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
    pub elapsed: Duration,
}

impl Ran {
    /// What the child said of `key`; panics, with everything it printed,
    /// if it said nothing.
    pub fn get(&self, key: &str) -> &str {
        match self.said.get(key) {
            Some(v) => v,
            None => panic!("the child said no `{key}`: {self:#?}"),
        }
    }

    /// Checks that the child exited successfully.
    pub fn ok(self) -> Self {
        assert!(
            self.success,
            "the child failed after {:?}: {}\n{self:#?}",
            self.elapsed, self.stderr
        );
        self
    }
}

/// The uid of a second local user, created if need be: only root can, and
/// these tests need one. `None` (with the reason printed) when this process
/// is not root or `useradd` is missing.
pub fn other_user() -> Option<u32> {
    static USER: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *USER.get_or_init(|| {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: a second local user can only be created by root");
            return None;
        }
        let name = "staged-attacker";
        let id = |name: &str| {
            let out = Command::new("id").args(["-u", name]).output().ok()?;
            String::from_utf8(out.stdout).ok()?.trim().parse().ok()
        };
        if let Some(uid) = id(name) {
            return Some(uid);
        }
        let created = Command::new("useradd")
            .args(["--system", "--no-create-home", "--shell", "/bin/sh", name])
            .status();
        match created {
            Ok(s) if s.success() => id(name),
            other => {
                eprintln!("skipped: cannot create a second user with useradd: {other:?}");
                None
            }
        }
    })
}

/// Whether the process `pid` still runs (a zombie or a process gone does
/// not), waiting up to 5 s for one that was killed to finish dying.
pub fn still_runs(pid: i32) -> bool {
    runs_after(pid, Duration::from_secs(5))
}

/// Whether the process `pid` still runs after at most `wait`, which is
/// what a process killed a moment ago needs to finish dying.
pub fn runs_after(pid: i32, wait: Duration) -> bool {
    let running = || {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| matches!(rest.trim_start().chars().next(), Some('S' | 'R' | 'D')))
    };
    let deadline = Instant::now() + wait;
    while running() {
        if Instant::now() > deadline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}
