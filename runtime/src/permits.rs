//! Bounds how many builds run at once, across every function and thread: one
//! per core, so that a burst of new values does not start dozens of rustc
//! processes.

use std::sync::{Condvar, Mutex, OnceLock};

struct Permits {
    /// Free permits, and the process they were counted in: a child forked
    /// while its parent's threads held permits starts with all of them.
    free: Mutex<(usize, u32)>,
    freed: Condvar,
}

fn permits() -> &'static Permits {
    static PERMITS: OnceLock<Permits> = OnceLock::new();
    PERMITS.get_or_init(|| Permits {
        free: Mutex::new((cores(), std::process::id())),
        freed: Condvar::new(),
    })
}

/// The number of cores, at least 1.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Held while building; returns its permit when dropped.
pub(crate) struct Permit(u32);

/// Waits for a free permit.
pub(crate) fn acquire() -> Permit {
    let p = permits();
    let me = std::process::id();
    let mut free = p.free.lock().unwrap_or_else(|e| e.into_inner());
    if free.1 != me {
        *free = (cores(), me);
    }
    while free.0 == 0 {
        free = p.freed.wait(free).unwrap_or_else(|e| e.into_inner());
    }
    free.0 -= 1;
    Permit(me)
}

impl Drop for Permit {
    fn drop(&mut self) {
        let p = permits();
        let mut free = p.free.lock().unwrap_or_else(|e| e.into_inner());
        // A permit taken before a fork is not returned to the child's count.
        if free.1 == self.0 {
            free.0 += 1;
        }
        drop(free);
        p.freed.notify_one();
    }
}
