//! What a store holds, for `staged cache stats|list|prune|clear`, and the
//! operations on all of it: every area (libraries, index, locks, build
//! directories, `const_init!` results, support libraries), with sizes, ages
//! and what each library serves. Only entries named as staged names them
//! (`names.rs`) are counted and removed: a user's file put in a store
//! stays. Pruning is safe while other processes use the store: a
//! library is removed only when no process is between reading and loading
//! it (one already loaded stays mapped; a process that looks for it later
//! finds it gone and builds it again), a lock or a build directory only
//! when no process holds it.

use std::time::{Duration, SystemTime};

use rustix::fs::{FileType, FlockOperation, Mode, OFlags};

use super::dir::{Handle, modified};
use super::names::{self, BLOBS, EVAL_AREA, SUPPORT_AREA};
use super::{Hash32, Indexed, Store, StoreError};
use crate::chain::Chain;

/// A build directory nobody holds that is younger than this may be one
/// made a moment ago, not held yet.
const UNHELD_GRACE: Duration = Duration::from_secs(60);

/// What kind of entry an [`Item`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A run-time library, `obj/<digest>.so`.
    Library,
    /// An index entry, `idx/<key>`.
    Index,
    /// A lock file, `lock/<key>.lock`.
    Lock,
    /// A build directory or a file on its way in, under `tmp/`.
    Build,
    /// An evaluated `const_init!` block, `eval/<key>`.
    Evaluated,
    /// A large `const_init!` value, `eval/blobs/<hash>.bin`.
    Blob,
    /// The support library run-time libraries link, one per toolchain,
    /// target, CPU and flags, `support/<key>` ([`SUPPORT_AREA`]).
    Support,
}

impl Kind {
    /// Every kind, in the order of a listing.
    pub const ALL: [Kind; 7] = [
        Self::Library,
        Self::Index,
        Self::Lock,
        Self::Build,
        Self::Evaluated,
        Self::Blob,
        Self::Support,
    ];

    /// Whether entries of this kind count against the cache's size cap
    /// ([`DEFAULT_MAX_BYTES`](super::DEFAULT_MAX_BYTES)): libraries and
    /// `const_init!` results do; the small bookkeeping files and the
    /// support libraries (one per toolchain, each needed by every build
    /// with it) do not.
    pub fn is_capped(self) -> bool {
        matches!(self, Self::Library | Self::Evaluated | Self::Blob)
    }

    /// How the kind reads in a listing.
    pub fn name(self) -> &'static str {
        match self {
            Self::Library => "library",
            Self::Index => "index",
            Self::Lock => "lock",
            Self::Build => "build",
            Self::Evaluated => "const_init",
            Self::Blob => "blob",
            Self::Support => "support",
        }
    }
}

/// One entry of the store.
#[derive(Clone, Debug)]
pub struct Item {
    /// What it is.
    pub kind: Kind,
    /// Its name in its folder.
    pub name: String,
    /// Its size in bytes (of everything in it, for a directory).
    pub size: u64,
    /// When it was last modified.
    pub modified: SystemTime,
    /// For an index entry: what it says (the library, the symbol, and the
    /// function and value it serves), or why it cannot be read.
    pub entry: Option<Result<Indexed, String>>,
}

impl Item {
    /// For a library, the digest that names it.
    pub fn object(&self) -> Option<Hash32> {
        match self.kind {
            Kind::Library => names::object_digest(&self.name),
            _ => None,
        }
    }
}

/// Everything a store holds.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// Every entry, by kind, then name.
    pub items: Vec<Item>,
}

impl Inventory {
    /// The number and total size of the entries of `kind`.
    pub fn total(&self, kind: Kind) -> (usize, u64) {
        self.items
            .iter()
            .filter(|i| i.kind == kind)
            .fold((0, 0), |(n, s), i| (n + 1, s + i.size))
    }
}

/// What a prune removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// How many entries, of every kind.
    pub removed: usize,
    /// How many bytes.
    pub bytes: u64,
}

impl Store {
    /// Everything the store holds, with sizes and ages.
    pub fn inventory(&self) -> Inventory {
        let i = &self.inner;
        let mut items = Vec::new();
        let mut add = |kind: Kind, dir: &Handle, keep: &dyn Fn(&str) -> bool| {
            for (name, stat) in dir.entries() {
                if !keep(&name) {
                    continue;
                }
                let kind_of = FileType::from_raw_mode(stat.st_mode);
                let size = if kind_of == FileType::Directory {
                    tree_size(dir, &name)
                } else {
                    u64::try_from(stat.st_size).unwrap_or(0)
                };
                items.push(Item {
                    kind,
                    name,
                    size,
                    modified: modified(&stat),
                    entry: None,
                });
            }
        };
        // Only what staged writes, by its names: a user's file is neither
        // counted nor removed.
        add(Kind::Library, &i.obj, &names::is_object);
        add(Kind::Index, &i.idx, &names::is_key);
        add(Kind::Lock, &i.lock, &names::is_lock);
        add(Kind::Build, &i.tmp, &names::is_in_tmp);
        if let Ok(eval) = i.root.subdir(EVAL_AREA, false) {
            add(Kind::Evaluated, &eval, &names::is_key);
            if let Ok(blobs) = eval.subdir(BLOBS, false) {
                add(Kind::Blob, &blobs, &names::is_blob);
            }
        }
        if let Ok(support) = i.root.subdir(SUPPORT_AREA, false) {
            add(Kind::Support, &support, &names::is_key);
        }
        for item in &mut items {
            if item.kind == Kind::Index {
                item.entry = Some(match Hash32::parse(&item.name) {
                    Some(key) => match self.lookup(&key) {
                        Ok(Some(entry)) => Ok(entry),
                        Ok(None) => Err("gone".to_owned()),
                        Err(e) => Err(Chain(&e).to_string()),
                    },
                    None => Err("not named by a key".to_owned()),
                });
            }
        }
        items.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        Inventory { items }
    }

