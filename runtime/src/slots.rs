//! Bounds how many builds run at once on a disk cache, across every
//! function, thread and process: one per core, so that a burst of new
//! values, or a run of short processes each leaving a build behind, does
//! not start dozens of rustc processes on a small machine.
//!
//! Every build holds one of the store's build slots (`Store::slot`, a lock
//! file each) from before its support library to its end, and hands a copy
//! to the build's shell, so that a build that outlives its process still
//! holds its slot. The slot is let go when the last holder ends, however
//! it ends: a crash, a kill or a time limit closes the descriptor.

use std::time::Duration;

use staged_build::store::{KeyLock, Store, StoreError};

use crate::Error;

/// The number of cores, at least 1.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// A build slot of `store`, waiting at most `wait` for one: a caller that
/// waits for its variant waits for a slot too, a background builder or a
/// process leaving builds behind at exit does not (`Duration::ZERO`), and
/// leaves the value to a later process.
///
/// # Errors
///
/// [`Error::NoSlot`] when every slot stayed held; [`Error::Store`] when
/// the slots cannot be used.
pub(crate) fn take(store: &Store, wait: Duration) -> Result<KeyLock, Error> {
    store.slot(cores(), wait).map_err(|e| match e {
        StoreError::NoSlot { .. } => Error::NoSlot(e),
        e => Error::Store(e),
    })
}
