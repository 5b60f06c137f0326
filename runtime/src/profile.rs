//! Writing the profile (`STAGED_PROFILE`): one line per value a function
//! built or loaded, when it is, with the calls that ran before; and, when
//! the process exits, one more line per value with the calls its variant
//! served since. The format is `staged_build::profile`'s; counts of lines
//! that name the same value add up when read.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

use crate::config::Config;

/// A site whose values are in the profile.
pub(crate) trait Profiled: Sync {
    /// The lines of the calls counted since they were last written.
    fn unwritten(&self) -> String;
}

static SITES: Mutex<Vec<&'static dyn Profiled>> = Mutex::new(Vec::new());

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

/// Remembers `site`, whose counts are written when the process exits.
pub(crate) fn remember(site: &'static dyn Profiled) {
    let mut sites = SITES.lock().unwrap_or_else(|e| e.into_inner());
    if !sites.iter().any(|s| std::ptr::addr_eq(*s, site)) {
        sites.push(site);
    }
    drop(sites);
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: `atexit` has no preconditions; `flush` only reads the
        // sites (statics) and appends to a file.
        if unsafe { libc::atexit(flush_at_exit) } != 0 {
            log::warn!("staged: the profile will not get the calls counted until exit");
        }
    });
}

/// Writes the calls counted since the last write, of every site.
pub(crate) fn flush() {
    let Some(path) = current() else { return };
    let sites: Vec<&'static dyn Profiled> = SITES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let lines: String = sites.iter().map(|s| s.unwritten()).collect();
    write(&path, &lines);
}

extern "C" fn flush_at_exit() {
    // Nothing may unwind out of an exit handler.
    let _ = std::panic::catch_unwind(flush);
}
