//! The content-addressed store: libraries built at run time (and, later,
//! evaluated tables), kept on disk so that the next process loads instead of
//! building.
//!
//! ```text
//! <root>/obj/<digest>.so     a library, named by the BLAKE3 digest of its bytes
//! <root>/idx/<key>           "which object and symbol serve this key"
//! <root>/lock/<key>.lock     held while one process builds `key`
//! <root>/tmp/                build directories and files on their way in
//! ```
//!
//! Everything enters by a rename from `tmp/`, so a crash mid-way leaves no
//! file under its final name. Nothing is trusted that is not owned by the
//! current user and writable by no one else, and an object is only handed
//! out after its bytes were hashed and matched its name: a truncated or
//! garbled file is refused, never mapped.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// A 32-byte BLAKE3 hash, written as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The hash of `parts`, each length-prefixed so that no two lists of
    /// parts hash alike.
    pub fn of_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut h = blake3::Hasher::new();
        for part in parts {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
        Self(*h.finalize().as_bytes())
    }

    /// The hash of `bytes`.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// Reads 64 hex digits.
    pub fn parse(hex: &str) -> Option<Self> {
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let digit = |c: u8| (c as char).to_digit(16);
            out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// Why the store cannot be used, or an entry cannot be trusted.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file system operation failed.
    #[error("{path}: {cause}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause, shared so that the error can be cloned.
        cause: Arc<io::Error>,
    },
    /// A directory or file is not ours alone: another user owns it or can
    /// write to it, so nothing from it is loaded.
    #[error("{path} is not safe to load from: {reason}")]
    Unsafe {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored file does not match what was recorded for it.
    #[error("{path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// How it differs.
        reason: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |cause| StoreError::Io {
        path: path.to_owned(),
        cause: Arc::new(cause),
    }
}

/// What the index says serves a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// The digest of the object.
    pub object: Hash32,
    /// The symbol in it.
    pub symbol: String,
}

/// An object whose bytes were read through `file` and matched its digest.
/// Load it through [`VerifiedObject::load_path`], which names this open file,
/// not the path, so the bytes that were checked are the bytes that load.
#[derive(Debug)]
pub struct VerifiedObject {
    file: File,
    path: PathBuf,
    /// The digest it was checked against.
    pub digest: Hash32,
}

impl VerifiedObject {
    /// A path that opens this very file: `/proc/self/fd/N` on Linux.
    pub fn load_path(&self) -> PathBuf {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
        }
        #[cfg(not(target_os = "linux"))]
        {
            self.path.clone()
        }
    }

    /// Where the object lives in the store.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The store under one root directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

const SUBDIRS: [&str; 4] = ["obj", "idx", "lock", "tmp"];
const INDEX_MAGIC: &str = "staged-index v1";
/// Age after which a leftover in `tmp/` belongs to a build that died: far
/// beyond any build's time limit.
const STALE: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

