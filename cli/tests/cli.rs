//! The `staged` command, run as a program on caches made here through
//! staged-build's store (no rustc needed: the libraries are bytes), and on
//! profiles written here. Entries are aged with `File::set_modified`, never
//! by sleeping; every run of the command has a time limit.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use staged_build::profile::{Entry, HEADER, Profile};
use staged_build::store::{BLOBS, EVAL_AREA, Hash32, IndexEntry, SUPPORT_AREA, Serves, Store};

const LIMIT: Duration = Duration::from_secs(60);
const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// What one run of the command did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `staged args...` with `env` set and nothing else of staged's in
/// its environment, within [`LIMIT`].
fn staged_with(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_staged"));
    cmd.args(args)
        .env_remove("STAGED_CACHE_DIR")
        .env_remove("STAGED_CACHE_MAX_BYTES")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("the staged binary runs");
    let pid = child.id();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || send.send(child.wait_with_output()));
    let output = match receive.recv_timeout(LIMIT) {
        Ok(output) => output.expect("its output is read"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("`staged {}` ran for more than {LIMIT:?}", args.join(" "));
        }
    };
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "`staged {}` panicked:\n{}",
        args.join(" "),
        run.stderr
    );
    run
}

fn staged(args: &[&str]) -> Run {
    staged_with(args, &[])
}

/// Runs `staged args...` and expects it to succeed.
fn ok(args: &[&str]) -> String {
    let run = staged(args);
    assert_eq!(run.code, 0, "`staged {}`:\n{}", args.join(" "), run.stderr);
    run.stdout
}

/// A cache in a fresh temporary directory.
struct Cache {
    _dir: tempfile::TempDir,
    store: Store,
}

impl Cache {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cache")).unwrap();
        Self { _dir: dir, store }
    }

    fn root(&self) -> &Path {
        self.store.root()
    }

    fn dir(&self) -> &str {
        self.root().to_str().unwrap()
    }

    /// A library of `size` bytes of `fill`, published as a build would.
    fn library(&self, fill: u8, size: usize) -> Hash32 {
        let dir = self.store.build_dir().unwrap();
        dir.write("out.so", &vec![fill; size]).unwrap();
        self.store.publish_object(&dir, "out.so").unwrap().digest
    }

    /// An index entry for the key `seed`, saying that `object` serves
    /// `function` for `values`.
    fn index(&self, seed: &str, object: Hash32, function: &str, values: &[&str]) -> Hash32 {
        let key = Hash32::of_bytes(seed.as_bytes());
        let entry = IndexEntry {
            key,
            symbol: "staged_entry_0".to_owned(),
            serves: Serves {
                function: function.to_owned(),
                values: values.iter().map(|v| (*v).to_owned()).collect(),
            },
        };
        self.store.publish_index(&object, &entry).unwrap();
        key
    }

    /// An evaluated `const_init!` block of `size` bytes; its path.
    fn evaluated(&self, seed: &str, size: usize) -> PathBuf {
        let name = Hash32::of_bytes(seed.as_bytes()).to_string();
        let area = self.store.area(EVAL_AREA).unwrap();
        area.write(&name, &vec![b'e'; size]).unwrap();
        area.path(&name)
    }

    /// A large `const_init!` value of `size` bytes; its path.
    fn blob(&self, seed: &str, size: usize) -> PathBuf {
        let name = format!("{}.bin", Hash32::of_bytes(seed.as_bytes()));
        let blobs = self.store.area(EVAL_AREA).unwrap().area(BLOBS).unwrap();
        blobs.write(&name, &vec![b'b'; size]).unwrap();
        blobs.path(&name)
    }

    /// A support library of `size` bytes, as a run-time build leaves one
    /// per toolchain; its path.
    fn support(&self, seed: &str, size: usize) -> PathBuf {
        let name = Hash32::of_bytes(seed.as_bytes()).to_string();
        let area = self.store.area(SUPPORT_AREA).unwrap();
        area.write(&name, &vec![b's'; size]).unwrap();
        area.path(&name)
    }

    /// A lock file that no process holds, as a crashed builder leaves one.
    fn stale_lock(&self, seed: &str) -> PathBuf {
        let path = self
            .root()
            .join("lock")
            .join(format!("{}.lock", Hash32::of_bytes(seed.as_bytes())));
        fs::write(&path, b"").unwrap();
        path
    }

    fn object(&self, digest: &Hash32) -> PathBuf {
        self.root().join("obj").join(format!("{digest}.so"))
    }

    fn entry(&self, key: &Hash32) -> PathBuf {
        self.root().join("idx").join(key.to_string())
    }

    fn count(&self, folder: &str) -> usize {
        fs::read_dir(self.root().join(folder))
            .map(|d| d.filter(|e| e.as_ref().unwrap().path().is_file()).count())
            .unwrap_or(0)
    }
}

