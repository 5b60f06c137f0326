//! Attacks through the `staged` command (issue 18): a command pointed at a
//! directory that is not a store (a home directory, a project, `/`) must
//! neither create, change nor remove anything there, and `clear`/`prune`
//! on a store remove only what staged put there.
//!
//! The command is built once per run (`cargo build -p staged-cli`, in the
//! workspace's target directory) and each run of it has a time limit.
//! Every check compares a walk of the tree (kinds, modes, sizes, modified
//! times) before and after.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use staged_build::store::{BLOBS, EVAL_AREA, Hash32, IndexEntry, SUPPORT_AREA, Serves, Store};

use super::child::fresh_dir;

/// How long the first build of the command may take (a cold build of clap
/// and staged-build on a slow machine).
const BUILD_LIMIT: Duration = Duration::from_secs(900);
/// How long one run of the command may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);
const DAY: u64 = 24 * 3600;

/// The `staged` binary, built once for this run.
fn staged_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let pid = std::process::id();
        let (out, err) = (
            tmp.join(format!("staged-cli-build-{pid}.json")),
            tmp.join(format!("staged-cli-build-{pid}.log")),
        );
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "--offline",
            "-p",
            "staged-cli",
            "--bin",
            "staged",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap());
        let (ok, _) = wait_bounded(cmd, BUILD_LIMIT, "cargo build -p staged-cli");
        let log = fs::read_to_string(&err).unwrap_or_default();
        assert!(ok, "the staged command does not build:\n{log}");
        let json = fs::read_to_string(&out).unwrap();
        let exe = json
            .lines()
            .filter(|l| l.contains("\"compiler-artifact\""))
            .find_map(|l| {
                let rest = l.split_once("\"executable\":\"")?.1;
                let path = &rest[..rest.find('"')?];
                path.ends_with("/staged").then(|| PathBuf::from(path))
            })
            .unwrap_or_else(|| panic!("cargo named no `staged` executable:\n{json}"));
        let _ = (fs::remove_file(&out), fs::remove_file(&err));
        exe
    })
}

