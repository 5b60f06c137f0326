//! Private directories for builds, under `tmp/`, reached through a handle.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;
use std::sync::Arc;

use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;

use super::dir::{Handle, Owners, check_private, current_uid};
use super::error::StoreError;
use super::index::IndexEntry;
use super::names::unique_name;

/// The file a build's shell writes once rustc succeeded, so that a later
/// process can adopt the build of one that exited first.
pub(crate) const DONE: &str = "done";
/// The file that says which keys a build serves, and by which symbols.
pub(crate) const KEYS: &str = "keys";

/// A fresh directory (mode 0700) for one build, removed with everything in
/// it when dropped. A program that builds here gets it as its working
/// directory through the handle ([`BuildDir::as_fd`] and `fchdir`), and is
/// given relative paths only.
#[derive(Debug)]
pub struct BuildDir {
    dir: Handle,
    tmp: Arc<Handle>,
    name: String,
    /// Left to a build that outlives this process: not removed.
    left: bool,
}

impl BuildDir {
    /// The existing build directory `name` under `tmp/`, checked like a
    /// fresh one, to adopt what a process that exited left there.
    ///
    /// # Errors
    ///
    /// [`StoreError::Busy`] while a process or the build it started still
    /// holds the directory: it is not left behind.
    pub(super) fn existing(tmp: &Arc<Handle>, name: &str) -> Result<Self, StoreError> {
        let dir = tmp.subdir(name, false)?;
        if !try_hold(&dir) {
            return Err(StoreError::Busy {
                path: dir.path().to_owned(),
                waited: std::time::Duration::ZERO,
            });
        }
        Ok(Self {
            dir,
            tmp: tmp.clone(),
            name: name.to_owned(),
            left: false,
        })
    }

    pub(super) fn create(tmp: &Arc<Handle>) -> Result<Self, StoreError> {
        loop {
            let name = unique_name("build").trim_start_matches('.').to_owned();
            match rustix::fs::mkdirat(tmp.as_fd(), name.as_str(), Mode::RWXU) {
                Ok(()) => {}
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(StoreError::io(&tmp.join(&name), e)),
            }
            let dir = match tmp.subdir(&name, false) {
                Ok(dir) if try_hold(&dir) => dir,
                Ok(dir) => {
                    tmp.remove_tree(&name);
                    return Err(StoreError::io(dir.path(), Errno::WOULDBLOCK));
                }
                Err(e) => {
                    tmp.remove_tree(&name);
                    return Err(e);
                }
            };
            return Ok(Self {
                dir,
                tmp: tmp.clone(),
                name,
                left: false,
            });
        }
    }

    /// Where the directory is, for messages and for programs that cannot
    /// be given a handle.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Creates the file `name` here with `bytes`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when it exists already or cannot be written.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let mut file = self.dir.create_new(name)?;
        file.write_all(bytes)
            .map_err(|e| StoreError::io(&self.dir.join(name), e))
    }

    /// Makes this directory the working directory of the program `cmd`
    /// runs, through the handle (`fchdir` in the child), so that a path is
    /// never resolved again; give the program relative paths only. The
    /// program inherits the handle, and with it the hold on the directory:
    /// a build that outlives this process is not taken for one left behind
    /// until it ends.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the handle cannot be duplicated.
    pub fn set_as_cwd(&self, cmd: &mut std::process::Command) -> Result<(), StoreError> {
        use std::os::unix::process::CommandExt;
        // The command keeps its own copy of the handle, so it stays valid
        // however long the command lives, at a number no descriptor handed
        // to the program at a fixed one overwrites.
        let fd =
            crate::process::handed(self.dir.as_fd()).map_err(|e| StoreError::io(self.path(), e))?;
        // SAFETY: the closure runs in the child between fork and exec and
        // only calls fchdir and fcntl, which are async-signal-safe, on a
        // descriptor the closure owns.
        unsafe {
            cmd.pre_exec(move || {
                rustix::process::fchdir(&fd)?;
                if libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(())
    }

    /// Records the index entries the build will publish, for a process
    /// that adopts the build if this one exits first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the file cannot be written.
    pub fn record_entries(&self, entries: &[IndexEntry]) -> Result<(), StoreError> {
        self.write(KEYS, super::index::keys_text(entries).as_bytes())
    }

    /// The name of the file whose presence says that the build is done.
    pub fn done_marker() -> &'static str {
        DONE
    }

    pub(super) fn handle(&self) -> &Handle {
        &self.dir
    }

    /// The bytes a build wrote to `name`, checked as
    /// [`Store::publish_object`](super::Store::publish_object) checks them
    /// (a regular file of ours with a single name), for an output kept
    /// elsewhere than among the libraries.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when it cannot be read, [`StoreError::Unsafe`]
    /// when it is not a regular file of ours.
    pub fn read_output(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        self.take_output(name).map(|(bytes, _)| bytes)
    }

    /// Opens what a build wrote to `name`, checks through the descriptor
    /// that it is a regular file of ours with a single name, makes it
    /// read-only and reads it; returns the bytes and the open file.
    pub(super) fn take_output(&self, name: &str) -> Result<(Vec<u8>, File), StoreError> {
        let path = self.dir.join(name);
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(self.dir.as_fd(), name, flags, Mode::empty())
            .map_err(|e| StoreError::io(&path, e))?;
        let stat = rustix::fs::fstat(&fd).map_err(|e| StoreError::io(&path, e))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile || stat.st_nlink != 1 {
            return Err(StoreError::unsafe_because(
                &path,
                "the build's output is not a regular file with one name",
            ));
        }
        if stat.st_uid != current_uid() {
            return Err(StoreError::unsafe_because(
                &path,
                format!("the build's output is owned by uid {}", stat.st_uid),
            ));
        }
        rustix::fs::fchmod(&fd, Mode::RUSR | Mode::XUSR).map_err(|e| StoreError::io(&path, e))?;
        let stat = rustix::fs::fstat(&fd).map_err(|e| StoreError::io(&path, e))?;
        check_private(&path, &stat, Owners::Me)?;
        let mut file = File::from(fd);
        let mut bytes = Vec::with_capacity(usize::try_from(stat.st_size).unwrap_or(0));
        file.read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(&path, e))?;
        Ok((bytes, file))
    }
}

impl AsFd for BuildDir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }
}

impl BuildDir {
    /// Leaves the directory to a build that outlives this process: it is
    /// not removed, and a later process adopts what the build leaves there
    /// once it is done (see [`Store::orphans`](super::Store::orphans)).
    pub fn leave(mut self) {
        self.left = true;
    }
}

impl Drop for BuildDir {
    fn drop(&mut self) {
        if !self.left {
            self.tmp.remove_tree(&self.name);
        }
    }
}

/// Takes the exclusive hold on the build directory `dir` without waiting
/// (an `flock` on its descriptor, kept while the descriptor, or a copy a
/// build inherited, is open); whether it was free.
pub(super) fn try_hold(dir: &Handle) -> bool {
    rustix::fs::flock(dir, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok()
}
