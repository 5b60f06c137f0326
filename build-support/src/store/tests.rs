use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::*;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    (dir, store)
}

fn publish(store: &Store, bytes: &[u8]) -> Hash32 {
    let dir = store.build_dir().unwrap();
    dir.write("built", bytes).unwrap();
    store.publish_object(&dir, "built").unwrap().digest
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Whether this process may give files away (root), which the tests of
/// other users' directories need.
fn root() -> bool {
    if current_uid() != 0 {
        eprintln!("skipped: needs root to chown a directory to another user");
        return false;
    }
    true
}

use dir::current_uid;

const OTHER_UID: u32 = 54_321;

#[test]
fn published_entries_are_found_and_verified() {
    let (_dir, store) = store();
    let digest = publish(&store, b"library bytes");
    let key = Hash32::of_bytes(b"key");
    assert_eq!(store.lookup(&key).unwrap(), None);
    let entry = IndexEntry {
        key,
        symbol: "__staged_entry_0".into(),
        serves: Serves {
            function: "demo::power".into(),
            values: vec!["13u32".into()],
        },
    };
    store.publish_index(&digest, &entry).unwrap();
    let indexed = store.lookup(&key).unwrap().unwrap();
    assert_eq!((indexed.object, indexed.entry), (digest, entry));
    let object = store.open_object(&digest).unwrap();
    assert_eq!(&*object.bytes, b"library bytes");
    assert_eq!(fs::read(object.load_path()).unwrap(), b"library bytes");
    assert!(
        object
            .load_path()
            .to_string_lossy()
            .ends_with(&format!("{digest}.so"))
    );
    let mode = fs::metadata(store.object_path(&digest))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o500);
    assert_eq!(store.size(), 13);
}

#[test]
fn index_keys_name_the_published_entries_and_nothing_else() {
    let (dir, store) = store();
    assert!(store.index_keys().unwrap().is_empty());
    let before = store.index_modified().unwrap();
    let digest = publish(&store, b"library bytes");
    let keys: Vec<Hash32> = (0..3u8).map(|i| Hash32::of_bytes(&[i])).collect();
    for key in &keys {
        let entry = IndexEntry {
            key: *key,
            symbol: "__staged_entry_0".into(),
            serves: Serves::default(),
        };
        store.publish_index(&digest, &entry).unwrap();
    }
    // A leftover that is no key is not one.
    fs::write(dir.path().join("store/idx/.tmp.1.2"), b"").unwrap();
    let mut listed = store.index_keys().unwrap();
    listed.sort();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(listed, expected);
    store.forget(&keys[0]);
    assert_eq!(store.index_keys().unwrap().len(), 2);
    assert!(store.index_modified().unwrap() >= before);
}

