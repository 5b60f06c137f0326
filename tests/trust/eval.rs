//! Attacks on `const_init!`'s build-time evaluator (issue 8, items 7 and
//! 11): an initializer is code from the crate being built, run on the build
//! host. It may compute; it may not read the host's files, write outside its
//! scratch directory, reach the network, read the build's environment, forge
//! the evaluator's records, flood its output, or leave processes behind.
//!
//! Most tests drive the evaluator directly with blocks written as text; the
//! last ones go through the macro, as a user's crate does.
#![allow(deprecated)] // a `#[fallback(lazy)]` item that falls back says so with a warning

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use staged_build::eval::{
    self, Block, EvalConfig, Failure, Fragment, Item, ItemOutcome, Outcome, Toolchain,
};

fn toolchain() -> Toolchain {
    static TOOLCHAIN: OnceLock<Toolchain> = OnceLock::new();
    TOOLCHAIN
        .get_or_init(|| {
            let rustc = staged_build::rustc::Rustc::probe(
                Path::new("rustc"),
                None,
                Duration::from_secs(60),
            )
            .expect("rustc -vV");
            Toolchain {
                rustc: PathBuf::from("rustc"),
                version: rustc.version,
                ..Toolchain::default()
            }
        })
        .clone()
}

fn fragment(text: &str) -> Fragment {
    Fragment {
        text: text.to_owned(),
        marks: vec![(0, 0)],
    }
}

fn item(name: &str, ty: &str, init: &str) -> Item {
    Item {
        name: name.to_owned(),
        eval_type: ty.to_owned(),
        init: fragment(init),
        convert: ty.contains('&'),
        ..Item::default()
    }
}

/// Evaluates `items` with a cache of its own (under `cache`), so nothing is
/// served from an earlier run.
fn evaluate(cache: &Path, items: Vec<Item>, timeout: Option<Duration>) -> Outcome {
    let block = Block {
        key_text: format!("{items:?}"),
        edition: "2021".to_owned(),
        items,
        timeout,
        ..Block::default()
    };
    let mut config = EvalConfig::from_env();
    config.cache_dir = Some(cache.to_owned());
    eval::evaluate(&block, &toolchain(), &config).expect("the evaluator runs")
}

/// The message of an item that must have failed with a panic.
fn panic_message(outcome: &ItemOutcome) -> &str {
    match outcome {
        ItemOutcome::Failed(Failure::Panicked { message, .. }) => message,
        other => panic!("expected a panic, got {other:?}"),
    }
}

/// A panic that the sandbox caused says so, and says what the rules are,
/// after the initializer's own message.
fn assert_denied(outcome: &ItemOutcome, panic: &str) {
    let message = panic_message(outcome);
    eprintln!("{message}");
    assert!(message.contains(panic), "{message}");
    assert!(
        message.contains("the build sandbox denied"),
        "no word of the sandbox: {message}"
    );
    assert!(
        message.contains("include_bytes!") && message.contains("no network"),
        "the rules are not stated: {message}"
    );
}

/// Whether this host can sandbox the evaluator; if not, the test says why
/// it is skipped.
fn sandboxed(test: &str) -> bool {
    let gaps = eval::sandbox::gaps();
    if gaps.iter().any(|g| g.contains("Landlock")) {
        eprintln!("skipping {test}: {}", gaps.join("; "));
        return false;
    }
    true
}

fn literal(path: &Path) -> String {
    format!("{:?}", path.to_str().unwrap())
}

#[test]
fn an_initializer_cannot_read_a_file_outside() {
    if !sandboxed("an_initializer_cannot_read_a_file_outside") {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "the build host's secret").unwrap();
    let outcome = evaluate(
        cache.path(),
        vec![item(
            "SECRET",
            "&'static str",
            &format!(
                "std::fs::read_to_string({}).expect(\"read the secret\")",
                literal(&secret)
            ),
        )],
        None,
    );
    assert_denied(&outcome.items[0], "read the secret");
}

