//! What a process does when it exits normally (by returning from `main` or
//! calling `exit`): the builds it wanted but had not started are started
//! and left to finish after it (a later process adopts them), the builds it
//! had started are given a moment to start rustc (which then outlives it
//! too), and the profile gets the calls counted since it was last written.
//! A process that is killed or aborts does none of this.

use std::sync::{Mutex, Once};
use std::time::Duration;

use crate::engine::wait_for_starts;
use crate::profile;

/// How long an exiting process waits for its builds to start rustc.
const START_GRACE: Duration = Duration::from_millis(500);

/// A function whose values need something done at exit.
pub(crate) trait Site: Sync {
    /// Starts the builds of the values it wants but has no variant for,
    /// and leaves them to finish after this process.
    fn leave_builds_behind(&'static self);
    /// The profile lines of the calls counted since they were last written.
    fn unwritten(&self) -> String;
}

static SITES: Mutex<Vec<&'static dyn Site>> = Mutex::new(Vec::new());

/// Remembers `site` until the process exits.
pub(crate) fn remember(site: &'static dyn Site) {
    let mut sites = SITES.lock().unwrap_or_else(|e| e.into_inner());
    if !sites.iter().any(|s| std::ptr::addr_eq(*s, site)) {
        sites.push(site);
    }
    drop(sites);
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: `atexit` has no preconditions; the handler only reads
        // statics, starts processes and appends to a file, and never
        // unwinds.
        if unsafe { libc::atexit(at_exit) } != 0 {
            log::warn!("staged: builds queued at exit will be lost, and the profile will miss their last calls");
        }
    });
}

/// The sites remembered so far.
pub(crate) fn sites() -> Vec<&'static dyn Site> {
    SITES.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

extern "C" fn at_exit() {
    // Nothing may unwind out of an exit handler.
    let _ = std::panic::catch_unwind(|| {
        for site in sites() {
            site.leave_builds_behind();
        }
        wait_for_starts(START_GRACE);
        profile::flush();
    });
}
