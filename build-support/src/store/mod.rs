//! The content-addressed store: libraries built at run time and evaluated
//! `const_init!` blocks, kept on disk so that the next process loads instead
//! of building.
//!
//! ```text
//! <root>/obj/<digest>.so     a library, named by the BLAKE3 digest of its bytes
//! <root>/idx/<key>           "which object and symbol serve this key" (`index.rs`)
//! <root>/lock/<key>.lock     held while one process builds `key`
//! <root>/lock/slot-<n>.lock  held by each running build: one per core
//! <root>/tmp/                build directories and files on their way in
//! <root>/<area>/             other kinds of entries (`eval/`, `support/`)
//! <root>/CACHEDIR.TAG        the tag that makes the directory a store
//! ```
//!
//! **What is a store.** [`Store::open`] (the runtime and the `const_init!`
//! evaluator) makes a store in a new or empty directory and tags it with a
//! [`TAG`] file (a cache directory tag, which backup tools honour); a store
//! made before stores were tagged gets its tag the first time it is opened
//! so, once everything in it is found to be named as staged names its
//! entries. A directory holding anything else is refused and left as it
//! is. [`Store::open_tagged`] and [`Store::open_tagged_read_only`] (the
//! `staged` command) create nothing and work only on a tagged store;
//! [`Store::open_read_only`] reads a bundle as it is. Sweeping, pruning and
//! clearing remove only entries of the shapes staged writes (`names.rs`),
//! so a file a user put in a store stays.
//!
//! Trust comes from three rules:
//!
//! - **The path is checked once, then never used again.** [`Store::open`]
//!   walks from `/` to the root, checking that every directory is owned by
//!   root or the current user and writable by no one else (a sticky
//!   directory only if root owns it), and keeps the root and its folders as
//!   open handles. Every later access goes through those handles
//!   (`openat`), so a directory swapped after the check cannot redirect a
//!   build or a load.
//! - **Opens never block and never follow.** Files are opened with
//!   `O_NOFOLLOW | O_NONBLOCK` and checked with `fstat` of the descriptor:
//!   a FIFO, a symlink or a directory where a file belongs is refused at
//!   once and removed, so the next write replaces it.
//! - **Everything enters by a rename.** Files are written under a fresh name
//!   in `tmp/` (or in a private build directory) and renamed into place, so
//!   a crash mid-way leaves no file under its final name; an object is only
//!   handed out after the bytes read through the open descriptor hashed to
//!   its name.

mod build_dir;
mod dir;
mod error;
mod hash;
mod index;
mod inventory;
mod lock;
mod mapped;
mod names;
mod pin;
mod tag;
mod walk;

use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use build_dir::BuildDir;
pub use error::StoreError;
pub use hash::Hash32;
pub use index::{IndexEntry, Indexed, Serves};
pub use inventory::{Inventory, Item, Kind, Pruned};
pub use lock::KeyLock;
pub use mapped::ObjectBytes;
pub use names::{BLOBS, EVAL_AREA, SUPPORT_AREA, object_path};
pub use tag::TAG;

use dir::{Handle, Owners};
use names::object_name;
use tag::Tagged;

/// An object whose bytes were read through its open descriptor and hashed
/// to its name. [`VerifiedObject::load_path`] names it through the store's
/// handle on `obj/` and by its digest, so it names these very bytes and no
/// library loaded before under another name. While it lives, no prune
/// removes the object: load it before dropping this.
#[derive(Debug)]
pub struct VerifiedObject {
    /// The bytes that were checked.
    pub bytes: ObjectBytes,
    /// The digest they hash to.
    pub digest: Hash32,
    store: Store,
    /// The open object, holding the shared lock that keeps prunes away.
    _pin: std::fs::File,
}

impl VerifiedObject {
    /// A path that opens this object through the store's handle on `obj/`:
    /// `/proc/self/fd/<obj>/<digest>.so`. Unique per content, so a loader
    /// that remembers libraries by name never confuses two of them.
    pub fn load_path(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/self/fd/{}/{}",
            self.store.inner.obj.as_fd().as_raw_fd(),
            object_name(&self.digest)
        ))
    }

    /// Where the object lives in the store, for messages.
    pub fn path(&self) -> PathBuf {
        self.store.object_path(&self.digest)
    }

    /// Checks, right before loading, that the store's handles still name
    /// the directories that were checked.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] when a handle was closed or replaced.
    pub fn verify_handles(&self) -> Result<(), StoreError> {
        self.store.verify()
    }
}

