//! The child side: functions under attack, and what a child does for each
//! scenario. Every scenario checks answers against the generic body and
//! reports `staged-test: key=value` lines (see `common/child.rs`).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use staged::runtime::Config;
use staged::specialize;

use super::child::{env, power, report_stats, say, specialize_and_report, value};

/// Panics with a `&'static str`, a `String` or an `i32`, by `kind`.
#[specialize(kind)]
pub fn explode(kind: u8) -> u8 {
    match kind {
        0 => panic!("a literal message"),
        1 => panic!("a formatted message {}", kind),
        2 => std::panic::panic_any(42i32),
        _ => kind,
    }
}

/// Prints without a newline, through `print!` and through its own stdout.
#[specialize(k)]
pub fn chatty(k: u8) -> u8 {
    print!("routed-{k}");
    std::io::Write::write_all(&mut std::io::stdout(), b" raw-bytes-without-newline").unwrap();
    k
}

/// What a body sees of the process: whether its thread has a name, a count
/// kept in a `static` of the body, the command line, an environment
/// variable and a count kept in a thread-local of the body.
#[specialize(k)]
pub fn state(k: u8) -> (bool, u32, usize, bool, u32) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static CALLS: AtomicU32 = AtomicU32::new(0);
    thread_local! {
        static LOCAL_CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }
    let named = std::thread::current().name().is_some();
    let calls = CALLS.fetch_add(1, Ordering::Relaxed) + u32::from(k) * 0;
    let args = std::env::args().count();
    let env = std::env::var_os("STAGED_TEST_SCENARIO").is_some();
    let local = LOCAL_CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    (named, calls, args, env, local)
}

/// The thread a body runs on, as its `std` names it.
#[specialize(k)]
pub fn thread_id(k: u8) -> String {
    let _ = k;
    format!("{:?}", std::thread::current().id())
}

/// Writes `raw-<k>` to its own stdout, without a newline.
#[specialize(k)]
pub fn raw_write(k: u8) -> u8 {
    use std::io::Write;
    write!(std::io::stdout(), "raw-{k}").unwrap();
    k
}

/// Ends the process with `code` when it is not negative.
#[specialize(code)]
pub fn leave(code: i32) -> i32 {
    if code >= 0 {
        std::process::exit(code);
    }
    code
}

/// What a variant's library holds copies of: a module's statics and types.
#[staged::self_contained]
pub mod copies {
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct Row {
        pub a: u32,
    }

    pub static TABLE: [u32; 4] = [2, 3, 5, 7];

    /// Where `TABLE` is, and its element `k`.
    #[staged::specialize(k)]
    pub fn table(k: usize) -> (usize, u32) {
        (TABLE.as_ptr() as usize, TABLE[k])
    }

    /// `Row`'s name, as `std::any::type_name` gives it.
    #[staged::specialize(k)]
    pub fn row_name(k: u8) -> String {
        let _ = k;
        std::any::type_name::<Row>().to_owned()
    }

    /// A hash of the `TypeId` of `Row` (`k` 0) or of `String` (`k` 1).
    #[staged::specialize(k)]
    pub fn type_id(k: u8) -> u64 {
        use std::hash::{Hash, Hasher};
        let id = if k == 0 {
            std::any::TypeId::of::<Row>()
        } else {
            std::any::TypeId::of::<String>()
        };
        let mut h = std::hash::DefaultHasher::new();
        id.hash(&mut h);
        h.finish()
    }
}

/// The type of a panic payload, as a test names it.
fn payload_type(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("&str:{s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("String:{s}")
    } else if let Some(i) = p.downcast_ref::<i32>() {
        format!("i32:{i}")
    } else {
        "other".to_owned()
    }
}

fn panics(f: impl FnOnce() -> u8) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => format!("returned {v}"),
        Err(p) => payload_type(&*p),
    }
}

fn payloads() {
    std::panic::set_hook(Box::new(|_| {}));
    for kind in [0u8, 1, 2] {
        say(&format!("generic{kind}"), panics(|| explode::generic(kind)));
        match explode::specialized(kind) {
            Ok(h) => say(&format!("variant{kind}"), panics(|| h.call())),
            Err(e) => say(
                &format!("variant{kind}"),
                format!("error {}", staged_build::chain::Chain(&e)),
            ),
        }
    }
    report_stats(explode::stats());
}

fn hardened() {
    use staged_fixture_hardened::{add, debug_assertions};
    std::panic::set_hook(Box::new(|_| {}));
    let overflows = |f: &dyn Fn() -> u64| catch_unwind(AssertUnwindSafe(f)).is_err();
    say("generic_panics", overflows(&|| add::generic(u64::MAX, 5)));
    match add::specialized(5) {
        Ok(h) => {
            say("origin", format!("{:?}", h.origin()));
            say("variant_panics", overflows(&|| h.call(u64::MAX)));
            say("variant_adds", h.call(1) == 6);
        }
        Err(e) => say("origin", format!("none: {e}")),
    }
    say("dispatch_panics", overflows(&|| add(u64::MAX, 5)));
    let h = debug_assertions::specialized(3).unwrap();
    say(
        "debug_assertions",
        format!("{:?} {:?}", debug_assertions::generic(3), h.call()),
    );
    report_stats(add::stats());
}

