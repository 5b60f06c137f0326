//! Bounds how many builds run at once, across every function and thread: one
//! per core, so that a burst of new values does not start dozens of rustc
//! processes.

use std::sync::{Condvar, Mutex, OnceLock};

struct Permits {
    free: Mutex<usize>,
    freed: Condvar,
}

fn permits() -> &'static Permits {
    static PERMITS: OnceLock<Permits> = OnceLock::new();
    PERMITS.get_or_init(|| Permits {
        free: Mutex::new(cores()),
        freed: Condvar::new(),
    })
}

/// The number of cores, at least 1.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Held while building; returns its permit when dropped.
pub(crate) struct Permit(());

/// Waits for a free permit.
pub(crate) fn acquire() -> Permit {
    let p = permits();
    let mut free = p.free.lock().unwrap_or_else(|e| e.into_inner());
    while *free == 0 {
        free = p.freed.wait(free).unwrap_or_else(|e| e.into_inner());
    }
    *free -= 1;
    Permit(())
}

impl Drop for Permit {
    fn drop(&mut self) {
        let p = permits();
        *p.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        p.freed.notify_one();
    }
}
