//! `staged cache prune` and `staged cache clear`: the store removes, safely
//! while other processes use it; this says what went and what stayed.

use std::fmt::Write as _;
use std::time::Duration;

use staged_build::store::{Pruned, Store, StoreError};

use crate::error::CliError;
use crate::units::format_size_and_bytes;

/// Removes entries older than `older_than`, then the oldest libraries and
/// `const_init!` results until they take at most `max_bytes`.
///
/// # Errors
///
/// When the store cannot be written.
pub fn prune(
    store: &Store,
    max_bytes: Option<u64>,
    older_than: Option<Duration>,
) -> Result<String, CliError> {
    let pruned = store
        .prune_by(max_bytes, older_than)
        .map_err(|e| failed(store, e))?;
    Ok(report(store, &pruned, ""))
}

/// Removes everything but what other processes are using.
///
/// # Errors
///
/// When the store cannot be written.
pub fn clear(store: &Store) -> Result<String, CliError> {
    let pruned = store.clear().map_err(|e| failed(store, e))?;
    Ok(report(
        store,
        &pruned,
        ": locks held, builds that may still be running and libraries being loaded stay",
    ))
}

fn failed(store: &Store, source: StoreError) -> CliError {
    CliError::Store {
        dir: store.root().to_owned(),
        source,
    }
}

/// What was removed and what is left.
fn report(store: &Store, pruned: &Pruned, why_left: &str) -> String {
    let mut out = format!(
        "removed {}, {}\n",
        entries(pruned.removed),
        format_size_and_bytes(pruned.bytes)
    );
    let left = store.inventory();
    if !left.items.is_empty() {
        let bytes: u64 = left.items.iter().map(|i| i.size).sum();
        let _ = writeln!(
            out,
            "left {}, {}{why_left}",
            entries(left.items.len()),
            format_size_and_bytes(bytes)
        );
    }
    out
}

fn entries(n: usize) -> String {
    if n == 1 {
        "1 entry".to_owned()
    } else {
        format!("{n} entries")
    }
}