    /// Removes, oldest first, entries older than `older_than`, then as many
    /// more as it takes for libraries and `const_init!` results to hold at
    /// most `max_bytes`; locks and build directories in use are left alone,
    /// as are index entries whose library stays. An index entry whose
    /// library is gone is removed too.
    ///
    /// # Errors
    ///
    /// [`StoreError::ReadOnly`] for a bundle.
    pub fn prune_by(
        &self,
        max_bytes: Option<u64>,
        older_than: Option<Duration>,
    ) -> Result<Pruned, StoreError> {
        self.writable()?;
        let now = SystemTime::now();
        let old = |item: &Item| {
            older_than.is_some_and(|limit| {
                now.duration_since(item.modified)
                    .is_ok_and(|age| age > limit)
            })
        };
        let mut pruned = Pruned::default();
        let inventory = self.inventory();
        let mut sized: Vec<&Item> = inventory
            .items
            .iter()
            .filter(|i| i.kind.is_capped())
            .collect();
        sized.sort_by_key(|i| i.modified);
        let mut total: u64 = sized.iter().map(|i| i.size).sum();
        let mut gone_objects = Vec::new();
        for item in sized {
            let over = max_bytes.is_some_and(|max| total > max);
            if !(over || old(item)) {
                continue;
            }
            if self.remove_item(item) {
                total = total.saturating_sub(item.size);
                pruned.removed += 1;
                pruned.bytes += item.size;
                gone_objects.extend(item.object());
            }
        }
        for item in &inventory.items {
            let dangling = match &item.entry {
                Some(Ok(entry)) => gone_objects.contains(&entry.object),
                Some(Err(_)) => true,
                None => false,
            };
            let idle = matches!(item.kind, Kind::Lock | Kind::Build | Kind::Support) && old(item);
            if (item.kind == Kind::Index && (dangling || old(item)) || idle)
                && self.remove_item(item)
            {
                pruned.removed += 1;
                pruned.bytes += item.size;
            }
        }
        Ok(pruned)
    }

    /// Removes everything the store holds but what other processes are
    /// using right now (a lock held, a build directory being written).
    ///
    /// # Errors
    ///
    /// [`StoreError::ReadOnly`] for a bundle.
    pub fn clear(&self) -> Result<Pruned, StoreError> {
        self.writable()?;
        let mut pruned = Pruned::default();
        for item in self.inventory().items {
            if self.remove_item(&item) {
                pruned.removed += 1;
                pruned.bytes += item.size;
            }
        }
        Ok(pruned)
    }

    /// Removes `item` if no process is using it; whether it did.
    fn remove_item(&self, item: &Item) -> bool {
        let i = &self.inner;
        match item.kind {
            Kind::Library => return super::pin::remove_unpinned(&i.obj, &item.name),
            Kind::Index => i.idx.remove(&item.name),
            Kind::Lock => {
                // Only a lock nobody holds: take it without waiting.
                let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
                let Ok(fd) = rustix::fs::openat(&*i.lock, item.name.as_str(), flags, Mode::empty())
                else {
                    return false;
                };
                if rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive).is_err() {
                    return false;
                }
                i.lock.remove(&item.name);
            }
            Kind::Build => {
                // A build still running, or whose process is about to
                // publish it, holds its directory; one nobody holds is
                // dead, unless it was made a moment ago (it is held just
                // after it is made).
                let Ok(dir) = i.tmp.subdir(&item.name, false) else {
                    return false;
                };
                let young = SystemTime::now()
                    .duration_since(item.modified)
                    .map_or(true, |age| age < UNHELD_GRACE);
                if !super::build_dir::try_hold(&dir) || (young && !self.build_is_done(&item.name)) {
                    return false;
                }
                i.tmp.remove_tree(&item.name);
            }
            Kind::Evaluated | Kind::Blob => {
                let Ok(eval) = i.root.subdir(EVAL_AREA, false) else {
                    return false;
                };
                if item.kind == Kind::Evaluated {
                    eval.remove(&item.name);
                } else if let Ok(blobs) = eval.subdir(BLOBS, false) {
                    blobs.remove(&item.name);
                }
            }
            // A build reads it whole and checks its digest before using
            // it, so one removed meanwhile is a miss, not a broken build.
            Kind::Support => match i.root.subdir(SUPPORT_AREA, false) {
                Ok(support) => support.remove(&item.name),
                Err(_) => return false,
            },
        }
        true
    }

    /// Whether the build directory `name` holds a finished build.
    fn build_is_done(&self, name: &str) -> bool {
        self.inner
            .tmp
            .subdir(name, false)
            .is_ok_and(|d| d.has_file(super::build_dir::DONE).unwrap_or(false))
    }
}

/// The size of everything under `name` in `dir`.
fn tree_size(dir: &Handle, name: &str) -> u64 {
    let Ok(sub) = dir.subdir(name, false) else {
        return 0;
    };
    sub.entries()
        .into_iter()
        .map(|(n, stat)| {
            if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
                tree_size(&sub, &n)
            } else {
                u64::try_from(stat.st_size).unwrap_or(0)
            }
        })
        .sum()
}