/// Makes `path` look last modified `secs` seconds ago.
fn age(path: &Path, secs: u64) {
    let when = SystemTime::now() - Duration::from_secs(secs);
    fs::File::open(path).unwrap().set_modified(when).unwrap();
}

/// The fields of the `stats` line of `kind`.
fn stats_row(stats: &str, kind: &str) -> Vec<String> {
    let line = stats
        .lines()
        .find(|l| l.split_whitespace().next() == Some(kind))
        .unwrap_or_else(|| panic!("no `{kind}` line in:\n{stats}"));
    line.split_whitespace().map(str::to_owned).collect()
}

/// Count, bytes, oldest and newest of a `stats` line.
fn stats_of(stats: &str, kind: &str) -> (String, String, String, String) {
    let f = stats_row(stats, kind);
    let n = f.len();
    (
        f[1].clone(),
        f[n - 3].clone(),
        f[n - 2].clone(),
        f[n - 1].clone(),
    )
}

fn short(hash: &Hash32) -> String {
    hash.to_string()[..12].to_owned()
}

#[test]
fn stats_count_every_kind_with_sizes_and_ages() {
    let cache = Cache::new();
    let a = cache.library(1, 3000);
    let b = cache.library(2, 5000);
    age(&cache.object(&a), 5 * DAY);
    age(&cache.object(&b), HOUR);
    let k1 = cache.index("k1", a, "demo::power", &["13u32"]);
    cache.index("k2", a, "demo::power", &["7u32"]);
    cache.index("k3", b, "demo::f", &["3u32", "true"]);
    age(&cache.entry(&k1), 2 * HOUR);
    let _held = cache
        .store
        .lock(&Hash32::of_bytes(b"held"), Duration::ZERO)
        .unwrap();
    let running = cache.store.build_dir().unwrap();
    running.write("main.rs", &[b'x'; 100]).unwrap();
    age(running.path(), 2 * 60);
    cache.evaluated("const", 200);
    let blob = cache.blob("blob", 4096);
    age(&blob, 3 * 60);
    cache.support("support", 300);

    let stats = ok(&["cache", "stats", "--dir", cache.dir()]);
    assert!(stats.contains(cache.dir()), "{stats}");
    assert_eq!(
        stats_of(&stats, "library"),
        ("2".into(), "8000".into(), "5d".into(), "1h".into())
    );
    assert!(stats_row(&stats, "library").join(" ").contains("7.8 KiB"));
    assert_eq!(stats_of(&stats, "index").0, "3");
    assert_eq!(stats_of(&stats, "index").2, "2h");
    assert_eq!(stats_of(&stats, "lock").0, "1");
    assert_eq!(
        stats_of(&stats, "build"),
        ("1".into(), "100".into(), "2m".into(), "2m".into())
    );
    assert_eq!(stats_of(&stats, "const_init").1, "200");
    assert_eq!(
        stats_of(&stats, "blob"),
        ("1".into(), "4096".into(), "3m".into(), "3m".into())
    );
    assert_eq!(stats_of(&stats, "support").1, "300");
    let index_bytes: u64 = stats_of(&stats, "index").1.parse().unwrap();
    let (count, bytes, oldest, _) = stats_of(&stats, "total");
    assert_eq!(count, "10");
    assert_eq!(
        bytes,
        (8000 + 100 + 200 + 4096 + 300 + index_bytes).to_string()
    );
    assert_eq!(oldest, "5d");
    assert!(!stats.contains("over the cap"), "{stats}");
}