/// A build left by a process that exited before publishing it.
#[derive(Debug, Clone)]
pub struct Orphan {
    name: String,
    /// Whether a process still holds its directory: the build's last
    /// processes are on their way out (or something it started lives on),
    /// and it cannot be adopted yet.
    pub held: bool,
    /// The index entries it will publish.
    pub entries: Vec<IndexEntry>,
}

/// The store under one root directory. Cloning it shares the handles.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: Handle,
    obj: Handle,
    idx: Handle,
    lock: Arc<Handle>,
    tmp: Arc<Handle>,
    writable: bool,
}

/// How many bytes libraries and `const_init!` results may take together
/// before the oldest are pruned, unless `STAGED_CACHE_MAX_BYTES` says
/// otherwise: 1 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// Age after which a leftover in `tmp/` belongs to a build that died: far
/// beyond any build's time limit.
const STALE: Duration = Duration::from_secs(6 * 3600);

impl Store {
    /// Opens the store at `root` to use it, as the runtime and the
    /// `const_init!` evaluator do; a relative path is taken from the
    /// current directory. A missing or empty directory is made a store
    /// (mode 0700) and tagged; an untagged one whose entries are all named
    /// as staged names them (a store made before stores were tagged) is
    /// tagged. What builds that died left in `tmp/` is removed.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotAStore`] for a directory that holds anything else
    /// or another program's tag (nothing is changed there);
    /// [`StoreError::Unsafe`] when a directory from `/` down to the root or
    /// one of its folders is owned by another user or writable by others
    /// (a sticky directory above the root is fine if root owns it);
    /// [`StoreError::Io`] when it cannot be created.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let root = walk::absolute(root)?;
        let root = walk::open_root(&root, true, Owners::Me)?;
        let tagged = match tag::read(&root)? {
            Tagged::Yes => true,
            Tagged::No => {
                tag::check_untagged(&root)?;
                false
            }
            Tagged::Other(why) => return Err(tag::not_a_store(&root, why)),
        };
        let store = Self::with_folders(root, true, true)?;
        if !tagged {
            // Last: a tagged store has all its folders.
            tag::write(&store.inner.root, &store.inner.tmp)?;
        }
        store.clean_tmp(STALE);
        Ok(store)
    }

    /// Opens the store at `root` for reading only, as a bundle: nothing is
    /// created, written or removed there, and it need not be tagged. It and
    /// every directory above it must be owned by root or the current user
    /// and writable by no one else.
    ///
    /// # Errors
    ///
    /// As [`Store::open`]; a missing folder is [`StoreError::Io`].
    pub fn open_read_only(root: &Path) -> Result<Self, StoreError> {
        let root = walk::absolute(root)?;
        let root = walk::open_root(&root, false, Owners::MeOrRoot)?.into_read_only();
        Self::with_folders(root, false, false)
    }

    /// Opens the existing, tagged store at `root` to prune or clear it, as
    /// the `staged` command does: nothing is created there (not the
    /// directory, a folder or the tag) and nothing is swept on opening.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotAStore`] when `root` is not tagged as a store
    /// (nothing is changed there); otherwise as [`Store::open`], and a
    /// missing directory or folder is [`StoreError::Io`].
    pub fn open_tagged(root: &Path) -> Result<Self, StoreError> {
        let root = walk::absolute(root)?;
        let root = walk::open_root(&root, false, Owners::Me)?;
        tag::require(&root)?;
        Self::with_folders(root, true, false)
    }

    /// Opens the existing, tagged store at `root` to look at it only, as
    /// `staged cache stats` and `list` do: as a bundle, nothing is created,
    /// written or removed there, and a store root owns may be read.
    ///
    /// # Errors
    ///
    /// As [`Store::open_tagged`].
    pub fn open_tagged_read_only(root: &Path) -> Result<Self, StoreError> {
        let root = walk::absolute(root)?;
        let root = walk::open_root(&root, false, Owners::MeOrRoot)?.into_read_only();
        tag::require(&root)?;
        Self::with_folders(root, false, false)
    }

    fn with_folders(root: Handle, writable: bool, create: bool) -> Result<Self, StoreError> {
        let folder = |name| root.subdir(name, create);
        let inner = Inner {
            obj: folder("obj")?,
            idx: folder("idx")?,
            lock: Arc::new(folder("lock")?),
            tmp: Arc::new(folder("tmp")?),
            root,
            writable,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The root directory, for messages.
    pub fn root(&self) -> &Path {
        self.inner.root.path()
    }

    /// Where the object `digest` lives (or would) in this store, for
    /// messages.
    pub fn object_path(&self, digest: &Hash32) -> PathBuf {
        self.inner.obj.join(&object_name(digest))
    }

    /// Whether this store may be written.
    pub fn is_writable(&self) -> bool {
        self.inner.writable
    }

    /// Checks that the store's handles still name the directories that
    /// were checked: a host that closes descriptors it does not own (daemons
    /// do, with `close_range`) may have had their numbers reused.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] when a handle was closed or replaced; the
    /// store must then be opened again.
    pub fn verify(&self) -> Result<(), StoreError> {
        let i = &self.inner;
        i.root.verify()?;
        i.obj.verify()?;
        i.idx.verify()
    }

    fn writable(&self) -> Result<(), StoreError> {
        if self.inner.writable {
            self.inner.tmp.verify()
        } else {
            Err(StoreError::ReadOnly {
                path: self.root().to_owned(),
            })
        }
    }

    /// Removes what builds that died (killed, crashed) left in `tmp/`: it
    /// never got a final name, so nothing refers to it. Only build
    /// directories and files on their way in, by their names.
    fn clean_tmp(&self, older_than: Duration) {
        let now = SystemTime::now();
        let tmp = &self.inner.tmp;
        for (name, stat) in tmp.entries() {
            if !names::is_in_tmp(&name) {
                continue;
            }
            let old = now
                .duration_since(dir::modified(&stat))
                .is_ok_and(|age| age > older_than);
            // A build directory still held is in use, however old.
            let held = rustix::fs::FileType::from_raw_mode(stat.st_mode)
                == rustix::fs::FileType::Directory
                && tmp
                    .subdir(&name, false)
                    .is_ok_and(|d| !build_dir::try_hold(&d));
            if old && !held {
                tmp.remove_tree(&name);
            }
        }
    }

    /// What serves `key`, if anything was stored for it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] for an index entry that cannot be read as one
    /// (or is not a file: it is then removed), [`StoreError::Unsafe`] for
    /// one that is not ours alone.
    pub fn lookup(&self, key: &Hash32) -> Result<Option<Indexed>, StoreError> {
        self.verify()?;
        let name = key.to_string();
        let Some(bytes) = self.inner.idx.read(&name)? else {
            return Ok(None);
        };
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| index::parse_index(key, text))
            .map(Some)
            .ok_or_else(|| StoreError::corrupt(&self.inner.idx.join(&name), "not an index entry"))
    }

    /// The keys the index has entries for, read from the names in `idx/`
    /// (nothing is opened): what [`lookup`](Self::lookup) may find. An
    /// entry may still turn out unusable when looked up.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] when the store's handles were closed or
    /// replaced.
    pub fn index_keys(&self) -> Result<Vec<Hash32>, StoreError> {
        self.verify()?;
        Ok(self
            .inner
            .idx
            .names()
            .iter()
            .filter_map(|name| Hash32::parse(name))
            .collect())
    }

    /// When an index entry was last added or removed (the modification
    /// time of `idx/`), to tell whether [`index_keys`](Self::index_keys)
    /// would answer otherwise; `None` when it cannot be read.
    pub fn index_modified(&self) -> Option<SystemTime> {
        self.inner.idx.modified()
    }

    /// Opens the object `digest`, reads it whole through its descriptor and
    /// checks its digest.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when the bytes do not match (a truncated or
    /// replaced file) or it is not a file, [`StoreError::Unsafe`] when it is
    /// not ours alone, [`StoreError::Io`] when it is missing (check with
    /// [`StoreError::is_not_found`]).
    pub fn open_object(&self, digest: &Hash32) -> Result<VerifiedObject, StoreError> {
        self.verify()?;
        let name = object_name(digest);
        let path = self.inner.obj.join(&name);
        let (file, stat) = self.inner.obj.open_file(&name)?.ok_or_else(|| {
            StoreError::io(&path, std::io::Error::from(std::io::ErrorKind::NotFound))
        })?;
        pin::pin(&file, &path)?;
        let len = usize::try_from(stat.st_size).unwrap_or(0);
        let bytes = ObjectBytes::map(&file, len).map_err(|e| StoreError::io(&path, e))?;
        let found = Hash32::of_bytes(&bytes);
        if found != *digest {
            return Err(StoreError::corrupt(
                &path,
                format!("its contents hash to {found}, not to its name"),
            ));
        }
        Ok(VerifiedObject {
            bytes,
            digest: *digest,
            store: self.clone(),
            _pin: file,
        })
    }

    /// A fresh private directory under `tmp/` for a build; removed when
    /// dropped.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when it cannot be created, [`StoreError::ReadOnly`]
    /// for a bundle.
    pub fn build_dir(&self) -> Result<BuildDir, StoreError> {
        self.writable()?;
        BuildDir::create(&self.inner.tmp)
    }

    /// Moves the file `name` that a build wrote into `dir` to `obj/`, under
    /// the digest of its bytes, made read-only. The file is checked through
    /// its descriptor (a regular file of ours, in our private directory)
    /// and the bytes that were hashed are the bytes that are returned.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the file cannot be read or moved,
    /// [`StoreError::Unsafe`] or [`StoreError::Corrupt`] when it is not a
    /// regular file of ours.
    pub fn publish_object(&self, dir: &BuildDir, name: &str) -> Result<VerifiedObject, StoreError> {
        self.writable()?;
        let (bytes, file) = dir.take_output(name)?;
        let digest = Hash32::of_bytes(&bytes);
        // Pinned before it has a name in `obj/`, so no prune sees it free.
        pin::pin(&file, &dir.path().join(name))?;
        dir.handle()
            .rename(name, &self.inner.obj, &object_name(&digest))?;
        Ok(VerifiedObject {
            bytes: ObjectBytes::owned(bytes),
            digest,
            store: self.clone(),
            _pin: file,
        })
    }

    /// Builds that a process started and did not see through (it exited
    /// first): their directories under `tmp/` hold a finished output, the
    /// `done` marker and the index entries they serve. One still held is listed
    /// (its build wrote the marker and is ending), but not adoptable yet.
    pub fn orphans(&self) -> Vec<Orphan> {
        let tmp = &self.inner.tmp;
        tmp.entries()
            .into_iter()
            .filter(|(name, _)| names::is_build_dir(name))
            .filter_map(|(name, _)| {
                let dir = tmp.subdir(&name, false).ok()?;
                if !dir.has_file(build_dir::DONE).ok()? {
                    return None;
                }
                // Held: its process, or the build it started, still runs.
                let held = !build_dir::try_hold(&dir);
                let text = String::from_utf8(dir.read(build_dir::KEYS).ok()??).ok()?;
                let entries = index::parse_keys(&text);
                Some(Orphan {
                    name,
                    held,
                    entries,
                })
            })
            .collect()
    }

    /// Publishes what `orphan` built (its `output`, checked as a fresh
    /// build's is) and its index entries, and removes its directory.
    ///
    /// # Errors
    ///
    /// As [`Store::publish_object`].
    pub fn adopt(&self, orphan: &Orphan, output: &str) -> Result<VerifiedObject, StoreError> {
        self.writable()?;
        let dir = BuildDir::existing(&self.inner.tmp, &orphan.name)?;
        let object = self.publish_object(&dir, output)?;
        for entry in &orphan.entries {
            self.publish_index(&object.digest, entry)?;
        }
        Ok(object)
    }

    /// Records that `entry` (its symbol, in the object `object`) serves
    /// its key.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the entry cannot be written.
    pub fn publish_index(&self, object: &Hash32, entry: &IndexEntry) -> Result<(), StoreError> {
        self.writable()?;
        let text = index::index_text(object, entry);
        self.inner
            .tmp
            .write_atomically(&self.inner.idx, &entry.key.to_string(), text.as_bytes())
    }

    /// Forgets `key`, after its entry turned out to be unusable.
    pub fn forget(&self, key: &Hash32) {
        if self.inner.writable {
            self.inner.idx.remove(&key.to_string());
        }
    }

    /// Removes object `digest`, after it turned out to be corrupt.
    pub fn remove_object(&self, digest: &Hash32) {
        if self.inner.writable {
            self.inner.obj.remove(&object_name(digest));
        }
    }

    /// Takes the cross-process lock of `key`, waiting at most `wait` for
    /// another holder. Processes that want the same key build it once: the
    /// first builds, the others find its entry when they get the lock.
    ///
    /// # Errors
    ///
    /// [`StoreError::Busy`] when another process held it for all of `wait`;
    /// [`StoreError::Io`] when the lock file cannot be opened or locked.
    pub fn lock(&self, key: &Hash32, wait: Duration) -> Result<KeyLock, StoreError> {
        self.writable()?;
        self.inner.lock.verify()?;
        lock::take(&self.inner.lock, &format!("{key}.lock"), wait)
    }

    /// Takes one of the store's `count` build slots, waiting at most
    /// `wait` for one. Every build holds one for as long as it runs (the
    /// program that builds holds a copy, so a build that outlives its
    /// process keeps it), so that no more than `count` builds run on the
    /// store at once, across processes. Processes that count differently
    /// share the lower slots.
    ///
    /// # Errors
    ///
    /// [`StoreError::NoSlot`] when every slot stayed held for all of
    /// `wait`; [`StoreError::Io`] when a slot cannot be opened or locked.
    pub fn slot(&self, count: usize, wait: Duration) -> Result<KeyLock, StoreError> {
        self.writable()?;
        self.inner.lock.verify()?;
        lock::take_slot(&self.inner.lock, count, wait)
    }

    /// Total size of the stored objects, in bytes.
    pub fn size(&self) -> u64 {
        self.objects().iter().map(|(_, size, _)| size).sum()
    }

    fn objects(&self) -> Vec<(String, u64, SystemTime)> {
        self.inner
            .obj
            .entries()
            .into_iter()
            .filter(|(name, _)| names::is_object(name))
            .map(|(name, stat)| {
                let size = u64::try_from(stat.st_size).unwrap_or(0);
                (name, size, dir::modified(&stat))
            })
            .collect()
    }

    /// Removes the oldest objects until the store holds at most `max_bytes`
    /// of them; index entries pointing to a removed object become misses
    /// (a library already loaded stays mapped, and one that a process is
    /// loading right now stays). Returns how many objects were removed.
    pub fn prune(&self, max_bytes: u64) -> usize {
        if !self.inner.writable {
            return 0;
        }
        let mut objects = self.objects();
        let mut total: u64 = objects.iter().map(|(_, s, _)| s).sum();
        if total <= max_bytes {
            return 0;
        }
        objects.sort_by_key(|(_, _, modified)| *modified);
        let mut removed = 0;
        for (name, size, _) in objects {
            if total <= max_bytes {
                break;
            }
            if pin::remove_unpinned(&self.inner.obj, &name) {
                total -= size;
                removed += 1;
            }
        }
        removed
    }

    /// The private folder `<root>/<name>` (mode 0700, created on demand in
    /// a writable store), for kinds of entries other than libraries, such
    /// as evaluated `const_init!` blocks.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] when it exists but is not ours alone,
    /// [`StoreError::Io`] when it cannot be created.
    pub fn area(&self, name: &str) -> Result<Area, StoreError> {
        let dir = self.inner.root.subdir(name, self.inner.writable)?;
        Ok(Area {
            store: self.clone(),
            dir: Arc::new(dir),
        })
    }
}

