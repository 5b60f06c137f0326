//! Objects in use are not removed. A process holds a shared `flock` on an
//! object from the moment it opens it until it has loaded it (for as long as
//! its [`VerifiedObject`](super::VerifiedObject) lives), and a prune removes
//! an object only after taking the exclusive lock without waiting. So a
//! library is never removed between the check of its bytes and the `dlopen`
//! that maps it, whether it was just built or found in the cache; once it is
//! mapped, removing its name does not matter.

use std::fs::File;
use std::path::Path;

use rustix::fs::{FlockOperation, Mode, OFlags};

use super::dir::{Handle, file_id};
use super::error::StoreError;

/// Takes the shared lock on `file`, an object just opened. An object that a
/// prune is removing right now, or removed since it was opened, counts as
/// missing (see [`StoreError::is_not_found`]): the caller builds it again.
pub(crate) fn pin(file: &File, path: &Path) -> Result<(), StoreError> {
    let gone = || StoreError::io(path, std::io::Error::from(std::io::ErrorKind::NotFound));
    // Never wait: the only exclusive holder is a prune about to remove it.
    if rustix::fs::flock(file, FlockOperation::NonBlockingLockShared).is_err() {
        return Err(gone());
    }
    let stat = rustix::fs::fstat(file).map_err(|e| StoreError::io(path, e))?;
    if stat.st_nlink == 0 {
        return Err(gone());
    }
    Ok(())
}

/// Removes the object `name` from `dir` unless a process holds it; whether
/// it did.
pub(crate) fn remove_unpinned(dir: &Handle, name: &str) -> bool {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let Ok(fd) = rustix::fs::openat(dir, name, flags, Mode::empty()) else {
        // Nothing a loader could have opened either (a symlink, say), or
        // already gone.
        let there = dir.stat(name).is_some();
        dir.remove(name);
        return there;
    };
    if rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive).is_err() {
        return false;
    }
    // Only the file that was locked: an identical build may have replaced
    // it since it was opened, and its publisher holds that one.
    let still_named = match (rustix::fs::fstat(&fd), dir.stat(name)) {
        (Ok(locked), Some(named)) => file_id(&locked) == file_id(&named),
        _ => false,
    };
    if still_named {
        dir.remove(name);
    }
    still_named
}