#[test]
fn list_shows_what_each_library_serves_then_the_other_kinds() {
    let cache = Cache::new();
    let a = cache.library(1, 3000);
    let b = cache.library(2, 5000);
    let lonely = cache.library(3, 10);
    age(&cache.object(&a), 5 * DAY);
    cache.index("k1", a, "demo::power", &["13u32"]);
    cache.index("k2", a, "demo::power", &["7u32"]);
    cache.index("k3", b, "demo::f", &["3u32", "true"]);
    let gone = Hash32::of_bytes(b"no such library");
    let dangling = cache.index("k4", gone, "demo::power", &["99u32"]);
    let _held = cache
        .store
        .lock(&Hash32::of_bytes(b"held"), Duration::ZERO)
        .unwrap();
    let _running = cache.store.build_dir().unwrap();
    cache.evaluated("const", 200);
    cache.blob("blob", 4096);
    cache.support("support", 300);

    let list = ok(&["cache", "list", "--dir", cache.dir()]);
    let lines: Vec<&str> = list.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{list}"))
    };
    let line_a = at(&short(&a));
    assert!(lines[line_a].contains("2.9 KiB"), "{list}");
    assert!(lines[line_a].contains("5d"), "{list}");
    assert!(lines[line_a].contains("demo::power 13u32"), "{list}");
    assert!(lines[line_a + 1].trim() == "demo::power 7u32", "{list}");
    assert!(
        lines[at(&short(&b))].contains("demo::f 3u32, true"),
        "{list}"
    );
    assert!(
        lines[at(&short(&lonely))].contains("no index entry"),
        "{list}"
    );
    assert!(line_a < at(&short(&b)), "oldest first:\n{list}");
    let line_dangling = at(&short(&dangling));
    assert!(
        lines[line_dangling].contains(&format!(
            "demo::power 99u32, but its library {}",
            short(&gone)
        )),
        "{list}"
    );
    for heading in [
        "library: 3",
        "index: 4",
        "3 shown with their libraries",
        "lock: 1",
        "build: 1",
        "const_init: 1",
        "blob: 1",
        "support: 1",
    ] {
        assert!(list.contains(heading), "no `{heading}` in:\n{list}");
    }
    assert!(at("lock: 1") < at(".lock"), "{list}");
    assert!(at("blob: 1") < at(".bin"), "{list}");
    assert!(at(".bin") < at("support: 1"), "{list}");
}

#[test]
fn prune_by_size_removes_the_oldest_libraries_and_their_index_entries() {
    let cache = Cache::new();
    let oldest = cache.library(1, 1000);
    let middle = cache.library(2, 1000);
    let newest = cache.library(3, 1000);
    age(&cache.object(&oldest), 3 * DAY);
    age(&cache.object(&middle), 2 * DAY);
    age(&cache.object(&newest), DAY);
    let k_oldest = cache.index("old", oldest, "demo::power", &["1u32"]);
    let k_middle = cache.index("mid", middle, "demo::power", &["2u32"]);
    let k_newest = cache.index("new", newest, "demo::power", &["3u32"]);
    let _held = cache
        .store
        .lock(&Hash32::of_bytes(b"held"), Duration::ZERO)
        .unwrap();
    let running = cache.store.build_dir().unwrap();

    let out = ok(&["cache", "prune", "--dir", cache.dir(), "--max-size", "2K"]);
    assert!(out.starts_with("removed 2 entries"), "{out}");
    assert!(!cache.object(&oldest).exists());
    assert!(!cache.entry(&k_oldest).exists(), "its index entry goes too");
    for (object, key) in [(middle, k_middle), (newest, k_newest)] {
        assert!(cache.object(&object).exists(), "{out}");
        assert_eq!(cache.store.lookup(&key).unwrap().unwrap().object, object);
    }
    assert!(running.path().exists(), "a running build stays");
    assert_eq!(cache.count("lock"), 1, "a held lock stays");

    let out = ok(&["cache", "prune", "--dir", cache.dir(), "--max-size", "1000"]);
    assert!(out.starts_with("removed 2 entries"), "{out}");
    assert!(!cache.object(&middle).exists() && cache.object(&newest).exists());
}