#[test]
fn an_initializer_cannot_write_outside_its_directory() {
    if !sandboxed("an_initializer_cannot_write_outside_its_directory") {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let planted = outside.path().join("planted.txt");
    let outcome = evaluate(
        cache.path(),
        vec![
            item(
                "PLANT",
                "u8",
                &format!(
                    "{{ std::fs::write({}, \"planted\").expect(\"plant a file\"); 1 }}",
                    literal(&planted)
                ),
            ),
            // Its own directory stays writable.
            item(
                "SCRATCH",
                "u8",
                "{ std::fs::write(\"scratch\", [7u8]).unwrap(); std::fs::read(\"scratch\").unwrap()[0] }",
            ),
        ],
        None,
    );
    assert_denied(&outcome.items[0], "plant a file");
    assert!(!planted.exists(), "the file was written");
    assert_eq!(outcome.items[1], ItemOutcome::Baked("7u8".into()));
}

#[test]
fn an_initializer_cannot_connect_to_the_host() {
    if !sandboxed("an_initializer_cannot_connect_to_the_host") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let outcome = evaluate(
        cache.path(),
        vec![item(
            "CONNECTED",
            "u8",
            &format!(
                "{{ std::net::TcpStream::connect(\"{address}\").expect(\"connect to the host\"); 1 }}"
            ),
        )],
        None,
    );
    assert_denied(&outcome.items[0], "connect to the host");
    // The evaluator is gone: a connection it made would be queued here.
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the listener was reached: {other:?}"),
    }
}

/// UDP, which Landlock (before ABI 10) does not restrict: the network
/// namespace has no route anywhere.
#[test]
fn an_initializer_cannot_send_datagrams() {
    if !sandboxed("an_initializer_cannot_send_datagrams") {
        return;
    }
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let address = socket.local_addr().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let outcome = evaluate(
        cache.path(),
        vec![item(
            "SENT",
            "usize",
            &format!(
                "std::net::UdpSocket::bind(\"0.0.0.0:0\").unwrap().send_to(b\"leak\", \"{address}\").expect(\"send a datagram\")"
            ),
        )],
        None,
    );
    // Whether the kernel gave the run its namespaces is known after it.
    if eval::sandbox::gaps()
        .iter()
        .any(|g| g.contains("namespaces"))
    {
        eprintln!("skipping an_initializer_cannot_send_datagrams: no network namespaces");
        return;
    }
    assert_denied(&outcome.items[0], "send a datagram");
    let mut buffer = [0u8; 16];
    match socket.recv_from(&mut buffer) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the socket was reached: {other:?}"),
    }
}

