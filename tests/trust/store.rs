//! Attacks on the disk cache and the loader (issue 8, items 1, 6, 9, 12).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use staged_build::store::Hash32;

use super::child::{Child, VALUE, fresh_dir, other_user, real_rustc, script};

fn assert_generic_only(r: &super::child::Ran) {
    assert_eq!(r.get("origin"), "none", "{r:#?}");
    assert_eq!(r.get("dispatch_correct"), "true", "{r:#?}");
    assert_eq!(r.get("maps_store"), "false", "{r:#?}");
}

fn only_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "{path:?}");
}

/// A user who owns a directory above the cache can swap what is below it
/// at any time after the check; such a cache is refused, parent or
/// grandparent.
#[test]
fn a_cache_below_a_directory_another_user_owns_is_refused() {
    let Some(uid) = other_user() else { return };
    let dir = fresh_dir("theirs");
    let theirs = dir.join("theirs");
    fs::create_dir(&theirs).unwrap();
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&theirs, Some(uid), None).unwrap();
    for store in [theirs.join("cache"), theirs.join("mine").join("cache")] {
        if let Some(parent) = store.parent().filter(|p| *p != theirs) {
            fs::create_dir_all(parent).unwrap();
            fs::set_permissions(parent, fs::Permissions::from_mode(0o700)).unwrap();
        }
        let r = Child::new("specialize", &store).run().ok();
        assert_generic_only(&r);
        assert!(
            r.get("last_error").contains(&format!("owned by uid {uid}")),
            "{r:#?}"
        );
    }
}

/// A sticky world-writable directory protects entries from other users
/// only if its owner is root: its owner may rename anything in it.
#[test]
fn a_sticky_directory_another_user_owns_is_refused() {
    let Some(uid) = other_user() else { return };
    let dir = fresh_dir("sticky");
    let sticky = dir.join("sticky");
    fs::create_dir(&sticky).unwrap();
    fs::set_permissions(&sticky, fs::Permissions::from_mode(0o1777)).unwrap();
    std::os::unix::fs::chown(&sticky, Some(uid), None).unwrap();
    let r = Child::new("specialize", &sticky.join("cache")).run().ok();
    assert_generic_only(&r);
    assert!(r.get("last_error").contains("owned by uid"), "{r:#?}");
}

/// A relative `STAGED_CACHE_DIR` resolves in the current directory, which
/// may be anyone's: it is made absolute and its ancestors checked.
#[test]
fn a_relative_cache_path_in_a_world_writable_directory_is_refused() {
    let dir = fresh_dir("relative");
    let open = dir.join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let r = Child::new("specialize", Path::new("cache"))
        .current_dir(&open)
        .run()
        .ok();
    assert_generic_only(&r);
    assert!(r.get("last_error").contains("writable by others"), "{r:#?}");
    assert!(
        r.get("last_error").contains(&*open.to_string_lossy()),
        "{r:#?}"
    );
}

/// The build directory is swapped by path while rustc runs (as a user
/// owning a directory above the cache could): the build still compiles the
/// runtime's own source, in the directory it created, and the swapped-in
/// library, whose initializer would run on load, is never built or loaded.
#[test]
fn a_build_directory_swapped_during_the_build_changes_nothing() {
    let dir = fresh_dir("swap");
    let store = dir.join("store");
    let marker = dir.join("pwned");
    let evil = dir.join("evil.rs");
    fs::write(
        &evil,
        format!(
            "#[unsafe(no_mangle)] pub extern \"C\" fn __staged_init() {{ let _ = std::fs::write({:?}, \"pwned\"); }}\n",
            marker.display()
        ),
    )
    .unwrap();
    let rustc = script(
        &dir,
        "swapping-rustc",
        &format!(
            "if [ \"$1\" = -vV ]; then exec '{real}' -vV; fi\n\
             d=$(pwd -P)\n\
             mv \"$d\" \"$d.moved\" && mkdir \"$d\" && cp '{evil}' \"$d/variant.rs\"\n\
             exec '{real}' \"$@\"",
            real = real_rustc(),
            evil = evil.display()
        ),
    );
    let r = Child::new("specialize", &store)
        .env("STAGED_RUSTC", &rustc)
        .run()
        .ok();
    assert_eq!(
        (r.get("origin"), r.get("correct")),
        ("Compiled", "true"),
        "{r:#?}"
    );
    assert!(!marker.exists(), "the swapped-in library ran");
}