#[test]
fn prune_by_age_removes_old_entries_but_not_what_is_in_use() {
    let cache = Cache::new();
    let old = cache.library(1, 1000);
    let loading = cache.library(2, 1000);
    let fresh = cache.library(3, 1000);
    for object in [old, loading] {
        age(&cache.object(&object), 10 * DAY);
    }
    let k_old = cache.index("old", old, "demo::power", &["1u32"]);
    let k_fresh = cache.index("fresh", fresh, "demo::power", &["3u32"]);
    age(&cache.entry(&k_old), 10 * DAY);
    let old_eval = cache.evaluated("old", 100);
    age(&old_eval, 10 * DAY);
    let fresh_eval = cache.evaluated("fresh", 100);
    let old_blob = cache.blob("old", 100);
    age(&old_blob, 10 * DAY);
    let old_support = cache.support("old toolchain", 100);
    age(&old_support, 10 * DAY);
    let fresh_support = cache.support("this toolchain", 100);
    let held_key = Hash32::of_bytes(b"held");
    let _held = cache.store.lock(&held_key, Duration::ZERO).unwrap();
    let held = cache.root().join("lock").join(format!("{held_key}.lock"));
    age(&held, 2 * HOUR);
    let stale = cache.stale_lock("stale");
    age(&stale, 2 * HOUR);
    let running = cache.store.build_dir().unwrap();
    age(running.path(), 2 * HOUR);
    // A process between reading a library and loading it.
    let being_loaded = cache.store.open_object(&loading).unwrap();

    let out = ok(&["cache", "prune", "--dir", cache.dir(), "--older-than", "1h"]);
    assert!(out.starts_with("removed 6 entries"), "{out}");
    for removed in [
        &cache.object(&old),
        &cache.entry(&k_old),
        &old_eval,
        &old_blob,
        &old_support,
        &stale,
    ] {
        assert!(!removed.exists(), "{} stays:\n{out}", removed.display());
    }
    for kept in [
        &cache.object(&fresh),
        &cache.entry(&k_fresh),
        &fresh_eval,
        &fresh_support,
        &held,
    ] {
        assert!(kept.exists(), "{} is gone:\n{out}", kept.display());
    }
    assert!(running.path().exists(), "a running build stays");
    assert!(
        cache.object(&loading).exists(),
        "a library being loaded stays"
    );
    drop(being_loaded);
    let out = ok(&["cache", "prune", "--dir", cache.dir(), "--older-than", "7d"]);
    assert!(out.starts_with("removed 1 entry,"), "{out}");
    assert!(!cache.object(&loading).exists());
}

#[test]
fn prune_without_options_brings_the_cache_under_its_cap() {
    let cache = Cache::new();
    let old = cache.library(1, 3000);
    age(&cache.object(&old), DAY);
    let new = cache.library(2, 3000);
    let env = [("STAGED_CACHE_MAX_BYTES", "4000")];
    let stats = staged_with(&["cache", "stats", "--dir", cache.dir()], &env);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    assert!(stats.stdout.contains("over the cap"), "{}", stats.stdout);
    assert!(
        stats.stdout.contains("STAGED_CACHE_MAX_BYTES"),
        "{}",
        stats.stdout
    );
    assert!(stats.stdout.contains("(6000 bytes)"), "{}", stats.stdout);

    let run = staged_with(&["cache", "prune", "--dir", cache.dir()], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!cache.object(&old).exists() && cache.object(&new).exists());
    let stats = staged_with(&["cache", "stats", "--dir", cache.dir()], &env);
    assert!(!stats.stdout.contains("over the cap"), "{}", stats.stdout);

    let run = staged_with(
        &["cache", "stats", "--dir", cache.dir()],
        &[("STAGED_CACHE_MAX_BYTES", "lots")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("STAGED_CACHE_MAX_BYTES=\"lots\""),
        "{}",
        run.stderr
    );
}

#[test]
fn clear_empties_the_cache_but_for_what_is_in_use() {
    let cache = Cache::new();
    let free = cache.library(1, 1000);
    let loading = cache.library(2, 1000);
    cache.index("free", free, "demo::power", &["1u32"]);
    cache.index("loading", loading, "demo::power", &["2u32"]);
    cache.evaluated("const", 100);
    cache.blob("blob", 100);
    cache.support("support", 100);
    cache.stale_lock("stale");
    let _held = cache
        .store
        .lock(&Hash32::of_bytes(b"held"), Duration::ZERO)
        .unwrap();
    let running = cache.store.build_dir().unwrap();
    let dead = cache.root().join("tmp").join("build.1.0.0");
    fs::create_dir(&dead).unwrap();
    fs::write(dead.join("done"), b"").unwrap();
    let being_loaded = cache.store.open_object(&loading).unwrap();

    let out = ok(&["cache", "clear", "--dir", cache.dir()]);
    assert!(out.starts_with("removed 8 entries"), "{out}");
    assert!(out.contains("left 3 entries"), "{out}");
    assert!(out.contains("builds that may still be running"), "{out}");
    assert!(!cache.object(&free).exists() && cache.object(&loading).exists());
    assert_eq!(cache.count("idx"), 0);
    assert_eq!(cache.count("eval") + cache.count("eval/blobs"), 0);
    assert_eq!(cache.count(SUPPORT_AREA), 0);
    assert_eq!(cache.count("lock"), 1, "only the held lock stays");
    assert!(running.path().exists() && !dead.exists());

    drop((being_loaded, running, _held));
    let out = ok(&["cache", "clear", "--dir", cache.dir()]);
    assert!(out.starts_with("removed 1 entry,"), "{out}");
    assert!(!out.contains("left"), "{out}");
    let stats = ok(&["cache", "stats", "--dir", cache.dir()]);
    assert_eq!(stats_of(&stats, "total").0, "0", "{stats}");
}

#[test]
fn a_group_writable_cache_is_refused_with_a_clear_message() {
    let cache = Cache::new();
    let object = cache.library(1, 100);
    fs::set_permissions(cache.root(), fs::Permissions::from_mode(0o770)).unwrap();
    for command in ["stats", "list", "prune", "clear"] {
        let run = staged(&["cache", command, "--dir", cache.dir()]);
        assert_eq!(run.code, 1, "{command}: {}", run.stdout);
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("staged: cannot use the cache at {}", cache.dir())),
            "{command}: {}",
            run.stderr
        );
        assert!(
            first.contains("writable by others (mode 770)"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("chmod go-w"), "{}", run.stderr);
    }
    assert!(cache.object(&object).exists(), "nothing was removed");
}