fn output() {
    let h = chatty::specialized(7).unwrap();
    say("origin", format!("{:?}", h.origin()));
    // Say it before the variant prints, so that the line stays whole.
    println!();
    assert_eq!(h.call(), 7);
}

fn process_state() {
    say("generic_named", state::generic(1).0);
    let h = state::specialized(1).unwrap();
    say("origin", format!("{:?}", h.origin()));
    say("variant_named", h.call().0);
    // Each copy of the body has its own `static`.
    let generic = [state::generic(1).1, state::generic(1).1];
    let variant = [h.call().1, h.call().1];
    say("generic_counts", format!("{generic:?}"));
    say("variant_counts", format!("{variant:?}"));
    // And its own thread-locals: three calls of each before, on this thread.
    say(
        "local_counts",
        format!("{} {}", state::generic(1).4, h.call().4),
    );
    // Shared: the command line and the environment.
    let (g, v) = (state::generic(1), h.call());
    say("same_args", g.2 == v.2 && g.2 > 1);
    say("same_env", g.3 && v.3);
    // Threads, as the library numbers them: in the order they first ask
    // it, two fresh threads of the program one after the other.
    let h = thread_id::specialized(0).unwrap();
    let ids = || {
        std::thread::spawn(move || (format!("{:?}", std::thread::current().id()), h.call()))
            .join()
            .unwrap()
    };
    let (first, second) = (ids(), ids());
    say("variant_thread_ids", format!("{} {}", first.1, second.1));
    say(
        "program_thread_ids_differ",
        first.0 != first.1 && second.0 != second.1,
    );
    // A module's statics: the library's copies, at other addresses.
    let h = copies::table::specialized(3).unwrap();
    let (generic_at, generic_value) = copies::table::generic(3);
    let (variant_at, variant_value) = h.call();
    say("table_values", format!("{generic_value} {variant_value}"));
    say(
        "generic_table_at",
        generic_at == copies::TABLE.as_ptr() as usize,
    );
    say(
        "variant_table_at",
        variant_at == copies::TABLE.as_ptr() as usize,
    );
    // A module's types: named after the library's crate and module.
    let h = copies::row_name::specialized(0).unwrap();
    say("generic_row_name", copies::row_name::generic(0));
    say("variant_row_name", h.call());
    let h = copies::type_id::specialized(0).unwrap();
    say("row_type_id", copies::type_id::generic(0) == h.call());
    let h = copies::type_id::specialized(1).unwrap();
    say("string_type_id", copies::type_id::generic(1) == h.call());
}

/// The body's own stdout: what the generic body writes is flushed with the
/// program's stdout, what the variant writes when the process exits.
fn raw_stdout() {
    let h = raw_write::specialized(2).unwrap();
    say("origin", format!("{:?}", h.origin()));
    raw_write::generic(1);
    std::io::Write::flush(&mut std::io::stdout()).unwrap();
    println!();
    h.call();
    std::io::Write::flush(&mut std::io::stdout()).unwrap();
    say("flushed", true);
}

/// `std::process::exit` in the generic body (`value()` 0) or a variant
/// (1), with output of the program's still in its buffer.
fn exit() {
    let h = leave::specialized(0).unwrap();
    say("origin", format!("{:?}", h.origin()));
    print!("pending-output");
    if value() == 0 {
        leave::generic(0);
    } else {
        h.call();
    }
    unreachable!("the process exited");
}

/// A thread builds the value (through a slow rustc) when the process forks:
/// the child must answer, by building on its own or running the generic
/// body, instead of waiting for a thread it does not have.
fn fork_while_building() {
    let n = value();
    let marker = env("STAGED_TEST_MARKER").expect("a marker path");
    let builder = std::thread::spawn(move || power::specialized(n).map(|h| h.origin()));
    let start = Instant::now();
    while !std::path::Path::new(&marker).exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no build started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: the child only runs the code below and exits with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: alarm has no preconditions; it ends a child that hangs.
        unsafe { libc::alarm(60) };
        let correct = (0..20).all(|x| power(x, n) == power::generic(x, n));
        let text = format!("staged-test: forked_correct={correct}\n");
        // SAFETY: writing a buffer to stdout, then ending the child without
        // running the parent's exit handlers.
        unsafe {
            libc::write(1, text.as_ptr().cast(), text.len());
            libc::_exit(0);
        }
    }
    let mut status = 0;
    // SAFETY: `pid` is our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    say("forked_exited", libc::WIFEXITED(status));
    say(
        "forked_signal",
        if libc::WIFSIGNALED(status) {
            libc::WTERMSIG(status)
        } else {
            0
        },
    );
    say("parent_origin", format!("{:?}", builder.join().unwrap()));
}

