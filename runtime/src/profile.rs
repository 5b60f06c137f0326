//! Writing the profile (`STAGED_PROFILE`): one line per value a function
//! built or loaded, when it is, with the calls that ran before; and, when
//! the process exits, one more line per value with the calls its variant
//! served since. The format is `staged_build::profile`'s; counts of lines
//! that name the same value add up when read.

use std::path::{Path, PathBuf};

use crate::at_exit;
use crate::config::Config;

/// The profile of the configuration in effect, if one is kept.
pub(crate) fn current() -> Option<PathBuf> {
    Config::current().profile.clone()
}

/// Appends `lines` to the profile at `path`; a failure is logged, and the
/// program goes on.
pub(crate) fn write(path: &Path, lines: &str) {
    if lines.is_empty() {
        return;
    }
    if let Err(e) = staged_build::profile::append(path, lines) {
        log::warn!("staged: cannot write the profile {}: {e}", path.display());
    }
}

/// Writes the calls counted since the last write, of every site.
pub(crate) fn flush() {
    let Some(path) = current() else { return };
    let lines: String = at_exit::sites().iter().map(|s| s.unwritten()).collect();
    write(&path, &lines);
}