#[test]
fn a_cache_owned_by_another_user_is_refused() {
    use std::os::unix::fs::MetadataExt;
    let cache = Cache::new();
    if fs::metadata(cache.root()).unwrap().uid() != 0 {
        eprintln!("skipped: needs root to give the cache to another user");
        return;
    }
    std::os::unix::fs::chown(cache.root(), Some(54_321), None).unwrap();
    for command in ["stats", "prune"] {
        let run = staged(&["cache", command, "--dir", cache.dir()]);
        assert_eq!(run.code, 1, "{command}: {}", run.stdout);
        assert!(run.stderr.contains("owned by uid 54321"), "{}", run.stderr);
        assert!(run.stderr.contains("pass --dir"), "{}", run.stderr);
    }
}

#[test]
fn a_missing_cache_is_reported_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("never-made");
    let missing = missing.to_str().unwrap();
    for command in ["stats", "list", "prune", "clear"] {
        let run = staged(&["cache", command, "--dir", missing]);
        assert_eq!(run.code, 1, "{command}");
        assert!(
            run.stderr
                .starts_with(&format!("staged: no cache at {missing}\n")),
            "{}",
            run.stderr
        );
    }
    assert!(!Path::new(missing).exists());
}

/// A directory no program made a cache (not tagged), even an empty one, is
/// not a cache: every command says so, with a hint, and creates nothing.
#[test]
fn an_untagged_directory_is_not_a_cache() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("made-by-hand");
    fs::create_dir(&empty).unwrap();
    fs::set_permissions(&empty, fs::Permissions::from_mode(0o700)).unwrap();
    let empty = empty.to_str().unwrap();
    for command in ["stats", "list", "prune", "clear"] {
        let run = staged(&["cache", command, "--dir", empty]);
        assert_eq!(run.code, 1, "{command}: {}", run.stdout);
        assert!(
            run.stderr.starts_with(&format!(
                "staged: cannot use the cache at {empty}: {empty} is not a staged store: \
                 it has no CACHEDIR.TAG written by staged\n"
            )),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("hint: "), "{}", run.stderr);
    }
    assert_eq!(fs::read_dir(empty).unwrap().count(), 0, "nothing was made");
}