impl Store {
    /// Opens (creating if need be, mode 0700) the store at `root`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] when the root, one of its folders, or the
    /// root's parent (unless sticky, like `/tmp`) can be written by another
    /// user or is owned by one; [`StoreError::Io`] when it cannot be created.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(io_error(root))?;
        if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
            check_parent(parent)?;
        }
        check_private_dir(root)?;
        for sub in SUBDIRS {
            let dir = root.join(sub);
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_error(&dir)(e)),
            }
            check_private_dir(&dir)?;
        }
        let store = Self {
            root: root.to_owned(),
        };
        store.clean_tmp(STALE);
        Ok(store)
    }

    /// Removes what builds that died (killed, crashed) left in `tmp/`: it
    /// never got a final name, so nothing refers to it.
    fn clean_tmp(&self, older_than: std::time::Duration) {
        let Ok(dir) = fs::read_dir(self.root.join("tmp")) else {
            return;
        };
        let now = SystemTime::now();
        for entry in dir.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > older_than));
            if stale {
                let path = entry.path();
                let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
            }
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn index_path(&self, key: &Hash32) -> PathBuf {
        self.root.join("idx").join(key.to_string())
    }

    fn object_path(&self, digest: &Hash32) -> PathBuf {
        self.root.join("obj").join(format!("{digest}.so"))
    }

    /// What serves `key`, if anything was stored for it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] for an index file that cannot be read as one,
    /// [`StoreError::Unsafe`] for one that is not ours alone.
    pub fn lookup(&self, key: &Hash32) -> Result<Option<IndexEntry>, StoreError> {
        let path = self.index_path(key);
        let mut file = match open_private(&path) {
            Ok(f) => f,
            Err(StoreError::Io { cause, .. }) if cause.kind() == io::ErrorKind::NotFound => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io_error(&path))?;
        let corrupt = || StoreError::Corrupt {
            path: path.clone(),
            reason: "not an index entry".into(),
        };
        let mut lines = text.lines();
        if lines.next() != Some(INDEX_MAGIC) {
            return Err(corrupt());
        }
        let object = lines.next().and_then(Hash32::parse).ok_or_else(corrupt)?;
        let symbol = lines
            .next()
            .filter(|s| is_symbol(s))
            .ok_or_else(corrupt)?
            .to_owned();
        Ok(Some(IndexEntry { object, symbol }))
    }

    /// Opens the object `digest`, reads it whole and checks its digest.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when the bytes do not match (a truncated or
    /// replaced file), [`StoreError::Unsafe`] when it is not ours alone,
    /// [`StoreError::Io`] when it is missing.
    pub fn open_object(&self, digest: &Hash32) -> Result<VerifiedObject, StoreError> {
        let path = self.object_path(digest);
        let mut file = open_private(&path)?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).map_err(io_error(&path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let found = Hash32(*hasher.finalize().as_bytes());
        if found != *digest {
            return Err(StoreError::Corrupt {
                path,
                reason: format!("its contents hash to {found}, not to its name"),
            });
        }
        Ok(VerifiedObject {
            file,
            path,
            digest: *digest,
        })
    }

    /// A fresh directory under `tmp/` for a build; removed when dropped.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when it cannot be created.
    pub fn build_dir(&self) -> Result<tempfile::TempDir, StoreError> {
        let tmp = self.root.join("tmp");
        tempfile::Builder::new()
            .prefix("build-")
            .tempdir_in(&tmp)
            .map_err(io_error(&tmp))
    }

    /// Moves a built file into `obj/` under the digest of its bytes, made
    /// read-only, and returns the digest.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the file cannot be read or moved.
    pub fn publish_object(&self, built: &Path) -> Result<Hash32, StoreError> {
        let bytes = fs::read(built).map_err(io_error(built))?;
        let digest = Hash32::of_bytes(&bytes);
        fs::set_permissions(built, fs::Permissions::from_mode(0o500)).map_err(io_error(built))?;
        let target = self.object_path(&digest);
        fs::rename(built, &target).map_err(io_error(&target))?;
        Ok(digest)
    }

    /// Records that `symbol` in object `object` serves `key`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the entry cannot be written.
    pub fn publish_index(&self, key: &Hash32, entry: &IndexEntry) -> Result<(), StoreError> {
        let text = format!("{INDEX_MAGIC}\n{}\n{}\n", entry.object, entry.symbol);
        self.write_atomically(&self.index_path(key), text.as_bytes())
    }

    /// Forgets `key`, after its entry turned out to be corrupt.
    pub fn forget(&self, key: &Hash32) {
        let _ = fs::remove_file(self.index_path(key));
    }

    /// Removes object `digest`, after it turned out to be corrupt.
    pub fn remove_object(&self, digest: &Hash32) {
        let _ = fs::remove_file(self.object_path(digest));
    }

    fn write_atomically(&self, target: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let tmp = self.root.join("tmp");
        let mut file = tempfile::NamedTempFile::new_in(&tmp).map_err(io_error(&tmp))?;
        file.write_all(bytes).map_err(io_error(file.path()))?;
        file.persist(target)
            .map_err(|e| io_error(target)(e.error))?;
        Ok(())
    }

    /// Takes the cross-process lock of `key`, blocking until it is free.
    /// Processes that want the same key build it once: the first builds, the
    /// others find its entry when they get the lock.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the lock file cannot be opened or locked.
    pub fn lock(&self, key: &Hash32) -> Result<KeyLock, StoreError> {
        let path = self.root.join("lock").join(format!("{key}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map_err(io_error(&path))?;
        file.lock().map_err(io_error(&path))?;
        Ok(KeyLock { _file: file })
    }

    /// Total size of the stored objects, in bytes.
    pub fn size(&self) -> u64 {
        self.objects().iter().map(|(_, size, _)| size).sum()
    }

    fn objects(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let Ok(dir) = fs::read_dir(self.root.join("obj")) else {
            return Vec::new();
        };
        dir.filter_map(|e| {
            let e = e.ok()?;
            let meta = e.metadata().ok()?;
            Some((
                e.path(),
                meta.len(),
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            ))
        })
        .collect()
    }

    /// Removes the oldest objects until the store holds at most `max_bytes`
    /// of them; index entries pointing to a removed object become misses.
    /// Returns how many objects were removed.
    pub fn prune(&self, max_bytes: u64) -> usize {
        let mut objects = self.objects();
        let mut total: u64 = objects.iter().map(|(_, s, _)| s).sum();
        if total <= max_bytes {
            return 0;
        }
        objects.sort_by_key(|(_, _, modified)| *modified);
        let mut removed = 0;
        for (path, size, _) in objects {
            if total <= max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= size;
                removed += 1;
            }
        }
        removed
    }
}

impl Store {
    /// The private folder `<root>/<name>` (mode 0700, created on demand), for
    /// kinds of entries other than libraries, such as evaluated
    /// `const_init!` blocks.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] when it exists but is not ours alone,
    /// [`StoreError::Io`] when it cannot be created.
    pub fn area(&self, name: &str) -> Result<PathBuf, StoreError> {
        let dir = self.root.join(name);
        match fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
        {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(&dir)(e)),
        }
        check_private_dir(&dir)?;
        Ok(dir)
    }

    /// The bytes of the file at `path`, or `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] when the file is not ours alone (or is a
    /// symlink), [`StoreError::Io`] when it cannot be read.
    pub fn read_private(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
        let mut file = match open_private(path) {
            Ok(f) => f,
            Err(StoreError::Io { cause, .. }) if cause.kind() == io::ErrorKind::NotFound => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_error(path))?;
        Ok(Some(bytes))
    }

    /// Whether `path` is a regular file that is ours alone, without reading
    /// it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] when it exists but is not ours alone.
    pub fn private_file_exists(path: &Path) -> Result<bool, StoreError> {
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_file() => check_owner_and_mode(path, &meta).map(|()| true),
            Ok(_) => Err(unsafe_because(path, "not a regular file")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error(path)(e)),
        }
    }

    /// Writes `bytes` to `target` (in the store) through a temporary file in
    /// `tmp/` and a rename, so that `target` is either absent or whole.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the file cannot be written or moved.
    pub fn write_file(&self, target: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        self.write_atomically(target, bytes)
    }
}