/// The host closes every descriptor it does not know (a daemon does): the
/// next value must not be served by an older library.
fn closed_descriptors() {
    let first = power::specialized(5).unwrap();
    say(
        "first_correct",
        (0..50).all(|x| first.call(x) == power::generic(x, 5)),
    );
    for fd in 3..1024 {
        // SAFETY: closing descriptors is what the attacked host does; none of
        // them is used by this thread in the meantime.
        unsafe { libc::close(fd) };
    }
    say(
        "dispatch_correct",
        (0..50).all(|x| power(x, 6) == power::generic(x, 6)),
    );
    match power::specialized(6) {
        Ok(h) => {
            say("origin", format!("{:?}", h.origin()));
            say(
                "correct",
                (0..50).all(|x| h.call(x) == power::generic(x, 6)),
            );
        }
        Err(e) => say("origin", format!("none: {e}")),
    }
    say(
        "first_still_correct",
        (0..50).all(|x| first.call(x) == power::generic(x, 5)),
    );
}

/// One variant may be loaded: the second value fails on every call, and
/// must count as one failed value; in sync mode the call that built the
/// first ran it, and is no generic call.
fn counts() {
    assert_eq!(power(3, 5), 243);
    say("generic_after_first", power::stats().generic_calls);
    for x in 0..50 {
        assert_eq!(power(x, 6), power::generic(x, 6));
    }
    report_stats(power::stats());
}

/// A build through a wrapper that leaves a child holding the pipes, with a
/// short time limit.
fn slow_build() {
    let limit: u64 = env("STAGED_TEST_BUILD_TIMEOUT")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    Config::from_env()
        .build_timeout(Duration::from_secs(limit))
        .install();
    let start = Instant::now();
    let outcome = power::specialized(value()).map(|h| h.origin());
    say("elapsed_ms", start.elapsed().as_millis());
    say("outcome", format!("{outcome:?}").replace('\n', " "));
    report_stats(power::stats());
}

/// Unwinds by `kind`: 0 `resume_unwind` (no hook runs in plain Rust), 1 a
/// plain panic, 2 a panic caught in the body and resumed.
#[specialize(kind)]
pub fn unwinds(kind: u8) -> u8 {
    match kind {
        0 => std::panic::resume_unwind(Box::new("quiet")),
        1 => panic!("loud"),
        2 => match std::panic::catch_unwind(|| panic!("caught")) {
            Ok(()) => kind,
            Err(payload) => std::panic::resume_unwind(payload),
        },
        _ => kind,
    }
}

/// How often the program's panic hook runs for each way of unwinding, in
/// the generic body and in the variant, and what the caller catches.
fn hook() {
    use std::sync::atomic::{AtomicU32, Ordering};
    static HOOKS: AtomicU32 = AtomicU32::new(0);
    std::panic::set_hook(Box::new(|_| {
        HOOKS.fetch_add(1, Ordering::SeqCst);
    }));
    let run = |f: &dyn Fn() -> u8| {
        HOOKS.store(0, Ordering::SeqCst);
        let caught = panics(f);
        format!("{caught} hooks={}", HOOKS.load(Ordering::SeqCst))
    };
    for kind in [0u8, 1, 2] {
        say(&format!("generic{kind}"), run(&|| unwinds::generic(kind)));
        match unwinds::specialized(kind) {
            Ok(h) => say(&format!("variant{kind}"), run(&|| h.call())),
            Err(e) => say(&format!("variant{kind}"), format!("error {e}")),
        }
    }
}

/// A short process: one call of `power(3, value())`, which in background
/// mode with a threshold of 1 queues the value's build, and the process
/// exits, leaving the build to finish after it.
fn short() {
    let n = value();
    say("correct", power(3, n) == power::generic(3, n));
    report_stats(power::stats());
}

/// Runs the scenario named by `name`.
pub fn run(name: &str) {
    match name {
        "specialize" => specialize_and_report(),
        "payloads" => payloads(),
        "hardened" => hardened(),
        "output" => output(),
        "process_state" => process_state(),
        "raw_stdout" => raw_stdout(),
        "exit" => exit(),
        "fork" => fork_while_building(),
        "closed_fds" => closed_descriptors(),
        "counts" => counts(),
        "slow_build" => slow_build(),
        "hook" => hook(),
        "short" => short(),
        "eval_memory" => super::eval::memory_scenario(),
        "eval_flood" => super::eval::flood_scenario(),
        other => panic!("unknown scenario {other}"),
    }
}