#[test]
fn an_initializer_cannot_read_the_parents_environment() {
    if !sandboxed("an_initializer_cannot_read_the_parents_environment") {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let outcome = evaluate(
        cache.path(),
        vec![item(
            "ENVIRON",
            "&'static [u8]",
            "std::fs::read(format!(\"/proc/{}/environ\", std::os::unix::process::parent_id())).expect(\"read the environment\")",
        )],
        None,
    );
    assert_denied(&outcome.items[0], "read the environment");
}

/// Records an initializer prints, for an item already reported, change
/// nothing: records travel on a descriptor of their own, and what an
/// initializer prints is never parsed.
#[test]
fn forged_records_do_not_change_the_result() {
    let cache = tempfile::tempdir().unwrap();
    let forge = "{ print!(\"baked 0 3 0 0 0 0\\n9u8\"); eprint!(\"baked 0 3 0 0 0 0\\n9u8\"); println!(\"done\"); 2 }";
    let outcome = evaluate(
        cache.path(),
        vec![item("FIRST", "u8", "1"), item("FORGER", "u8", forge)],
        None,
    );
    assert_eq!(
        outcome.items,
        [
            ItemOutcome::Baked("1u8".into()),
            ItemOutcome::Baked("2u8".into())
        ]
    );
}

/// The peak resident memory of this process.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// 200 MiB of output: the evaluator's stdout and stderr are read and
/// dropped past their limit, so the build keeps none of it. Measured in a
/// child, whose peak memory is its own (this binary runs other tests at
/// the same time).
#[test]
fn endless_output_is_bounded_and_the_value_survives_it() {
    let dir = super::child::fresh_dir("eval-flood");
    let ran = super::child::Child::new("eval_flood", &dir.join("store"))
        .limit(Duration::from_secs(300))
        .run()
        .ok();
    eprintln!(
        "200 MiB of output: built and evaluated in {} ms, peak memory grew {} KiB",
        ran.get("elapsed_ms"),
        ran.get("grew_kib")
    );
    assert_eq!(ran.get("flood"), "[Baked(\"7u8\")]");
    let grew: u64 = ran.get("grew_kib").parse().unwrap();
    assert!(grew < 48 << 10, "the output was kept: {grew} KiB");
}

/// The child of [`endless_output_is_bounded_and_the_value_survives_it`].
pub fn flood_scenario() {
    let cache = std::path::PathBuf::from(super::child::env("STAGED_CACHE_DIR").unwrap());
    let before = peak_rss_kib();
    let started = Instant::now();
    let flood = "{ let line = \"x\".repeat(1 << 20); for _ in 0..100 { println!(\"{line}\"); eprintln!(\"{line}\"); } 7 }";
    let outcome = evaluate(&cache, vec![item("FLOOD", "u8", flood)], None);
    use super::child::say;
    say("elapsed_ms", started.elapsed().as_millis());
    say("grew_kib", peak_rss_kib().saturating_sub(before));
    say("flood", format!("{:?}", outcome.items));
}

/// An initializer that allocates and touches 1 GiB, past a limit of
/// 256 MiB: it fails with the limit, at once (no time-out), and the item
/// after it is evaluated. Run in a child, which reads the limit from its
/// environment as the macro does; `STAGED_EVAL_TIMEOUT` passes through.
#[test]
fn an_initializer_cannot_use_more_memory_than_the_limit() {
    let dir = super::child::fresh_dir("eval-memory");
    let ran = super::child::Child::new("eval_memory", &dir.join("store"))
        .env("STAGED_EVAL_MAX_MEMORY", (256u64 << 20).to_string())
        .limit(Duration::from_secs(300))
        .run()
        .ok();
    eprintln!("evaluated in {} ms", ran.get("elapsed_ms"));
    let greedy = ran.get("greedy");
    assert!(
        greedy.starts_with("Failed(OutOfMemory { limit: 268435456,"),
        "{greedy}"
    );
    assert_eq!(ran.get("after"), "Baked(\"3u8\")");
}

/// The child of [`an_initializer_cannot_use_more_memory_than_the_limit`].
pub fn memory_scenario() {
    let cache = std::path::PathBuf::from(super::child::env("STAGED_CACHE_DIR").unwrap());
    let greedy = "{ let mut v = vec![0u8; 1 << 30]; for i in (0..v.len()).step_by(4096) { v[i] = 1; } v.iter().step_by(4096).map(|&b| b as usize).sum::<usize>() }";
    let outcome = evaluate(
        &cache,
        vec![item("GREEDY", "usize", greedy), item("AFTER", "u8", "3")],
        None,
    );
    use super::child::say;
    say(
        "greedy",
        format!("{:?}", outcome.items[0]).replace('\n', " "),
    );
    say("after", format!("{:?}", outcome.items[1]));
    say("elapsed_ms", outcome.elapsed.as_millis());
}

/// A value whose record passes the limit stops the evaluator while it is
/// being sent: the item after it never runs in that run (it would leave a
/// file in the working directory, which the next run, without the large
/// item, shares), and the parent keeps no more than the limit.
#[test]
fn an_oversized_result_is_refused_while_it_streams() {
    let cache = tempfile::tempdir().unwrap();
    let limit = 16usize << 20;
    let after = "{ if std::path::Path::new(\"ran\").exists() { panic!(\"this ran after the oversized value\") } std::fs::write(\"ran\", \"\").unwrap(); 3 }";
    let block = Block {
        key_text: "an oversized result".to_owned(),
        edition: "2021".to_owned(),
        items: vec![
            item("HUGE", "&'static str", "\"x\".repeat(128 << 20)"),
            item("AFTER", "u8", after),
        ],
        ..Block::default()
    };
    let mut config = EvalConfig::from_env();
    config.cache_dir = Some(cache.path().to_owned());
    config.record_limit = limit;
    let outcome = eval::evaluate(&block, &toolchain(), &config).expect("the evaluator runs");
    assert_eq!(
        outcome.items,
        [
            ItemOutcome::Failed(Failure::TooLarge { limit }),
            ItemOutcome::Baked("3u8".into())
        ]
    );
}

/// Processes under `dir` still running (a zombie has no `exe` link).
fn running_under(dir: &Path) -> Vec<(u32, PathBuf)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(exe) = std::fs::read_link(entry.path().join("exe"))
            && exe.starts_with(dir)
        {
            found.push((pid, exe));
        }
    }
    found
}

