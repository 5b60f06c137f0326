//! Opens a store's root the way the kernel would resolve its path, one
//! component at a time from `/`, checking every directory on the way: each
//! is owned by root or the current user and writable by no one else, except
//! a sticky directory owned by root (like `/tmp`), where others may create
//! entries but cannot rename ours. A user who owns any directory above the
//! store could swap what lies below it, so such a store is refused.
//!
//! Symlinks on the way are followed only when root or the current user owns
//! them; they live in checked directories, so no one else can change them.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use super::dir::{Handle, Owners, current_uid};
use super::error::StoreError;

/// How many symlinks a path may go through, as Linux's limit.
const MAX_SYMLINKS: usize = 40;

/// The absolute form of `path`: a relative one is taken from the current
/// directory, once, before anything is checked.
pub(crate) fn absolute(path: &Path) -> Result<PathBuf, StoreError> {
    if path.is_absolute() {
        return Ok(path.to_owned());
    }
    let cwd = std::env::current_dir().map_err(|e| StoreError::io(path, e))?;
    Ok(cwd.join(path))
}

/// Opens the directory at `path` (absolute), creating missing components
/// (mode 0700) when `create`, and checks every directory from `/` to it.
/// The store root itself must be private to `owners`.
pub(crate) fn open_root(path: &Path, create: bool, owners: Owners) -> Result<Handle, StoreError> {
    let mut queue: VecDeque<Component<'_>> = path.components().collect();
    // Components pushed by symlinks, owned so they outlive the link text.
    let mut expanded: VecDeque<OsString> = VecDeque::new();
    let mut links = 0;
    let mut seen = PathBuf::from("/");
    let mut stack: Vec<(OwnedFd, PathBuf)> = Vec::new();
    let mut current = open_slash()?;
    loop {
        let name: OsString = if let Some(part) = expanded.pop_front() {
            part
        } else if let Some(component) = queue.pop_front() {
            match component {
                Component::RootDir | Component::Prefix(_) => {
                    stack.clear();
                    current = open_slash()?;
                    seen = PathBuf::from("/");
                    continue;
                }
                Component::CurDir => continue,
                Component::ParentDir => OsString::from(".."),
                Component::Normal(n) => n.to_owned(),
            }
        } else {
            break;
        };
        if name == "/" {
            stack.clear();
            current = open_slash()?;
            seen = PathBuf::from("/");
            continue;
        }
        if name == "." || name.is_empty() {
            continue;
        }
        if name == ".." {
            if let Some((fd, path)) = stack.pop() {
                current = fd;
                seen = path;
            }
            continue;
        }
        let here = seen.join(&name);
        let last = expanded.is_empty() && queue.is_empty();
        let fd = match open_dir(&current, &name) {
            Ok(fd) => fd,
            Err(Errno::NOENT) if create => {
                match rustix::fs::mkdirat(&current, name.as_os_str(), Mode::RWXU) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(StoreError::io(&here, e)),
                }
                open_dir(&current, &name).map_err(|e| StoreError::io(&here, e))?
            }
            Err(Errno::LOOP | Errno::NOTDIR) => {
                let target = follow(&current, &name, &here, &mut links)?;
                let mut parts: VecDeque<OsString> = VecDeque::new();
                if target.is_absolute() {
                    parts.push_back(OsString::from("/"));
                }
                parts.extend(target.components().filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_owned()),
                    Component::ParentDir => Some(OsString::from("..")),
                    _ => None,
                }));
                parts.extend(expanded.drain(..));
                expanded = parts;
                continue;
            }
            Err(e) => return Err(StoreError::io(&here, e)),
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| StoreError::io(&here, e))?;
        if !last {
            check_ancestor(&here, &stat)?;
        }
        let previous = std::mem::replace(&mut current, fd);
        stack.push((previous, seen.clone()));
        seen = here;
    }
    Handle::checked(current, seen, owners)
}

fn open_slash() -> Result<OwnedFd, StoreError> {
    let root = Path::new("/");
    let fd = rustix::fs::open(
        root,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| StoreError::io(root, e))?;
    let stat = rustix::fs::fstat(&fd).map_err(|e| StoreError::io(root, e))?;
    check_ancestor(root, &stat)?;
    Ok(fd)
}

fn open_dir(dir: &OwnedFd, name: &OsString) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        name.as_os_str(),
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// The target of the symlink `name` in `dir`, if root or we own it.
fn follow(
    dir: &OwnedFd,
    name: &OsString,
    here: &Path,
    links: &mut usize,
) -> Result<PathBuf, StoreError> {
    let stat = rustix::fs::statat(dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| StoreError::io(here, e))?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::Symlink {
        return Err(StoreError::unsafe_because(here, "not a directory"));
    }
    if stat.st_uid != 0 && stat.st_uid != current_uid() {
        return Err(StoreError::unsafe_because(
            here,
            format!(
                "a symlink owned by uid {}, not by root or the current user",
                stat.st_uid
            ),
        ));
    }
    *links += 1;
    if *links > MAX_SYMLINKS {
        return Err(StoreError::io(here, Errno::LOOP));
    }
    let target = rustix::fs::readlinkat(dir, name.as_os_str(), Vec::new())
        .map_err(|e| StoreError::io(here, e))?;
    use std::os::unix::ffi::OsStrExt;
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(
        target.as_bytes(),
    )))
}

/// A directory above the store: owned by root or us, and writable by no one
/// else unless it is sticky and root's.
fn check_ancestor(path: &Path, stat: &Stat) -> Result<(), StoreError> {
    let uid = current_uid();
    if stat.st_uid != 0 && stat.st_uid != uid {
        return Err(StoreError::unsafe_because(
            path,
            format!(
                "owned by uid {}, who could swap the directories below it (only root or the current user, uid {uid}, may own the directories above a store)",
                stat.st_uid
            ),
        ));
    }
    let others_write = stat.st_mode & 0o022 != 0;
    let sticky = stat.st_mode & 0o1000 != 0;
    if others_write && !(sticky && stat.st_uid == 0) {
        let why = if sticky {
            "writable by others and sticky, but not owned by root"
        } else {
            "writable by others and not sticky"
        };
        return Err(StoreError::unsafe_because(
            path,
            format!("{why} (mode {:o})", stat.st_mode & 0o7777),
        ));
    }
    Ok(())
}
