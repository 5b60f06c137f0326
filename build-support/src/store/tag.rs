//! The tag that makes a directory a store: a `CACHEDIR.TAG` file (the
//! cache directory tag of <https://bford.info/cachedir/>, so that backup
//! programs skip the cache) whose second line says staged wrote it.
//!
//! The runtime writes it when it makes a store, and adds it to a store made
//! before stores were tagged the first time it opens one, once it has
//! checked that everything there has a name staged gives its entries
//! ([`names`](super::names)); a directory that holds anything else, or
//! another program's tag, is never made a store. The `staged` command works
//! only on tagged stores. A bundle is read as it is, tagged or not, and
//! never tagged.

use rustix::fs::FileType;

use super::dir::{Handle, Peeked};
use super::error::StoreError;
use super::names::{self, BLOBS, EVAL_AREA, FOLDERS, SUPPORT_AREA};

/// The name of the tag, in the store's root.
pub const TAG: &str = "CACHEDIR.TAG";

/// The line every cache directory tag starts with.
const SIGNATURE: &str = "Signature: 8a477f597d28d172789f06886806bc55";
/// The line that says the tag is staged's, as other tools name themselves.
const OURS: &str = "# This file is a cache directory tag created by staged.";

/// What the tag says.
const TEXT: &str = "Signature: 8a477f597d28d172789f06886806bc55
# This file is a cache directory tag created by staged.
# This directory is a staged store: run-time libraries, const_init! results
# and their bookkeeping, managed with `staged cache`. Programs that honour
# cache directory tags (backup tools) skip it. See https://bford.info/cachedir/
";

/// Whether a directory is tagged as a store.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Tagged {
    /// By staged.
    Yes,
    /// Not at all.
    No,
    /// By another program, or with something that is not a tag: not ours
    /// to use or to replace.
    Other(&'static str),
}

/// Reads the tag of the directory `root`, changing nothing.
pub(crate) fn read(root: &Handle) -> Result<Tagged, StoreError> {
    Ok(match root.peek(TAG, 4096)? {
        Peeked::Absent => Tagged::No,
        Peeked::NotAFile => Tagged::Other("its CACHEDIR.TAG is not a regular file"),
        Peeked::File(bytes) => {
            let mut lines = bytes.split(|b| *b == b'\n');
            let signed = lines.next() == Some(SIGNATURE.as_bytes());
            if signed && lines.next() == Some(OURS.as_bytes()) {
                Tagged::Yes
            } else {
                Tagged::Other("its CACHEDIR.TAG was written by another program")
            }
        }
    })
}

/// Checks that `root` is a store tagged by staged.
///
/// # Errors
///
/// [`StoreError::NotAStore`] when it is not tagged, or not by staged.
pub(crate) fn require(root: &Handle) -> Result<(), StoreError> {
    match read(root)? {
        Tagged::Yes => Ok(()),
        Tagged::No => Err(not_a_store(
            root,
            "it has no CACHEDIR.TAG written by staged",
        )),
        Tagged::Other(why) => Err(not_a_store(root, why)),
    }
}

/// Checks that the untagged directory `root` may be made a store: it holds
/// nothing but store folders (or a tag another opener wrote meanwhile),
/// and they hold only entries named as staged names them. An empty
/// directory may; a store made before stores were tagged may.
///
/// # Errors
///
/// [`StoreError::NotAStore`] naming the first entry staged did not write.
pub(crate) fn check_untagged(root: &Handle) -> Result<(), StoreError> {
    for (name, stat) in root.entries() {
        if name == TAG {
            continue;
        }
        let is_dir = FileType::from_raw_mode(stat.st_mode) == FileType::Directory;
        let known = FOLDERS.contains(&name.as_str()) || name == EVAL_AREA || name == SUPPORT_AREA;
        if !(known && is_dir) {
            return Err(stray(root, &name));
        }
        let folder = root.subdir(&name, false)?;
        for (entry, stat) in folder.entries() {
            let ok = match name.as_str() {
                "obj" => names::is_object(&entry),
                "lock" => names::is_lock(&entry),
                "tmp" => names::is_in_tmp(&entry),
                EVAL_AREA if entry == BLOBS => {
                    FileType::from_raw_mode(stat.st_mode) == FileType::Directory
                        && folder
                            .subdir(BLOBS, false)?
                            .entries()
                            .iter()
                            .all(|(blob, _)| names::is_blob(blob))
                }
                // idx, eval, support: by key.
                _ => names::is_key(&entry),
            };
            if !ok {
                return Err(stray(root, &format!("{name}/{entry}")));
            }
        }
    }
    Ok(())
}

/// Tags the store at `root`, writing through `tmp`.
pub(crate) fn write(root: &Handle, tmp: &Handle) -> Result<(), StoreError> {
    tmp.write_atomically(root, TAG, TEXT.as_bytes())
}

fn stray(root: &Handle, name: &str) -> StoreError {
    not_a_store(
        root,
        format!(
            "it has no CACHEDIR.TAG written by staged and holds `{name}`, which staged does not write there"
        ),
    )
}

pub(crate) fn not_a_store(root: &Handle, reason: impl Into<String>) -> StoreError {
    StoreError::NotAStore {
        path: root.path().to_owned(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_is_a_cache_directory_tag_of_staged() {
        let mut lines = TEXT.lines();
        assert_eq!(lines.next(), Some(SIGNATURE));
        assert_eq!(lines.next(), Some(OURS));
        assert!(TEXT.ends_with('\n'));
    }
}