/// Runs `cmd` to its end within `limit`, killing it past that; whether it
/// succeeded and its exit code.
fn wait_bounded(mut cmd: Command, limit: Duration, what: &str) -> (bool, i32) {
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.success(), status.code().unwrap_or(-1));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` ran for more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What one run of the command did.
#[derive(Debug)]
pub(super) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `staged args...` with no staged setting in its environment.
pub(super) fn staged(args: &[&str]) -> Run {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = tmp.join(format!("staged-run-{}-{n}.out", std::process::id()));
    let err = out.with_extension("err");
    let mut cmd = Command::new(staged_bin());
    cmd.args(args)
        .env_remove("STAGED_CACHE_DIR")
        .env_remove("STAGED_CACHE_MAX_BYTES")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap());
    let (_, code) = wait_bounded(cmd, RUN_LIMIT, &format!("staged {}", args.join(" ")));
    let read = |p: &Path| {
        let mut s = String::new();
        let _ = fs::File::open(p).and_then(|mut f| f.read_to_string(&mut s));
        let _ = fs::remove_file(p);
        s
    };
    let run = Run {
        code,
        stdout: read(&out),
        stderr: read(&err),
    };
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    run
}

/// Every entry under `root` (and `root` itself): its kind, mode, owner,
/// size and modified time, not following symlinks.
pub(super) fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(path: &Path, root: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let meta = fs::symlink_metadata(path).unwrap();
        let rel = path.strip_prefix(root).unwrap().to_owned();
        out.insert(
            rel,
            format!(
                "{:?} {:o} {} {} {}.{:09}",
                meta.file_type(),
                meta.mode(),
                meta.uid(),
                meta.len(),
                meta.mtime(),
                meta.mtime_nsec()
            ),
        );
        if meta.is_dir() {
            for entry in fs::read_dir(path).unwrap() {
                walk(&entry.unwrap().path(), root, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Makes `path` look last modified `secs` seconds ago.
pub(super) fn age(path: &Path, secs: u64) {
    let when = SystemTime::now() - Duration::from_secs(secs);
    fs::File::open(path).unwrap().set_modified(when).unwrap();
}

/// Writes `text` to `path`, making its folder (mode 0755, as a user's
/// folders are).
fn put(path: &Path, text: &str) {
    let parent = path.parent().unwrap();
    fs::create_dir_all(parent).unwrap();
    fs::set_permissions(parent, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(path, text).unwrap();
}

/// A home directory: dotfiles, a project, and a `tmp/` holding a file
/// last touched ten days ago (older than any build staged leaves there).
pub(super) fn home_like(dir: &Path) -> PathBuf {
    let home = dir.join("home");
    put(&home.join(".bashrc"), "export EDITOR=vi\n");
    put(&home.join("tmp").join("old-notes.txt"), "keep me\n");
    put(
        &home.join("tmp").join("scratch").join("draft.txt"),
        "mine\n",
    );
    put(
        &home.join("proj").join("src").join("main.rs"),
        "fn main() {}\n",
    );
    for old in [
        "tmp/old-notes.txt",
        "tmp/scratch/draft.txt",
        "tmp/scratch",
        "tmp",
    ] {
        age(&home.join(old), 10 * DAY);
    }
    home
}

fn dir_arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Before: `stats` and `list` opened the directory as a store to write,
/// which made `obj/`, `idx/`, `lock/` there and swept `tmp/` of everything
/// older than six hours: `staged cache stats --dir ~` removed a user's
/// ten-day-old file from `~/tmp/`. They now only read, and say that the
/// directory is not a store.
#[test]
fn stats_and_list_on_a_home_directory_change_nothing() {
    let dir = fresh_dir("cli-home");
    let home = home_like(&dir);
    let before = snapshot(&home);
    for command in ["stats", "list"] {
        let run = staged(&["cache", command, "--dir", dir_arg(&home)]);
        assert_eq!(run.code, 1, "{command}: {run:#?}");
        assert!(
            run.stderr.contains("is not a staged store"),
            "{command}: {run:#?}"
        );
        assert!(run.stderr.contains("CACHEDIR.TAG"), "{command}: {run:#?}");
        assert_eq!(snapshot(&home), before, "`staged cache {command}` wrote");
    }
    // Nor does reading a profile kept there.
    let profile = home.join("proj").join("app.profile");
    let run = staged(&["profile", "show", dir_arg(&profile)]);
    assert_eq!(run.code, 1, "{run:#?}");
    fs::write(&profile, "").unwrap();
    let before = snapshot(&home);
    let run = staged(&["profile", "show", dir_arg(&profile)]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(snapshot(&home), before, "`staged profile show` wrote");
}

/// Before: `clear --dir ~/proj` removed every file in `proj/support/` and
/// `proj/idx/` (and made `obj/`, `lock/`, `tmp/`), and `prune
/// --older-than` removed the old ones. A directory without staged's tag
/// is refused, whatever its folders are called and its files named.
#[test]
fn clear_and_prune_refuse_a_directory_that_is_not_a_store() {
    let dir = fresh_dir("cli-proj");
    let proj = dir.join("proj");
    put(&proj.join("support").join("build.sh"), "#!/bin/sh\n");
    put(&proj.join("idx").join("words.txt"), "alpha\n");
    // Named as staged names its entries, still not staged's.
    let digest = Hash32::of_bytes(b"a user's file").to_string();
    put(&proj.join("idx").join(&digest), "mine\n");
    put(&proj.join("support").join(&digest), "mine\n");
    put(&proj.join("src").join("lib.rs"), "\n");
    for file in ["support/build.sh", "idx/words.txt"] {
        age(&proj.join(file), 30 * DAY);
    }
    let before = snapshot(&proj);
    for args in [
        &["clear"][..],
        &["prune", "--older-than", "1d"],
        &["prune", "--max-size", "0"],
        &["prune"],
    ] {
        let mut all = vec!["cache"];
        all.extend_from_slice(args);
        all.extend(["--dir", dir_arg(&proj)]);
        let run = staged(&all);
        assert_eq!(run.code, 1, "{args:?}: {run:#?}");
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains(&format!("{} is not a staged store", proj.display())),
            "{args:?}: {run:#?}"
        );
        assert!(run.stderr.contains("hint:"), "{args:?}: {run:#?}");
        assert_eq!(
            snapshot(&proj),
            before,
            "`staged {}` changed it",
            all.join(" ")
        );
    }
}

/// Before, as root: `clear --dir /` made `/obj`, `/idx`, `/lock` before it
/// failed, and `stats --dir /etc` filled `/etc` with store folders and
/// exited 0. A directory standing for `/` (owned by root, like it) and its
/// `etc/` are left as they were by every command.
#[test]
fn commands_on_a_system_root_create_nothing() {
    let dir = fresh_dir("cli-slash");
    let slash = dir.join("slash");
    put(
        &slash.join("etc").join("passwd"),
        "root:x:0:0::/root:/bin/sh\n",
    );
    put(&slash.join("etc").join("hostname"), "host\n");
    put(&slash.join("usr").join("bin").join("env"), "\n");
    put(&slash.join("tmp").join("a-socket-dir").join("x"), "\n");
    fs::create_dir(slash.join("home")).unwrap();
    age(&slash.join("tmp").join("a-socket-dir").join("x"), 10 * DAY);
    let before = snapshot(&slash);
    for target in [slash.clone(), slash.join("etc")] {
        for command in ["stats", "list", "clear", "prune"] {
            let run = staged(&["cache", command, "--dir", dir_arg(&target)]);
            assert_eq!(run.code, 1, "{command} {}: {run:#?}", target.display());
            assert!(run.stderr.contains("is not a staged store"), "{run:#?}");
            assert_eq!(
                snapshot(&slash),
                before,
                "`staged cache {command} --dir {}` changed the tree",
                target.display()
            );
        }
    }
}