#[test]
fn truncated_or_replaced_objects_are_refused() {
    let (_dir, store) = store();
    let digest = publish(&store, b"library bytes");
    let path = store.object_path(&digest);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&path, b"library").unwrap();
    assert!(matches!(
        store.open_object(&digest),
        Err(StoreError::Corrupt { .. })
    ));
    fs::write(&path, b"junk junk junk").unwrap();
    assert!(matches!(
        store.open_object(&digest),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn garbled_index_entries_are_corrupt() {
    let (_dir, store) = store();
    let key = Hash32::of_bytes(b"key");
    let path = store.root().join("idx").join(key.to_string());
    fs::write(&path, "staged-index v2\nnot a digest\nsym\n").unwrap();
    assert!(matches!(
        store.lookup(&key),
        Err(StoreError::Corrupt { .. })
    ));
    let digest = Hash32::of_bytes(b"x");
    fs::write(
        &path,
        format!("staged-index v2\n{digest}\nbad symbol; rm\n"),
    )
    .unwrap();
    assert!(matches!(
        store.lookup(&key),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn directories_writable_by_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    Store::open(&root).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
    let err = Store::open(&root).unwrap_err();
    assert!(matches!(err, StoreError::Unsafe { .. }), "{err}");
    assert!(err.to_string().contains("writable by others"), "{err}");
    fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(root.join("idx"), fs::Permissions::from_mode(0o770)).unwrap();
    assert!(matches!(Store::open(&root), Err(StoreError::Unsafe { .. })));
}

#[test]
fn an_ancestor_writable_by_others_is_refused_unless_sticky_and_roots() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let err = Store::open(&open.join("a").join("store")).unwrap_err();
    assert!(
        err.to_string()
            .contains("writable by others and not sticky"),
        "{err}"
    );
    // Sticky: fine when root owns it (this test runs as its owner; as root
    // that is the allowed case, otherwise the refused one).
    fs::set_permissions(&open, fs::Permissions::from_mode(0o1777)).unwrap();
    let result = Store::open(&open.join("store"));
    assert_eq!(result.is_ok(), current_uid() == 0, "{result:?}");
}

#[test]
fn an_ancestor_owned_by_another_user_is_refused() {
    if !root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("theirs");
    fs::create_dir(&theirs).unwrap();
    // Mode 0755: the other user cannot be stopped from swapping what is
    // below, since they own it.
    std::os::unix::fs::chown(&theirs, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    let mine = theirs.join("mine");
    fs::create_dir(&mine).unwrap();
    let err = Store::open(&mine.join("store")).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("owned by uid {OTHER_UID}")),
        "{err}"
    );
    // A sticky world-writable directory owned by another user: refused too.
    std::os::unix::fs::chown(&theirs, Some(0), Some(0)).unwrap();
    let sticky = dir.path().join("sticky");
    fs::create_dir(&sticky).unwrap();
    fs::set_permissions(&sticky, fs::Permissions::from_mode(0o1777)).unwrap();
    std::os::unix::fs::chown(&sticky, Some(OTHER_UID), None).unwrap();
    assert!(Store::open(&sticky.join("store")).is_err());
}

#[test]
fn a_relative_root_is_made_absolute_and_its_ancestors_checked() {
    // The relative path resolves from the current directory (the crate's
    // folder under cargo); the store reports the absolute path.
    let dir = tempfile::tempdir().unwrap();
    let relative = pathdiff(dir.path());
    let store = Store::open(&relative.join("store")).unwrap();
    assert!(store.root().is_absolute(), "{:?}", store.root());
    assert_eq!(
        fs::canonicalize(store.root()).unwrap(),
        fs::canonicalize(dir.path().join("store")).unwrap()
    );
}

/// `target` relative to the current directory, through `..`s.
fn pathdiff(target: &std::path::Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap();
    let ups = cwd.components().count() - 1;
    let mut out = PathBuf::new();
    for _ in 0..ups {
        out.push("..");
    }
    out.join(target.strip_prefix("/").unwrap())
}

#[test]
fn symlinks_in_the_path_are_followed_only_when_ours() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let store = Store::open(&link.join("store")).unwrap();
    assert!(store.root().starts_with(&real), "{:?}", store.root());
    assert!(real.join("store").join("obj").is_dir());
    if root() {
        let theirs = dir.path().join("theirs");
        std::os::unix::fs::symlink(&real, &theirs).unwrap();
        std::os::unix::fs::lchown(&theirs, Some(OTHER_UID), None).unwrap();
        let err = Store::open(&theirs.join("store")).unwrap_err();
        assert!(err.to_string().contains("a symlink owned by uid"), "{err}");
    }
}

#[test]
fn files_writable_by_others_are_refused() {
    let (_dir, store) = store();
    let digest = publish(&store, b"bytes");
    fs::set_permissions(
        store.object_path(&digest),
        fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    assert!(matches!(
        store.open_object(&digest),
        Err(StoreError::Unsafe { .. })
    ));
}

#[test]
fn symlinks_in_the_store_are_not_followed() {
    let (dir, store) = store();
    let outside = dir.path().join("outside.so");
    fs::write(&outside, b"bytes").unwrap();
    let digest = Hash32::of_bytes(b"bytes");
    std::os::unix::fs::symlink(&outside, store.object_path(&digest)).unwrap();
    assert!(store.open_object(&digest).is_err());
    assert!(outside.exists(), "the target is left alone");
}

/// A FIFO at an index, object or lock path: refused at once (an open of a
/// FIFO without `O_NONBLOCK` waits for a writer forever), and removed so
/// the next write replaces it.
#[test]
fn fifos_never_block_and_are_replaced() {
    let (_dir, store) = store();
    let key = Hash32::of_bytes(b"fifo");
    let start = Instant::now();
    let idx = store.root().join("idx").join(key.to_string());
    mkfifo(&idx);
    assert!(matches!(
        store.lookup(&key),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(!idx.exists(), "the FIFO is removed");
    assert_eq!(store.lookup(&key).unwrap(), None);

    let digest = Hash32::of_bytes(b"obj");
    mkfifo(&store.object_path(&digest));
    assert!(matches!(
        store.open_object(&digest),
        Err(StoreError::Corrupt { .. })
    ));

    let lock = store.root().join("lock").join(format!("{key}.lock"));
    mkfifo(&lock);
    let held = store.lock(&key, Duration::from_secs(5)).unwrap();
    assert!(held.repaired.is_some());
    assert!(lock.is_file());
    drop(held);

    let area = store.area(EVAL_AREA).unwrap();
    mkfifo(&area.path("entry"));
    assert!(area.read("entry").is_err());
    assert_eq!(area.read("entry").unwrap(), None);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn pruning_removes_the_oldest_objects() {
    let (_dir, store) = store();
    let first = publish(&store, &[1u8; 100]);
    let old = SystemTime::now() - Duration::from_secs(3600);
    fs::File::open(store.object_path(&first))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let second = publish(&store, &[2u8; 100]);
    assert_eq!(store.prune(150), 1);
    assert!(store.open_object(&first).is_err());
    assert!(store.open_object(&second).is_ok());
}

#[test]
fn leftovers_of_dead_builds_are_cleaned() {
    let (_dir, store) = store();
    let tmp = store.root().join("tmp");
    let old = tmp.join("build.1.0.0");
    fs::create_dir(&old).unwrap();
    fs::write(old.join("libvariant.so"), b"partial").unwrap();
    let fresh = tmp.join("build.1.1.0");
    fs::create_dir(&fresh).unwrap();
    let half_written = tmp.join(names::unique_name("entry"));
    fs::write(&half_written, b"half").unwrap();
    let users = [tmp.join("notes.txt"), tmp.join("build-mine")];
    fs::write(&users[0], b"mine").unwrap();
    fs::create_dir(&users[1]).unwrap();
    store.clean_tmp(Duration::from_secs(3600));
    assert!(old.exists() && fresh.exists(), "young leftovers stay");
    store.clean_tmp(Duration::ZERO);
    assert!(!old.exists() && !fresh.exists() && !half_written.exists());
    assert!(users.iter().all(|p| p.exists()), "a user's files stay");
}

fn tag_of(root: &std::path::Path) -> Option<String> {
    fs::read_to_string(root.join(TAG)).ok()
}

const SIGNATURE: &str = "Signature: 8a477f597d28d172789f06886806bc55\n";

#[test]
fn a_new_store_is_tagged_once_its_folders_are_made() {
    let (_dir, store) = store();
    let tag = tag_of(store.root()).expect("tagged");
    assert!(tag.starts_with(SIGNATURE), "{tag}");
    assert!(tag.contains("created by staged"), "{tag}");
    for folder in ["obj", "idx", "lock", "tmp"] {
        assert!(store.root().join(folder).is_dir());
    }
    // An empty directory becomes a store too.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(tag_of(store.root()).is_some());
    assert!(Store::open_tagged(store.root()).is_ok());
    assert!(Store::open_tagged_read_only(store.root()).is_ok());
}

/// Many processes (cargo builds crates in parallel, each expanding its
/// `const_init!` blocks) may make the same store at once: each sees the
/// others' folders, or tag, and none is refused.
#[test]
fn first_opens_at_once_all_succeed() {
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let opened: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| Store::open(&root))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for result in opened {
            assert!(result.is_ok(), "{:?}", result.err());
        }
        assert!(tag_of(&root).is_some());
    }
}

#[test]
fn an_untagged_store_is_tagged_when_opened() {
    let (_dir, store) = store();
    let digest = publish(&store, b"bytes");
    store
        .area(EVAL_AREA)
        .unwrap()
        .area(BLOBS)
        .unwrap()
        .write(&format!("{digest}.bin"), b"b")
        .unwrap();
    fs::write(
        store.root().join("lock").join(format!("{digest}.lock")),
        b"",
    )
    .unwrap();
    let root = store.root().to_owned();
    drop(store);
    fs::remove_file(root.join(TAG)).unwrap();
    assert!(matches!(
        Store::open_tagged(&root),
        Err(StoreError::NotAStore { .. })
    ));
    assert!(tag_of(&root).is_none(), "the command's open does not tag");
    let store = Store::open(&root).unwrap();
    assert!(tag_of(&root).is_some_and(|t| t.starts_with(SIGNATURE)));
    assert!(store.open_object(&digest).is_ok());
}

/// A directory that holds anything staged did not write is not made a
/// store, whether the stray is at the top or in a folder of a store's
/// name; nothing is created, changed or removed there.
#[test]
fn a_directory_of_other_files_is_not_made_a_store() {
    let key = Hash32::of_bytes(b"k").to_string();
    for stray in [
        "notes.txt".to_owned(),
        "src/main.rs".to_owned(),
        "idx/words.txt".to_owned(),
        "obj/library.so".to_owned(),
        "tmp/old-notes.txt".to_owned(),
        format!("eval/blobs/{key}.txt"),
        "support/build.sh".to_owned(),
        format!("lock/{key}"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("home");
        let path = root.join(&stray);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"mine").unwrap();
        let old = SystemTime::now() - Duration::from_secs(30 * 24 * 3600);
        fs::File::open(&path).unwrap().set_modified(old).unwrap();
        let listing = |root: &std::path::Path| {
            let mut all = Vec::new();
            let mut todo = vec![root.to_owned()];
            while let Some(p) = todo.pop() {
                let meta = fs::symlink_metadata(&p).unwrap();
                all.push((p.clone(), meta.modified().unwrap(), meta.len()));
                if meta.is_dir() {
                    todo.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
                }
            }
            all.sort();
            all
        };
        let before = listing(&root);
        for opened in [
            Store::open(&root),
            Store::open_tagged(&root),
            Store::open_tagged_read_only(&root),
        ] {
            match opened {
                Err(StoreError::NotAStore { path, reason }) => {
                    assert_eq!(path, root);
                    assert!(reason.contains("CACHEDIR.TAG"), "{reason}");
                }
                other => panic!("{stray}: {other:?}"),
            }
            assert_eq!(listing(&root), before, "{stray}");
        }
    }
}

/// A cache directory tag another program wrote (cargo's in `target/`) is
/// not staged's: the directory is not used, and the tag not replaced.
#[test]
fn another_programs_tag_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cargo = "Signature: 8a477f597d28d172789f06886806bc55\n\
                 # This file is a cache directory tag created by cargo.\n";
    fs::write(dir.path().join(TAG), cargo).unwrap();
    for opened in [Store::open(dir.path()), Store::open_tagged(dir.path())] {
        let err = opened.unwrap_err();
        assert!(err.to_string().contains("another program"), "{err}");
    }
    assert_eq!(tag_of(dir.path()).as_deref(), Some(cargo));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    // Nor is a tag that is not a file followed or removed.
    fs::remove_file(dir.path().join(TAG)).unwrap();
    fs::create_dir(dir.path().join(TAG)).unwrap();
    assert!(matches!(
        Store::open(dir.path()),
        Err(StoreError::NotAStore { .. })
    ));
    assert!(dir.path().join(TAG).is_dir());
}

/// The command's opens create nothing: not a missing directory, not a
/// folder of a tagged store, not a tag.
#[test]
fn tagged_opens_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    assert!(Store::open_tagged(&missing).unwrap_err().is_not_found());
    assert!(Store::open_tagged_read_only(&missing).is_err());
    assert!(!missing.exists());
    let (_dir, store) = store();
    let root = store.root().to_owned();
    drop(store);
    fs::remove_dir(root.join("lock")).unwrap();
    assert!(Store::open_tagged(&root).is_err());
    assert!(Store::open_tagged_read_only(&root).is_err());
    assert!(!root.join("lock").exists());
}

/// A bundle is read as it is: an untagged one is used, and not tagged.
#[test]
fn a_bundle_is_never_tagged() {
    let (_dir, store) = store();
    let digest = publish(&store, b"bytes");
    let root = store.root().to_owned();
    drop(store);
    fs::remove_file(root.join(TAG)).unwrap();
    let bundle = Store::open_read_only(&root).unwrap();
    assert!(bundle.open_object(&digest).is_ok());
    assert!(tag_of(&root).is_none());
}

#[test]
fn build_dirs_are_private_and_removed_when_done() {
    let (_dir, store) = store();
    let dir = store.build_dir().unwrap();
    let path = dir.path().to_owned();
    let mode = fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    dir.write("variant.rs", b"fn main() {}").unwrap();
    fs::create_dir(path.join("sub")).unwrap();
    fs::write(path.join("sub").join("x"), b"x").unwrap();
    drop(dir);
    assert!(!path.exists());
    assert_eq!(fs::read_dir(store.root().join("tmp")).unwrap().count(), 0);
}

#[test]
fn a_build_output_that_is_not_a_plain_file_is_not_published() {
    let (dir, store) = store();
    let build = store.build_dir().unwrap();
    let outside = dir.path().join("elsewhere");
    fs::write(&outside, b"bytes").unwrap();
    std::os::unix::fs::symlink(&outside, build.path().join("out")).unwrap();
    assert!(store.publish_object(&build, "out").is_err());
    fs::hard_link(&outside, build.path().join("linked")).unwrap();
    assert!(store.publish_object(&build, "linked").is_err());
    assert_eq!(fs::read_dir(store.root().join("obj")).unwrap().count(), 0);
}

#[test]
fn areas_hold_private_files() {
    let (_dir, store) = store();
    let area = store.area(EVAL_AREA).unwrap();
    assert_eq!(area.read("entry").unwrap(), None);
    assert!(!area.has_file("entry").unwrap());
    area.write("entry", b"entry").unwrap();
    assert_eq!(area.read("entry").unwrap().unwrap(), b"entry");
    assert!(area.has_file("entry").unwrap());
    fs::set_permissions(area.path("entry"), fs::Permissions::from_mode(0o666)).unwrap();
    assert!(area.read("entry").is_err());
    assert!(area.has_file("entry").is_err());
    let blobs = area.area(BLOBS).unwrap();
    blobs.write("b.bin", b"blob").unwrap();
    assert_eq!(fs::read(area.path(BLOBS).join("b.bin")).unwrap(), b"blob");
}

#[test]
fn a_key_lock_excludes_other_holders_and_is_removed_after() {
    let (_dir, store) = store();
    let key = Hash32::of_bytes(b"key");
    let path = store.root().join("lock").join(format!("{key}.lock"));
    let guard = store.lock(&key, Duration::from_secs(5)).unwrap();
    let other = fs::File::options().write(true).open(&path).unwrap();
    assert!(other.try_lock().is_err());
    let start = Instant::now();
    let busy = store.lock(&key, Duration::from_millis(200)).unwrap_err();
    assert!(matches!(busy, StoreError::Busy { .. }), "{busy}");
    assert!(start.elapsed() < Duration::from_secs(3));
    drop(guard);
    assert!(!path.exists(), "the lock file is removed by its holder");
    // A waiter that held the old file sees it was removed and takes a new one.
    let again = store.lock(&key, Duration::from_secs(5)).unwrap();
    assert!(path.exists());
    drop(again);
}

#[test]
fn two_threads_never_hold_one_lock_at_once() {
    let (_dir, store) = store();
    let key = Hash32::of_bytes(b"contended");
    let inside = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..25 {
                    let _held = store.lock(&key, Duration::from_secs(30)).unwrap();
                    assert_eq!(inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst), 0);
                    std::thread::yield_now();
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
}

/// No more holders of build slots than there are slots, across threads;
/// one let go is taken again.
#[test]
fn build_slots_are_held_by_at_most_their_number() {
    let (_dir, store) = store();
    let first = store.slot(2, Duration::ZERO).unwrap();
    let second = store.slot(2, Duration::ZERO).unwrap();
    let none = store.slot(2, Duration::ZERO).unwrap_err();
    assert!(
        matches!(none, StoreError::NoSlot { slots: 2, .. }),
        "{none}"
    );
    let start = Instant::now();
    let waited = store.slot(2, Duration::from_millis(200)).unwrap_err();
    assert!(
        waited.to_string().contains("held by running builds for"),
        "{waited}"
    );
    assert!(start.elapsed() >= Duration::from_millis(200));
    drop(first);
    let third = store.slot(2, Duration::ZERO).unwrap();
    drop((second, third));
    let inside = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..25 {
                    let _held = store.slot(2, Duration::from_secs(30)).unwrap();
                    let now = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    assert!(now < 2, "{} holders of 2 slots", now + 1);
                    std::thread::yield_now();
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
}

/// A slot shared with a program, and left to it (a build that outlives
/// its process), stays taken while the program runs and is free once it
/// ends, however it ends.
#[test]
fn a_slot_left_to_a_program_is_held_until_the_program_ends() {
    let (_dir, store) = store();
    let slot = store.slot(1, Duration::ZERO).unwrap();
    let mut cmd = std::process::Command::new("sleep");
    cmd.arg("30");
    slot.share_with(&mut cmd, 9).unwrap();
    let mut holder = cmd.spawn().unwrap();
    drop(cmd);
    slot.leave();
    assert!(
        store.slot(1, Duration::ZERO).is_err(),
        "held by the program"
    );
    holder.kill().unwrap();
    holder.wait().unwrap();
    drop(store.slot(1, Duration::ZERO).unwrap());
}

/// A host that closes descriptors it does not own, and has the number
/// reused: the store notices before using the handle.
#[test]
fn a_replaced_handle_is_noticed() {
    let (dir, store) = store();
    let digest = publish(&store, b"bytes");
    let object = store.open_object(&digest).unwrap();
    let load = object.load_path();
    let fd: i32 = load
        .to_string_lossy()
        .trim_start_matches("/proc/self/fd/")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let elsewhere = fs::File::open(dir.path()).unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: both descriptors are open; `fd` is the store's and is
    // replaced on purpose, as a host closing and reusing it would.
    assert!(unsafe { libc::dup2(elsewhere.as_raw_fd(), fd) } >= 0);
    assert!(object.verify_handles().is_err());
    assert!(store.open_object(&digest).is_err());
}

#[test]
fn a_read_only_store_is_never_written() {
    let (_dir, store) = store();
    let digest = publish(&store, b"bytes");
    let key = Hash32::of_bytes(b"k");
    store
        .publish_index(
            &digest,
            &IndexEntry {
                key,
                symbol: "s".into(),
                serves: Serves::default(),
            },
        )
        .unwrap();
    let bundle = Store::open_read_only(store.root()).unwrap();
    assert!(bundle.lookup(&key).unwrap().is_some());
    assert!(bundle.open_object(&digest).is_ok());
    assert!(matches!(
        bundle.build_dir(),
        Err(StoreError::ReadOnly { .. })
    ));
    assert!(bundle.lock(&key, Duration::ZERO).is_err());
    assert_eq!(bundle.prune(0), 0);
    bundle.forget(&key);
    assert!(store.lookup(&key).unwrap().is_some());
    assert!(Store::open_read_only(&store.root().join("missing")).is_err());
}

#[test]
fn an_object_being_loaded_is_not_pruned() {
    let (_dir, store) = store();
    let dir = store.build_dir().unwrap();
    dir.write("built", b"just built").unwrap();
    let fresh = store.publish_object(&dir, "built").unwrap();
    let found = store.open_object(&publish(&store, b"found")).unwrap();
    assert_eq!(store.prune(0), 0, "both are held until loaded");
    assert_eq!(store.clear().unwrap().removed, 0);
    assert!(store.object_path(&fresh.digest).exists());
    assert!(store.object_path(&found.digest).exists());
    drop(found);
    assert_eq!(store.prune(0), 1);
    drop(fresh);
    assert_eq!(store.clear().unwrap().removed, 1);
    assert_eq!(fs::read_dir(store.root().join("obj")).unwrap().count(), 0);
}

#[test]
fn an_object_a_prune_is_removing_is_a_miss() {
    let (_dir, store) = store();
    let digest = publish(&store, b"bytes");
    let path = store.object_path(&digest);
    let pruner = fs::File::open(&path).unwrap();
    rustix::fs::flock(&pruner, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let err = store.open_object(&digest).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    drop(pruner);
    let opened = fs::File::open(&path).unwrap();
    fs::remove_file(&path).unwrap();
    let err = pin::pin(&opened, &path).unwrap_err();
    assert!(err.is_not_found(), "removed after it was opened: {err}");
}

/// Before: a build that finished (its `done` marker written) while its
/// process was about to publish it could be adopted by another process,
/// or removed by a prune, under that process's feet.
#[test]
fn a_build_dir_in_use_is_neither_adopted_nor_removed() {
    let (_dir, store) = store();
    let key = Hash32::of_bytes(b"k");
    let build = store.build_dir().unwrap();
    let entry = IndexEntry {
        key,
        symbol: "__staged_entry_0".into(),
        serves: Serves {
            function: "f".into(),
            values: vec!["7".into()],
        },
    };
    build.record_entries(std::slice::from_ref(&entry)).unwrap();
    build.write("out", b"library").unwrap();
    build.write(BuildDir::done_marker(), b"").unwrap();
    // Held by this process (as by the build it started): in use.
    assert!(store.orphans().iter().all(|o| o.held));
    assert_eq!(store.clear().unwrap().removed, 0);
    assert!(build.path().exists());
    // Another holder of the directory: a build that outlives its process.
    let path = build.path().to_owned();
    let mut cmd = std::process::Command::new("sleep");
    cmd.arg("30");
    build.set_as_cwd(&mut cmd).unwrap();
    let mut holder = cmd.spawn().unwrap();
    drop(cmd);
    build.leave();
    assert!(path.exists(), "left to its build");
    assert!(
        store.orphans().iter().all(|o| o.held),
        "its build still runs"
    );
    assert_eq!(store.clear().unwrap().removed, 0);
    // Once its build ends, it is adopted.
    holder.kill().unwrap();
    holder.wait().unwrap();
    let orphans = store.orphans();
    assert_eq!(orphans.len(), 1);
    assert!(!orphans[0].held);
    assert_eq!(orphans[0].entries, std::slice::from_ref(&entry));
    store.adopt(&orphans[0], "out").unwrap();
    assert!(!path.exists());
    assert_eq!(store.lookup(&key).unwrap().unwrap().entry, entry);
}

/// Before: a read-only store (a bundle) removed a FIFO, a symlink or a
/// directory it found where an index entry belongs.
#[test]
fn a_read_only_store_removes_nothing_it_finds() {
    let (dir, store) = store();
    let keys: Vec<Hash32> = (0..3u8).map(|i| Hash32::of_bytes(&[i])).collect();
    let idx = store.root().join("idx");
    mkfifo(&idx.join(keys[0].to_string()));
    std::os::unix::fs::symlink(dir.path(), idx.join(keys[1].to_string())).unwrap();
    fs::create_dir(idx.join(keys[2].to_string())).unwrap();
    let bundle = Store::open_read_only(store.root()).unwrap();
    for key in &keys {
        let e = bundle.lookup(key).unwrap_err();
        assert!(e.to_string().contains("read-only"), "{e}");
        bundle.forget(key);
    }
    assert_eq!(
        bundle.clear().map(|p| p.removed).ok(),
        None,
        "clear refused"
    );
    assert_eq!(fs::read_dir(&idx).unwrap().count(), 3, "nothing removed");
}