/// An initializer that starts a process and never returns: both end at the
/// limit, and the items after it are evaluated in a second run.
#[test]
fn the_time_limit_ends_everything_the_initializer_started() {
    let cache = tempfile::tempdir().unwrap();
    let limit = Duration::from_secs(2);
    // The child is the evaluator itself, told by its arguments to skip the
    // item that starts it; `sleep` would do too where no sandbox forbids
    // running other programs.
    let spawn = "{ let child = std::process::Command::new(std::env::current_exe().unwrap()).arg(\"0\").env(\"STAGED_TRUST_CHILD\", \"1\").spawn().expect(\"start a child\"); std::fs::write(\"child\", child.id().to_string()).unwrap(); loop { std::hint::black_box(0u8); } }";
    let child = "{ if std::env::var_os(\"STAGED_TRUST_CHILD\").is_some() { loop { std::hint::black_box(0u8); } } 1 }";
    let started = Instant::now();
    let outcome = evaluate(
        cache.path(),
        vec![item("SPAWNS", "u8", spawn), item("CHILD", "u8", child)],
        Some(limit),
    );
    let took = started.elapsed();
    assert_eq!(
        outcome.items,
        [
            ItemOutcome::Failed(Failure::TimedOut { limit }),
            ItemOutcome::Baked("1u8".into())
        ]
    );
    // Killed processes take a moment to go; one that survived spins on.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = running_under(cache.path());
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left = running_under(cache.path());
    }
    eprintln!("a {limit:?} limit: built once and run twice in {took:?}");
    assert!(left.is_empty(), "still running: {left:?}");
    assert!(took < limit * 2 + Duration::from_secs(60), "{took:?}");
}

/// A process that leaves the evaluator's process group would escape the
/// kill at the time limit: starting one is refused.
#[test]
fn an_initializer_cannot_start_a_process_outside_its_group() {
    let cache = tempfile::tempdir().unwrap();
    let limit = Duration::from_secs(2);
    let spawn = "{ use std::os::unix::process::CommandExt; std::process::Command::new(std::env::current_exe().unwrap()).arg(\"0\").env(\"STAGED_TRUST_CHILD\", \"1\").process_group(0).spawn().expect(\"start a child in a group of its own\"); loop { std::hint::black_box(0u8); } }";
    let child = "{ if std::env::var_os(\"STAGED_TRUST_CHILD\").is_some() { loop { std::hint::black_box(0u8); } } 1 }";
    let outcome = evaluate(
        cache.path(),
        vec![item("ESCAPES", "u8", spawn), item("CHILD", "u8", child)],
        Some(limit),
    );
    if eval::sandbox::gaps().iter().any(|g| g.contains("seccomp")) {
        eprintln!("skipping an_initializer_cannot_start_a_process_outside_its_group: no seccomp");
        return;
    }
    assert_denied(&outcome.items[0], "start a child in a group of its own");
    assert_eq!(outcome.items[1], ItemOutcome::Baked("1u8".into()));
    let left = running_under(cache.path());
    assert!(left.is_empty(), "still running: {left:?}");
}

staged::const_init! {
    /// Reads a file the sandbox hides: initialized at run time instead.
    #[fallback(lazy)]
    static PASSWD_BYTES: usize = std::fs::read("/etc/passwd").expect("read /etc/passwd").len();
}

#[test]
fn a_fallback_item_that_reads_a_file_initializes_at_run_time() {
    if !sandboxed("a_fallback_item_that_reads_a_file_initializes_at_run_time") {
        return;
    }
    assert!(
        !PASSWD_BYTES.is_baked(),
        "the file was read on the build host"
    );
    let mut bytes = Vec::new();
    std::fs::File::open("/etc/passwd")
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    assert_eq!(*PASSWD_BYTES, bytes.len());
}