/// A folder of the store for entries other than libraries, reached through
/// its handle.
#[derive(Debug, Clone)]
pub struct Area {
    store: Store,
    dir: Arc<Handle>,
}

impl Area {
    /// The folder `name` inside this one.
    ///
    /// # Errors
    ///
    /// As [`Store::area`].
    pub fn area(&self, name: &str) -> Result<Area, StoreError> {
        let dir = self.dir.subdir(name, self.store.inner.writable)?;
        Ok(Area {
            store: self.store.clone(),
            dir: Arc::new(dir),
        })
    }

    /// The bytes of the file `name`, or `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] when the file is not ours alone,
    /// [`StoreError::Corrupt`] when it is not a file (it is then removed),
    /// [`StoreError::Io`] when it cannot be read.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.dir.verify()?;
        self.dir.read(name)
    }

    /// Whether `name` is a regular file of ours, without reading it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] when it exists but is not ours alone.
    pub fn has_file(&self, name: &str) -> Result<bool, StoreError> {
        self.dir.verify()?;
        self.dir.has_file(name)
    }

    /// Writes `bytes` to `name` through a temporary file in `tmp/` and a
    /// rename, so that `name` is either absent or whole.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the file cannot be written or moved.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.store.writable()?;
        self.dir.verify()?;
        self.store
            .inner
            .tmp
            .write_atomically(&self.dir, name, bytes)
    }

    /// The path of `name`, for a program (rustc) that must be given one.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

#[cfg(test)]
mod tests;
