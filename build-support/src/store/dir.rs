//! A directory of the store as an open handle, and everything done inside it
//! through that handle (`openat` and friends), so that no path is resolved
//! again once the directory was checked.
//!
//! Every open is `O_NOFOLLOW | O_NONBLOCK` and is followed by an `fstat` of
//! the very descriptor: a symlink, a FIFO, a device or a directory where a
//! file should be is refused without blocking, and removed so that the next
//! write replaces it.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use super::error::StoreError;
use super::names::unique_name;

/// Who may own the files and directories of a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owners {
    /// The current user (a cache this process writes).
    Me,
    /// The current user or root (a read-only bundle, which a package or a
    /// container layer installs as root).
    MeOrRoot,
}

impl Owners {
    fn allow(self, uid: u32) -> bool {
        uid == current_uid() || (self == Self::MeOrRoot && uid == 0)
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Me => "the current user",
            Self::MeOrRoot => "root or the current user",
        }
    }
}

/// The effective user id of this process.
pub(crate) fn current_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// An open, checked directory.
#[derive(Debug)]
pub(crate) struct Handle {
    /// Closed on drop only if it is still ours: a host that closed it may
    /// have the number in use for something of its own.
    fd: ManuallyDrop<OwnedFd>,
    path: PathBuf,
    /// Device and inode, to notice a descriptor that the host closed and
    /// that now names something else.
    id: (u64, u64),
    owners: Owners,
    /// In a store opened for reading only (a bundle): nothing is removed,
    /// whatever is found.
    read_only: bool,
}

/// What [`Handle::peek`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Peeked {
    /// Nothing by that name.
    Absent,
    /// Something other than a regular file (a directory, a symlink, a FIFO).
    NotAFile,
    /// A regular file of the handle's owners; its first bytes.
    File(Vec<u8>),
}

/// The flags of every open in the store.
fn base_flags() -> OFlags {
    OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC
}

pub(crate) fn file_id(stat: &Stat) -> (u64, u64) {
    (stat.st_dev, stat.st_ino)
}

/// When the entry was last modified.
// The fields' integer types differ between platforms.
#[allow(clippy::useless_conversion)]
pub(crate) fn modified(stat: &Stat) -> std::time::SystemTime {
    let secs = u64::try_from(stat.st_mtime).unwrap_or(0);
    let nanos = u32::try_from(stat.st_mtime_nsec).unwrap_or(0);
    std::time::UNIX_EPOCH + std::time::Duration::new(secs, nanos.min(999_999_999))
}