/// An empty cache, as a program leaves it when it made it and built
/// nothing: every kind at zero.
#[test]
fn an_empty_cache_is_an_empty_summary() {
    let cache = Cache::new();
    let stats = ok(&["cache", "stats", "--dir", cache.dir()]);
    assert_eq!(stats_of(&stats, "total").0, "0", "{stats}");
}

#[test]
fn the_cache_the_programs_use_is_the_default() {
    let cache = Cache::new();
    cache.library(1, 100);
    let run = staged_with(&["cache", "stats"], &[("STAGED_CACHE_DIR", cache.dir())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(&format!("cache {}\n", cache.dir())),
        "{}",
        run.stdout
    );
    assert_eq!(stats_of(&run.stdout, "library").0, "1");
}

#[test]
fn bad_sizes_and_ages_are_usage_errors() {
    let cache = Cache::new();
    for (option, value, says) in [
        ("--max-size", "5X", "500M"),
        ("--max-size", "-1", "500M"),
        ("--max-size", "", "500M"),
        ("--max-size", "99999999T", "more bytes"),
        ("--older-than", "30", "`30m`"),
        ("--older-than", "soon", "`12h`"),
        ("--older-than", "-3d", "`12h`"),
    ] {
        let arg = format!("{option}={value}");
        let run = staged(&["cache", "prune", "--dir", cache.dir(), &arg]);
        assert_eq!(run.code, 2, "{arg}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("invalid value '{value}' for '{option}")),
            "{arg}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(says), "{arg}: {}", run.stderr);
    }
    let run = staged(&["cache", "purge"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unrecognized subcommand 'purge'"),
        "{}",
        run.stderr
    );
}

#[test]
fn help_names_the_cache_and_its_cap() {
    for args in [&["--help"][..], &["cache", "stats", "--help"]] {
        let help = ok(args);
        for needle in [
            "STAGED_CACHE_DIR",
            "STAGED_CACHE_MAX_BYTES",
            "1 GiB",
            "500M",
            "7d",
        ] {
            assert!(help.contains(needle), "no `{needle}` in:\n{help}");
        }
    }
}

#[test]
fn a_reader_that_stops_reading_is_not_an_error() {
    let cache = Cache::new();
    for n in 0..50u8 {
        cache.library(n, 10);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_staged"))
        .args(["cache", "list", "--dir", cache.dir()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || send.send(child.wait_with_output()));
    let output = receive.recv_timeout(LIMIT).unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn entry(function: &str, values: &[&str]) -> Entry {
    Entry {
        krate: "demo".into(),
        function: function.into(),
        fingerprint: "9a7d02c1e4f0".repeat(5),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

fn profile_file(dir: &Path, name: &str, lines: &[(Entry, u64)]) -> String {
    let mut text = HEADER.to_owned();
    for (entry, calls) in lines {
        text.push_str(&entry.line(*calls));
    }
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn profile_merge_adds_counts_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let power = |v: &str| entry("demo::power", &[v]);
    let a = profile_file(
        dir.path(),
        "a.profile",
        &[(power("7u32"), 3), (power("13u32"), 1)],
    );
    let b = profile_file(
        dir.path(),
        "b.profile",
        &[(power("7u32"), 4), (entry("demo::f", &["3u32", "true"]), 2)],
    );

    let merged = ok(&["profile", "merge", &a, &b]);
    let (profile, problems) = Profile::parse(&merged);
    assert!(problems.is_empty(), "{problems:?}");
    let counts: Vec<(Entry, u64)> = profile.entries().map(|(e, c)| (e.clone(), c)).collect();
    assert_eq!(counts.len(), 3, "{merged}");
    assert!(counts.contains(&(power("7u32"), 7)), "{merged}");
    assert!(counts.contains(&(power("13u32"), 1)), "{merged}");
    assert!(
        counts.contains(&(entry("demo::f", &["3u32", "true"]), 2)),
        "{merged}"
    );
    assert_eq!(merged, profile.to_text(), "the text is the profile's own");

    let out = dir.path().join("merged.profile");
    let out = out.to_str().unwrap();
    ok(&["profile", "merge", &a, &b, "-o", out]);
    assert_eq!(fs::read_to_string(out).unwrap(), merged);
    assert_eq!(
        ok(&["profile", "merge", out]),
        merged,
        "it reads back the same"
    );

    // Into one of its inputs: read first, then replaced whole.
    ok(&["profile", "merge", &a, &b, "--output", &a]);
    assert_eq!(fs::read_to_string(&a).unwrap(), merged);
}

#[test]
fn profile_show_orders_values_hottest_first() {
    let dir = tempfile::tempdir().unwrap();
    let power = |v: &str| entry("demo::power", &[v]);
    let a = profile_file(
        dir.path(),
        "a.profile",
        &[
            (power("2u32"), 5),
            (power("9u32"), 40),
            (entry("demo::f", &["3u32", "true"]), 2),
        ],
    );
    let b = profile_file(
        dir.path(),
        "b.profile",
        &[(power("5u32"), 12), (power("2u32"), 10)],
    );
    fs::write(
        dir.path().join("b.profile"),
        format!("{}garbage line\n", fs::read_to_string(&b).unwrap()),
    )
    .unwrap();

    let run = staged(&["profile", "show", &a, &b]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let show = run.stdout;
    assert!(
        run.stderr
            .contains("b.profile: line 5: not a profile entry"),
        "{}",
        run.stderr
    );
    let block = |function: &str| -> Vec<String> {
        let header = format!("{function}  (crate demo, fingerprint 9a7d02c1e4f0,");
        let start = show
            .lines()
            .position(|l| l.starts_with(&header))
            .unwrap_or_else(|| panic!("no block for {function}:\n{show}"));
        show.lines()
            .skip(start + 1)
            .take_while(|l| l.starts_with("  "))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    assert_eq!(
        block("demo::power"),
        ["40 9u32", "15 2u32", "12 5u32"],
        "{show}"
    );
    assert_eq!(block("demo::f"), ["2 3u32, true"], "{show}");
    assert!(show.contains("3 values, 67 calls"), "{show}");
    assert!(
        !show.contains(&"9a7d02c1e4f0".repeat(2)),
        "a prefix of the fingerprint"
    );
}

/// Structured values as the runtime writes them (issue 19): each literal
/// holds spaces, commas, braces, quotes, `::`, `&` and escapes; `show`
/// prints each whole on its value's line, and `merge` adds their counts
/// and writes them back unchanged.
#[test]
fn profile_show_and_merge_keep_structured_literals_whole() {
    let dir = tempfile::tempdir().unwrap();
    let plan = "&[self::Pred::Between { col: 0u8, lo: 10i64, hi: -500i64 }, self::Pred::Not(1u8), self::Pred::Always]";
    let taps = "[::core::primitive::f64::from_bits(0x3ff0000000000000u64), ::core::primitive::f64::from_bits(0x8000000000000000u64)]";
    let tag = r#"(::core::option::Option::Some(-3i32), "a\tb, {c} \"d\" ::e &f #g", )"#;
    let count = entry("demo::query::count", &[plan]);
    let score = entry("demo::score", &[taps, tag]);
    let a = profile_file(
        dir.path(),
        "a.profile",
        &[(count.clone(), 3), (score.clone(), 2)],
    );
    let b = profile_file(dir.path(), "b.profile", &[(count.clone(), 4)]);

    let merged = ok(&["profile", "merge", &a, &b]);
    let (profile, problems) = Profile::parse(&merged);
    assert!(problems.is_empty(), "{problems:?}");
    let counts: Vec<(Entry, u64)> = profile.entries().map(|(e, c)| (e.clone(), c)).collect();
    assert_eq!(counts, [(count, 7), (score, 2)], "{merged}");
    assert!(merged.contains(&format!("\t7\t{plan}\n")), "{merged}");
    assert!(
        merged.contains(&format!("\t2\t{taps}\t{tag}\n")),
        "{merged}"
    );

    let run = staged(&["profile", "show", &a, &b]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{}", run.stdout);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines.contains(&format!("  7  {plan}").as_str()),
        "{}",
        run.stdout
    );
    assert!(
        lines.contains(&format!("  2  {taps}, {tag}").as_str()),
        "{}",
        run.stdout
    );
}

#[test]
fn a_missing_profile_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.profile");
    let run = staged(&["profile", "show", missing.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(&format!(
            "staged: cannot read the profile {}: No such file",
            missing.display()
        )),
        "{}",
        run.stderr
    );
    let run = staged(&["profile", "merge"]);
    assert_eq!(run.code, 2, "a file is required: {}", run.stderr);
}