/// Held while building one key; released when dropped (or when the process
/// dies, so a crashed builder never blocks the others).
#[derive(Debug)]
pub struct KeyLock {
    _file: File,
}

/// A symbol name the loader may look up: an identifier.
fn is_symbol(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Opens `path` for reading without following a symlink, and checks that it
/// is a regular file that we own and no one else can write.
fn open_private(path: &Path) -> Result<File, StoreError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(io_error(path))?;
    let meta = file.metadata().map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(unsafe_because(path, "not a regular file"));
    }
    check_owner_and_mode(path, &meta)?;
    Ok(file)
}

fn check_private_dir(path: &Path) -> Result<(), StoreError> {
    let meta = fs::symlink_metadata(path).map_err(io_error(path))?;
    if !meta.is_dir() {
        return Err(unsafe_because(
            path,
            "not a directory (a symlink is not followed)",
        ));
    }
    check_owner_and_mode(path, &meta)
}

fn check_owner_and_mode(path: &Path, meta: &fs::Metadata) -> Result<(), StoreError> {
    let uid = current_uid();
    if meta.uid() != uid {
        return Err(unsafe_because(
            path,
            &format!(
                "owned by uid {}, not by the current user (uid {uid})",
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(unsafe_because(
            path,
            &format!("writable by others (mode {:o})", meta.mode() & 0o7777),
        ));
    }
    Ok(())
}

/// The root's parent may be shared, like `~/.cache`, but if others can write
/// to it they must not be able to rename our root away: it must be sticky.
fn check_parent(parent: &Path) -> Result<(), StoreError> {
    let meta = fs::metadata(parent).map_err(io_error(parent))?;
    let others_write = meta.mode() & 0o022 != 0;
    let sticky = meta.mode() & 0o1000 != 0;
    if others_write && !sticky {
        return Err(unsafe_because(parent, "writable by others and not sticky"));
    }
    Ok(())
}

fn unsafe_because(path: &Path, reason: &str) -> StoreError {
    StoreError::Unsafe {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        (dir, store)
    }

    fn built(store: &Store, bytes: &[u8]) -> PathBuf {
        let path = store.root().join("tmp").join("built");
        fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn hashes_print_and_parse() {
        let h = Hash32::of_parts([b"a".as_slice(), b"bc".as_slice()]);
        assert_ne!(h, Hash32::of_parts([b"ab".as_slice(), b"c".as_slice()]));
        assert_eq!(Hash32::parse(&h.to_string()), Some(h));
        assert_eq!(Hash32::parse("zz"), None);
    }

    #[test]
    fn published_entries_are_found_and_verified() {
        let (_dir, store) = store();
        let digest = store
            .publish_object(&built(&store, b"library bytes"))
            .unwrap();
        let key = Hash32::of_bytes(b"key");
        assert_eq!(store.lookup(&key).unwrap(), None);
        let entry = IndexEntry {
            object: digest,
            symbol: "__staged_entry_0".into(),
        };
        store.publish_index(&key, &entry).unwrap();
        assert_eq!(store.lookup(&key).unwrap(), Some(entry));
        let object = store.open_object(&digest).unwrap();
        assert_eq!(fs::read(object.load_path()).unwrap(), b"library bytes");
        assert_eq!(store.size(), 13);
    }

    #[test]
    fn truncated_or_replaced_objects_are_refused() {
        let (_dir, store) = store();
        let digest = store
            .publish_object(&built(&store, b"library bytes"))
            .unwrap();
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
        fs::write(
            store.index_path(&key),
            "staged-index v1\nnot a digest\nsym\n",
        )
        .unwrap();
        assert!(matches!(
            store.lookup(&key),
            Err(StoreError::Corrupt { .. })
        ));
        let digest = Hash32::of_bytes(b"x");
        fs::write(
            store.index_path(&key),
            format!("staged-index v1\n{digest}\nbad symbol; rm\n"),
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
    }

    #[test]
    fn files_writable_by_others_are_refused() {
        let (_dir, store) = store();
        let digest = store.publish_object(&built(&store, b"bytes")).unwrap();
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
    fn symlinks_are_not_followed() {
        let (dir, store) = store();
        let outside = dir.path().join("outside.so");
        fs::write(&outside, b"bytes").unwrap();
        let digest = Hash32::of_bytes(b"bytes");
        std::os::unix::fs::symlink(&outside, store.object_path(&digest)).unwrap();
        assert!(store.open_object(&digest).is_err());
    }

    #[test]
    fn pruning_removes_the_oldest_objects() {
        let (_dir, store) = store();
        let first = store.publish_object(&built(&store, &[1u8; 100])).unwrap();
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        File::open(store.object_path(&first))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let second = store.publish_object(&built(&store, &[2u8; 100])).unwrap();
        assert_eq!(store.prune(150), 1);
        assert!(store.open_object(&first).is_err());
        assert!(store.open_object(&second).is_ok());
    }

    #[test]
    fn leftovers_of_dead_builds_are_cleaned() {
        let (_dir, store) = store();
        let old = store.root().join("tmp").join("build-dead");
        fs::create_dir(&old).unwrap();
        fs::write(old.join("libvariant.so"), b"partial").unwrap();
        let fresh = store.root().join("tmp").join("build-running");
        fs::create_dir(&fresh).unwrap();
        store.clean_tmp(std::time::Duration::from_secs(3600));
        assert!(old.exists() && fresh.exists(), "young leftovers stay");
        store.clean_tmp(std::time::Duration::ZERO);
        assert!(!old.exists() && !fresh.exists());
    }

    #[test]
    fn areas_hold_private_files() {
        let (_dir, store) = store();
        let area = store.area("eval").unwrap();
        let file = area.join("entry");
        assert_eq!(Store::read_private(&file).unwrap(), None);
        assert!(!Store::private_file_exists(&file).unwrap());
        store.write_file(&file, b"entry").unwrap();
        assert_eq!(Store::read_private(&file).unwrap().unwrap(), b"entry");
        assert!(Store::private_file_exists(&file).unwrap());
        fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
        assert!(Store::read_private(&file).is_err());
        assert!(Store::private_file_exists(&file).is_err());
    }

    #[test]
    fn a_key_lock_excludes_other_holders() {
        let (_dir, store) = store();
        let key = Hash32::of_bytes(b"key");
        let guard = store.lock(&key).unwrap();
        let path = store.root().join("lock").join(format!("{key}.lock"));
        let other = File::options().write(true).open(&path).unwrap();
        assert!(other.try_lock().is_err());
        drop(guard);
        assert!(other.try_lock().is_ok());
    }
}