/// A FIFO at an index, object or lock path: opening it without
/// `O_NONBLOCK` waited for a writer forever. It is refused at once,
/// reported and replaced.
#[test]
fn fifos_at_index_object_and_lock_paths_never_block() {
    let dir = fresh_dir("fifo");
    let store = dir.join("store");
    let first = Child::new("specialize", &store).run().ok();
    assert_eq!(first.get("origin"), "Compiled");
    let idx = only_file(&store.join("idx"));
    let key = Hash32::parse(&idx.file_name().unwrap().to_string_lossy()).unwrap();
    let limit = Duration::from_secs(60);

    // The object: refused, reported, built again.
    let object = only_file(&store.join("obj"));
    fs::remove_file(&object).unwrap();
    mkfifo(&object);
    let r = Child::new("specialize", &store).limit(limit).run().ok();
    assert_eq!(
        (r.get("origin"), r.get("correct")),
        ("Compiled", "true"),
        "{r:#?}"
    );
    assert!(r.get("last_error").contains("FIFO"), "{r:#?}");
    assert!(
        only_file(&store.join("obj")).is_file(),
        "the FIFO was replaced"
    );

    // The index entry.
    fs::remove_file(&idx).unwrap();
    mkfifo(&idx);
    let r = Child::new("specialize", &store).limit(limit).run().ok();
    eprintln!(
        "a process meeting a FIFO index entry, rebuilding: {:?}",
        r.elapsed
    );
    assert_eq!(
        (r.get("origin"), r.get("correct")),
        ("Compiled", "true"),
        "{r:#?}"
    );
    assert!(idx.is_file());

    // The lock of the build (named after the keys it builds).
    fs::remove_file(&idx).unwrap();
    let lock = store
        .join("lock")
        .join(format!("{}.lock", Hash32::of_parts([key.0.as_slice()])));
    mkfifo(&lock);
    let r = Child::new("specialize", &store).limit(limit).run().ok();
    assert_eq!(
        (r.get("origin"), r.get("correct")),
        ("Compiled", "true"),
        "{r:#?}"
    );
    assert!(!lock.exists(), "the lock is gone after the build");
}

/// A daemon closes every descriptor it does not know; a library loaded by
/// `/proc/self/fd/N` was then found again by name for the next value: the
/// wrong function. Loads go through a name unique to the content, the
/// store's handles are checked before each use, and a store whose handles
/// were closed is opened again.
#[test]
fn a_host_closing_descriptors_gets_no_stale_library() {
    let dir = fresh_dir("close");
    let r = Child::new("closed_fds", &dir.join("store")).run().ok();
    assert_eq!(r.get("first_correct"), "true", "{r:#?}");
    assert_eq!(r.get("dispatch_correct"), "true", "{r:#?}");
    assert_eq!(r.get("first_still_correct"), "true", "{r:#?}");
    if r.get("origin") != "Compiled" && r.get("origin") != "Cached" {
        assert!(r.get("origin").starts_with("none"), "{r:#?}");
    } else {
        assert_eq!(r.get("correct"), "true", "{r:#?}");
    }
}

/// An index entry that names another value's library (a cache shared, or
/// tampered with) was served: each library records the key each of its
/// entries serves, and the loader checks it.
#[test]
fn an_index_entry_naming_another_values_library_is_not_served() {
    let dir = fresh_dir("index");
    let store = dir.join("store");
    for n in ["5", "6"] {
        let r = Child::new("specialize", &store).env(VALUE, n).run().ok();
        assert_eq!(r.get("origin"), "Compiled", "{r:#?}");
    }
    let entries: Vec<PathBuf> = fs::read_dir(store.join("idx"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 2);
    let (a, b) = (
        fs::read(&entries[0]).unwrap(),
        fs::read(&entries[1]).unwrap(),
    );
    fs::write(&entries[0], &b).unwrap();
    fs::write(&entries[1], &a).unwrap();
    for n in ["5", "6"] {
        let r = Child::new("specialize", &store).env(VALUE, n).run().ok();
        assert_eq!(
            (r.get("correct"), r.get("dispatch_correct")),
            ("true", "true"),
            "{r:#?}"
        );
        assert!(
            r.get("last_error").contains("serves another value"),
            "{r:#?}"
        );
    }
    // Lock files and build directories do not pile up.
    assert_eq!(fs::read_dir(store.join("lock")).unwrap().count(), 0);
    assert_eq!(fs::read_dir(store.join("tmp")).unwrap().count(), 0);
}

/// Before: a program whose `STAGED_CACHE_DIR` named a directory of other
/// files (a home directory) made its store's folders there and swept its
/// `tmp/` of everything older than six hours. A directory that holds
/// anything staged did not put there is not made a store: the program runs
/// the generic body, says why, and leaves the directory as it was.
#[test]
fn a_cache_dir_holding_other_files_is_not_made_a_store() {
    let dir = fresh_dir("home-as-cache");
    let home = super::cli::home_like(&dir);
    let before = super::cli::snapshot(&home);
    let r = Child::new("specialize", &home).run().ok();
    assert_generic_only(&r);
    assert!(
        r.get("last_error").contains("is not a staged store"),
        "{r:#?}"
    );
    assert_eq!(super::cli::snapshot(&home), before, "the directory changed");
}

/// A store made before stores were tagged (folders only, no
/// `CACHEDIR.TAG`) gets its tag the first time a program opens it, and is
/// then a store to the `staged` command; what it held is still used.
#[test]
fn a_store_made_before_the_tag_gets_it_when_the_runtime_opens_it() {
    let dir = fresh_dir("untagged");
    let store = dir.join("store");
    let first = Child::new("specialize", &store).run().ok();
    assert_eq!(first.get("origin"), "Compiled", "{first:#?}");
    let tag = store.join("CACHEDIR.TAG");
    // As an earlier staged left it.
    let _ = fs::remove_file(&tag);
    let r = Child::new("specialize", &store).run().ok();
    assert_eq!(
        (r.get("origin"), r.get("correct")),
        ("Cached", "true"),
        "{r:#?}"
    );
    let text = fs::read_to_string(&tag).expect("the runtime tagged the store");
    assert!(
        text.starts_with("Signature: 8a477f597d28d172789f06886806bc55\n"),
        "{text}"
    );
    let run = super::cli::staged(&["cache", "stats", "--dir", store.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:#?}");
}
