//! `staged cache stats`: per kind of entry, how many, how large, the oldest
//! and the newest; the total; and whether the cache is over its cap.

use std::fmt::Write as _;
use std::time::SystemTime;

use staged_build::store::{Item, Kind, Store};

use super::table::age;
use crate::config::MAX_BYTES_VAR;
use crate::units::{format_size, format_size_and_bytes};

/// The statistics of `store`, whose libraries and `const_init!` results
/// may take `max_bytes`.
pub fn render(store: &Store, max_bytes: u64) -> String {
    let inventory = store.inventory();
    let now = SystemTime::now();
    let mut out = format!("cache {}\n\n", store.root().display());
    row(
        &mut out,
        ["kind", "entries", "size", "bytes", "oldest", "newest"],
    );
    let mut all = Vec::new();
    for kind in Kind::ALL {
        let items: Vec<&Item> = inventory.items.iter().filter(|i| i.kind == kind).collect();
        let (count, bytes) = inventory.total(kind);
        summary(&mut out, kind.name(), count, bytes, &items, now);
        all.extend(items);
    }
    let total: u64 = all.iter().map(|i| i.size).sum();
    summary(&mut out, "total", all.len(), total, &all, now);
    let capped: u64 = all
        .iter()
        .filter(|i| i.kind.is_capped())
        .map(|i| i.size)
        .sum();
    if capped > max_bytes {
        let _ = write!(
            out,
            "\nover the cap: libraries and const_init results take {},\n\
             more than the {} ({max_bytes} bytes) that {MAX_BYTES_VAR} allows;\n\
             `staged cache prune` removes the oldest\n",
            format_size_and_bytes(capped),
            format_size(max_bytes),
        );
    }
    out
}

/// One kind's line.
fn summary(
    out: &mut String,
    name: &str,
    count: usize,
    bytes: u64,
    items: &[&Item],
    now: SystemTime,
) {
    let oldest = items.iter().map(|i| i.modified).min();
    let newest = items.iter().map(|i| i.modified).max();
    let when = |t: Option<SystemTime>| t.map_or_else(|| "-".to_owned(), |t| age(t, now));
    row(
        out,
        [
            name,
            &count.to_string(),
            &format_size(bytes),
            &bytes.to_string(),
            &when(oldest),
            &when(newest),
        ],
    );
}

fn row(out: &mut String, [kind, entries, size, bytes, oldest, newest]: [&str; 6]) {
    let _ = writeln!(
        out,
        "{kind:<11}{entries:>8}{size:>11}{bytes:>13}{oldest:>8}{newest:>8}"
    );
}
