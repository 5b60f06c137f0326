//! Cross-process locks, one file per key under `lock/`, held with `flock`;
//! and the store's build slots, `lock/slot-<n>.lock`, one of which every
//! build holds, so that no more builds run at once on a store than it has
//! slots, whichever processes started them.
//!
//! A lock file is removed by its holder when it lets go, so the folder does
//! not fill up. That is safe because a taker checks, once it holds the lock,
//! that the name still refers to the file it locked; if the holder removed
//! it in the meantime, the taker starts over with a fresh file.
//!
//! Waiting is bounded: a process of the same user that holds a lock forever
//! (stopped, or hostile) makes the waiter give up with [`StoreError::Busy`],
//! and the caller runs the generic body, instead of hanging.

use std::fs::File;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use rustix::fs::{FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use super::dir::{Handle, check_private, file_id};
use super::error::StoreError;

/// Held while building one key (or holding one build slot); released
/// (and its file removed) when dropped, or when the process dies, so a
/// crashed builder never blocks the others.
///
/// A program it is shared with ([`KeyLock::share_with`]) holds it too,
/// for as long as it runs: a build that outlives this process (which exits
/// first) keeps others from building the same keys, or from taking its
/// slot, until it is done.
#[derive(Debug)]
pub struct KeyLock {
    /// What stood at the lock's name and was replaced (a FIFO, a symlink),
    /// for the caller to report.
    pub repaired: Option<String>,
    file: File,
    dir: std::sync::Arc<Handle>,
    name: String,
    /// Left to a program it is shared with: its name is not removed.
    left: bool,
}

impl KeyLock {
    /// Lets the program `cmd` runs hold the lock too, as its descriptor
    /// `at` (see [`hand_at`](crate::process::hand_at)), for as long as it
    /// keeps it open.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the lock's descriptor cannot be copied.
    pub fn share_with(&self, cmd: &mut std::process::Command, at: RawFd) -> Result<(), StoreError> {
        crate::process::hand_at(cmd, &self.file, at)
            .map_err(|e| StoreError::io(&self.dir.join(&self.name), e))
    }

    /// Lets go of this process's hold without removing the lock's name:
    /// for a lock shared with a program that outlives this process (a
    /// build left behind), which holds it from now on. Removing the name
    /// would let another process take the lock at once.
    pub fn leave(mut self) {
        self.left = true;
    }
}

impl Drop for KeyLock {
    fn drop(&mut self) {
        // Remove the name while still holding the lock, then let go (the
        // file closes after this): a waiter that wakes on the old file sees
        // it was removed and retries.
        if !self.left {
            self.dir.remove(&self.name);
        }
    }
}

/// Takes the lock `name` in `dir`, waiting at most `wait` for another holder.
pub(crate) fn take(
    dir: &std::sync::Arc<Handle>,
    name: &str,
    wait: Duration,
) -> Result<KeyLock, StoreError> {
    let path = dir.join(name);
    let start = Instant::now();
    let mut pause = Duration::from_micros(500);
    let mut repaired = None;
    loop {
        let file = open_lock_file(dir, name, &mut repaired)?;
        let ours = rustix::fs::fstat(&file).map_err(|e| StoreError::io(&path, e))?;
        let still_named = || {
            dir.stat(name)
                .is_some_and(|now| file_id(&now) == file_id(&ours))
        };
        let held = loop {
            match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => break true,
                Err(Errno::WOULDBLOCK | Errno::INTR) => {}
                Err(e) => return Err(StoreError::io(&path, e)),
            }
            // The holder removed the name (and a forked child of it may keep
            // the old file locked): start over with the file under the name.
            if !still_named() {
                break false;
            }
            let waited = start.elapsed();
            if waited >= wait {
                return Err(StoreError::Busy { path, waited });
            }
            std::thread::sleep(pause.min(wait - waited));
            pause = (pause * 2).min(Duration::from_millis(20));
        };
        if !held {
            continue;
        }
        // Held: is it still the file under that name?
        match dir.stat(name) {
            Some(now) if file_id(&now) == file_id(&ours) => {
                return Ok(KeyLock {
                    repaired,
                    file,
                    dir: dir.clone(),
                    name: name.to_owned(),
                    left: false,
                });
            }
            // Removed by the holder we waited for: take a fresh one.
            _ => continue,
        }
    }
}

/// Takes the first free of the `count` slot locks in `dir` (`slot-0.lock`
/// and on), waiting at most `wait` for one to be let go.
pub(crate) fn take_slot(
    dir: &std::sync::Arc<Handle>,
    count: usize,
    wait: Duration,
) -> Result<KeyLock, StoreError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        for n in 0..count.max(1) {
            match take(dir, &format!("slot-{n}.lock"), Duration::ZERO) {
                Err(StoreError::Busy { .. }) => {}
                taken => return taken,
            }
        }
        let waited = start.elapsed();
        if waited >= wait {
            return Err(StoreError::NoSlot {
                path: dir.path().to_owned(),
                slots: count.max(1),
                // Not the microseconds it took to look, when not asked to wait.
                waited: if wait.is_zero() { wait } else { waited },
            });
        }
        std::thread::sleep(pause.min(wait - waited));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Opens (creating) the lock file without blocking and without following a
/// symlink; anything but a regular file of ours there is removed.
fn open_lock_file(
    dir: &Handle,
    name: &str,
    repaired: &mut Option<String>,
) -> Result<File, StoreError> {
    let path = dir.join(name);
    for _ in 0..3 {
        let flags =
            OFlags::CREATE | OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(dir, name, flags, Mode::RUSR | Mode::WUSR) {
            Ok(fd) => fd,
            Err(e @ (Errno::LOOP | Errno::ISDIR | Errno::NXIO)) => {
                *repaired = Some(format!(
                    "{}: replaced what stood there ({e})",
                    path.display()
                ));
                dir.remove_tree(name);
                continue;
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| StoreError::io(&path, e))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            *repaired = Some(format!(
                "{}: replaced something that was not a file",
                path.display()
            ));
            dir.remove_tree(name);
            continue;
        }
        check_private(&path, &stat, super::dir::Owners::Me)?;
        return Ok(File::from(fd));
    }
    Err(StoreError::corrupt(
        &path,
        "keeps being replaced by something other than a file",
    ))
}