/// A store as the runtime leaves it, with a user's files put among its
/// entries.
struct StrayStore {
    _dir: PathBuf,
    store: Store,
    strays: Vec<PathBuf>,
}

impl StrayStore {
    fn new(name: &str) -> Self {
        let dir = fresh_dir(name);
        let store = Store::open(&dir.join("cache")).unwrap();
        let root = store.root().to_owned();
        let build = store.build_dir().unwrap();
        build.write("out.so", b"library").unwrap();
        let object = store.publish_object(&build, "out.so").unwrap().digest;
        drop(build);
        let entry = IndexEntry {
            key: Hash32::of_bytes(b"key"),
            symbol: "__staged_entry_0".to_owned(),
            serves: Serves {
                function: "demo::power".to_owned(),
                values: vec!["7u32".to_owned()],
            },
        };
        store.publish_index(&object, &entry).unwrap();
        let name = Hash32::of_bytes(b"entry").to_string();
        let eval = store.area(EVAL_AREA).unwrap();
        eval.write(&name, b"evaluated").unwrap();
        eval.area(BLOBS)
            .unwrap()
            .write(&format!("{name}.bin"), b"blob")
            .unwrap();
        store
            .area(SUPPORT_AREA)
            .unwrap()
            .write(&name, b"rlib")
            .unwrap();
        fs::write(root.join("lock").join(format!("{name}.lock")), b"").unwrap();
        let dead = root.join("tmp").join("build.1.0.0");
        fs::create_dir(&dead).unwrap();
        fs::write(dead.join("done"), b"").unwrap();
        let strays: Vec<PathBuf> = [
            "notes.txt",
            "obj/readme.txt",
            "idx/my-notes",
            "lock/mine",
            "tmp/old-user-file",
            "eval/todo",
            "eval/blobs/user.dat",
            "support/keep.me",
        ]
        .iter()
        .map(|p| root.join(p))
        .collect();
        for (i, path) in strays.iter().enumerate() {
            fs::write(path, format!("stray {i}\n")).unwrap();
            age(path, 30 * DAY);
        }
        for entry in ["obj", "idx", "lock", "eval", "eval/blobs", SUPPORT_AREA] {
            for file in fs::read_dir(root.join(entry)).unwrap() {
                let path = file.unwrap().path();
                if path.is_file() && !strays.contains(&path) {
                    age(&path, 30 * DAY);
                }
            }
        }
        age(&dead, 30 * DAY);
        Self {
            _dir: dir,
            store,
            strays,
        }
    }

    fn staged_files(&self) -> Vec<PathBuf> {
        let root = self.store.root();
        let mut found = Vec::new();
        for folder in [
            "obj",
            "idx",
            "lock",
            "tmp",
            "eval",
            "eval/blobs",
            SUPPORT_AREA,
        ] {
            for entry in fs::read_dir(root.join(folder)).unwrap() {
                let path = entry.unwrap().path();
                if !self.strays.contains(&path) && path.file_name().unwrap() != "blobs" {
                    found.push(path);
                }
            }
        }
        found
    }
}

/// Before: `clear` removed every file in `idx/`, `lock/`, `support/` and
/// `eval/blobs/`, and opening the store swept `tmp/`, whatever their
/// names; a user's file put in a store went with them. Now only entries
/// of the shapes staged writes (digests, keys, build directories) go.
#[test]
fn clear_on_a_store_leaves_a_users_files() {
    let cache = StrayStore::new("cli-stray-clear");
    assert_eq!(cache.staged_files().len(), 7, "{:?}", cache.staged_files());
    // Looking first changes nothing, not even what a sweep would remove.
    let before = snapshot(cache.store.root());
    for command in ["stats", "list"] {
        let run = staged(&["cache", command, "--dir", dir_arg(cache.store.root())]);
        assert_eq!(run.code, 0, "{run:#?}");
        assert_eq!(snapshot(cache.store.root()), before, "`{command}` wrote");
    }
    let run = staged(&["cache", "clear", "--dir", dir_arg(cache.store.root())]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.starts_with("removed 7 entries"), "{run:#?}");
    assert_eq!(cache.staged_files(), Vec::<PathBuf>::new());
    for stray in &cache.strays {
        assert!(stray.is_file(), "{} was removed", stray.display());
    }
    assert!(cache.store.root().join("CACHEDIR.TAG").is_file());
}

/// The same for `prune`: by age and by size, only staged's entries go.
#[test]
fn prune_on_a_store_leaves_a_users_files() {
    let cache = StrayStore::new("cli-stray-prune");
    let dir = dir_arg(cache.store.root());
    for args in [
        &["cache", "prune", "--max-size", "0", "--dir", dir][..],
        &["cache", "prune", "--older-than", "1d", "--dir", dir],
    ] {
        let run = staged(args);
        assert_eq!(run.code, 0, "{run:#?}");
    }
    assert_eq!(cache.staged_files(), Vec::<PathBuf>::new());
    for stray in &cache.strays {
        assert!(stray.is_file(), "{} was removed", stray.display());
    }
}