impl Handle {
    /// Wraps `fd`, an open directory at `path`, after checking that it is a
    /// private directory of `owners`.
    pub(crate) fn checked(fd: OwnedFd, path: PathBuf, owners: Owners) -> Result<Self, StoreError> {
        let stat = rustix::fs::fstat(&fd).map_err(|e| StoreError::io(&path, e))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
            return Err(StoreError::unsafe_because(&path, "not a directory"));
        }
        check_private(&path, &stat, owners)?;
        Ok(Self {
            fd: ManuallyDrop::new(fd),
            id: file_id(&stat),
            path,
            owners,
            read_only: false,
        })
    }

    /// This handle, and the handles opened from it, remove nothing.
    pub(crate) fn into_read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Where this directory is, for messages.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// `name` inside this directory, for messages and for programs that
    /// must be given a path.
    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Checks that the descriptor still names the directory that was
    /// checked: a host that closes descriptors it does not own (daemons do)
    /// may have had the number reused for something else.
    pub(crate) fn verify(&self) -> Result<(), StoreError> {
        match rustix::fs::fstat(&*self.fd) {
            Ok(stat) if file_id(&stat) == self.id => Ok(()),
            _ => Err(StoreError::unsafe_because(
                &self.path,
                "its open handle was closed or replaced by the program",
            )),
        }
    }

    /// The subdirectory `name`, created (mode 0700) if `create` and missing.
    pub(crate) fn subdir(&self, name: &str, create: bool) -> Result<Handle, StoreError> {
        let path = self.join(name);
        if create {
            match rustix::fs::mkdirat(&*self.fd, name, Mode::RWXU) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(StoreError::io(&path, e)),
            }
        }
        let flags = base_flags() | OFlags::DIRECTORY | OFlags::RDONLY;
        let fd = match rustix::fs::openat(&*self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::LOOP | Errno::NOTDIR) => {
                return Err(StoreError::unsafe_because(
                    &path,
                    "not a directory (a symlink is not followed)",
                ));
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        let sub = Handle::checked(fd, path, self.owners)?;
        Ok(if self.read_only {
            sub.into_read_only()
        } else {
            sub
        })
    }

    /// Opens the file `name` for reading. `None` when there is none; an
    /// entry that is not a regular file of ours (a FIFO, a symlink, a
    /// directory) is refused without blocking and removed.
    pub(crate) fn open_file(&self, name: &str) -> Result<Option<(File, Stat)>, StoreError> {
        let path = self.join(name);
        let flags = base_flags() | OFlags::RDONLY;
        let fd = match rustix::fs::openat(&*self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(Errno::LOOP) => {
                self.remove(name);
                return Err(StoreError::corrupt(
                    &path,
                    format!("a symlink, not a file{}", self.removed()),
                ));
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| StoreError::io(&path, e))?;
        let kind = FileType::from_raw_mode(stat.st_mode);
        if kind != FileType::RegularFile {
            if kind == FileType::Directory {
                self.remove_tree(name);
            } else {
                self.remove(name);
            }
            return Err(StoreError::corrupt(
                &path,
                format!(
                    "{} where a file belongs{}",
                    describe_kind(kind),
                    self.removed()
                ),
            ));
        }
        check_private(&path, &stat, self.owners)?;
        Ok(Some((File::from(fd), stat)))
    }

    /// At most `max` bytes of the file `name`, for a file that may not be
    /// the store's (a tag): whatever is found there is left as it is.
    pub(crate) fn peek(&self, name: &str, max: u64) -> Result<Peeked, StoreError> {
        let path = self.join(name);
        // Looked at before it is opened: opening a device can do things.
        match rustix::fs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile => {}
            Ok(_) => return Ok(Peeked::NotAFile),
            Err(Errno::NOENT) => return Ok(Peeked::Absent),
            Err(e) => return Err(StoreError::io(&path, e)),
        }
        let flags = base_flags() | OFlags::RDONLY;
        let fd = match rustix::fs::openat(&*self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(Peeked::Absent),
            Err(Errno::LOOP) => return Ok(Peeked::NotAFile),
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| StoreError::io(&path, e))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Ok(Peeked::NotAFile);
        }
        check_private(&path, &stat, self.owners)?;
        let mut bytes = Vec::new();
        File::from(fd)
            .take(max)
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(&path, e))?;
        Ok(Peeked::File(bytes))
    }

    /// The whole file `name`, or `None` when there is none.
    pub(crate) fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some((mut file, stat)) = self.open_file(name)? else {
            return Ok(None);
        };
        let mut bytes = Vec::with_capacity(usize::try_from(stat.st_size).unwrap_or(0));
        file.read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(&self.join(name), e))?;
        Ok(Some(bytes))
    }

    /// Whether `name` is a regular file of ours, without opening it.
    pub(crate) fn has_file(&self, name: &str) -> Result<bool, StoreError> {
        let path = self.join(name);
        match rustix::fs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile => {
                check_private(&path, &stat, self.owners).map(|()| true)
            }
            Ok(_) => Err(StoreError::unsafe_because(&path, "not a regular file")),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    /// Creates the file `name`, which must not exist, for writing.
    pub(crate) fn create_new(&self, name: &str) -> Result<File, StoreError> {
        let flags = base_flags() | OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY;
        rustix::fs::openat(&*self.fd, name, flags, Mode::RUSR | Mode::WUSR)
            .map(File::from)
            .map_err(|e| StoreError::io(&self.join(name), e))
    }

    /// Writes `bytes` to `name` in `target`: first to a fresh file here,
    /// then renamed, so that `name` is either absent or whole.
    pub(crate) fn write_atomically(
        &self,
        target: &Handle,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let temp = unique_name(name);
        let mut file = self.create_new(&temp)?;
        let written = file
            .write_all(bytes)
            .map_err(|e| StoreError::io(&self.join(&temp), e))
            .and_then(|()| self.rename(&temp, target, name));
        if written.is_err() {
            self.remove(&temp);
        }
        written
    }

    /// Renames `from` here to `to` in `target`, replacing what was there.
    pub(crate) fn rename(&self, from: &str, target: &Handle, to: &str) -> Result<(), StoreError> {
        rustix::fs::renameat(&*self.fd, from, &*target.fd, to)
            .map_err(|e| StoreError::io(&target.join(to), e))
    }

    /// Removes the file `name`, if it is there.
    pub(crate) fn remove(&self, name: &str) {
        if !self.read_only {
            let _ = rustix::fs::unlinkat(&*self.fd, name, AtFlags::empty());
        }
    }

    /// What happens to a bad entry found here, for messages.
    fn removed(&self) -> &'static str {
        if self.read_only {
            " (left: the store is read-only)"
        } else {
            " (removed)"
        }
    }

    /// Removes `name` and, if it is a directory, everything in it, without
    /// following symlinks.
    pub(crate) fn remove_tree(&self, name: &str) {
        if self.read_only {
            return;
        }
        if rustix::fs::unlinkat(&*self.fd, name, AtFlags::empty()).is_ok() {
            return;
        }
        let flags = base_flags() | OFlags::DIRECTORY | OFlags::RDONLY;
        if let Ok(fd) = rustix::fs::openat(&*self.fd, name, flags, Mode::empty())
            && let Ok(stat) = rustix::fs::fstat(&fd)
        {
            let inner = Handle {
                fd: ManuallyDrop::new(fd),
                path: self.join(name),
                id: file_id(&stat),
                owners: self.owners,
                read_only: self.read_only,
            };
            for (entry, _) in inner.entries() {
                inner.remove_tree(&entry);
            }
        }
        let _ = rustix::fs::unlinkat(&*self.fd, name, AtFlags::REMOVEDIR);
    }

    /// The names in this directory (but `.` and `..`), each with what
    /// `lstat` says of it; entries that vanish while listing are skipped.
    pub(crate) fn entries(&self) -> Vec<(String, Stat)> {
        let Ok(mut dir) = rustix::fs::Dir::read_from(&*self.fd) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while let Some(Ok(entry)) = dir.read() {
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            let Some(name) = name.to_str() else { continue };
            if name == "." || name == ".." {
                continue;
            }
            if let Ok(stat) = rustix::fs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                out.push((name.to_owned(), stat));
            }
        }
        out
    }

    /// The names in this directory (but `.` and `..`), without a `stat`
    /// of each: one `getdents` per few hundred names.
    pub(crate) fn names(&self) -> Vec<String> {
        let Ok(mut dir) = rustix::fs::Dir::read_from(&*self.fd) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while let Some(Ok(entry)) = dir.read() {
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if let Some(name) = name.to_str()
                && name != "."
                && name != ".."
            {
                out.push(name.to_owned());
            }
        }
        out
    }

    /// When this directory last changed (an entry added, removed or
    /// renamed), by `fstat` of its handle.
    pub(crate) fn modified(&self) -> Option<std::time::SystemTime> {
        rustix::fs::fstat(&*self.fd)
            .ok()
            .map(|stat| modified(&stat))
    }

    /// The `stat` of `name` here, not following a symlink.
    pub(crate) fn stat(&self, name: &str) -> Option<Stat> {
        rustix::fs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW).ok()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.verify().is_ok() {
            // SAFETY: dropped once, here; the descriptor is still the one
            // this handle opened.
            unsafe { ManuallyDrop::drop(&mut self.fd) };
        }
    }
}

impl AsFd for Handle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn describe_kind(kind: FileType) -> &'static str {
    match kind {
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symlink",
        _ => "something other than a file",
    }
}

/// Owned by `owners` and writable by no one else.
pub(crate) fn check_private(path: &Path, stat: &Stat, owners: Owners) -> Result<(), StoreError> {
    if !owners.allow(stat.st_uid) {
        return Err(StoreError::unsafe_because(
            path,
            format!(
                "owned by uid {}, not by {} (uid {})",
                stat.st_uid,
                owners.describe(),
                current_uid()
            ),
        ));
    }
    if stat.st_mode & 0o022 != 0 {
        return Err(StoreError::unsafe_because(
            path,
            format!("writable by others (mode {:o})", stat.st_mode & 0o7777),
        ));
    }
    Ok(())
}
