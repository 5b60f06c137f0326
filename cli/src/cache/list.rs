//! `staged cache list`: one line per library, with the function and
//! value(s) of every index entry that points at it, oldest first (the
//! order a prune removes them in); then the index entries that point
//! nowhere, and every entry of the other kinds.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::time::SystemTime;

use staged_build::store::{Hash32, Inventory, Item, Kind, Store};

use super::table::{Rows, age, short};
use crate::units::format_size;

/// The listing of `store`.
pub fn render(store: &Store) -> String {
    let inventory = store.inventory();
    let now = SystemTime::now();
    let mut out = format!("cache {}\n", store.root().display());
    libraries(&mut out, &inventory, now);
    index(&mut out, &inventory, now);
    for kind in [
        Kind::Lock,
        Kind::Build,
        Kind::Evaluated,
        Kind::Blob,
        Kind::Support,
    ] {
        heading(&mut out, &inventory, kind, "");
        let mut rows = Rows::default();
        for item in of_kind(&inventory, kind) {
            row(&mut rows, &short(&item.name), item, now, "");
        }
        rows.write_to(&mut out);
    }
    out
}

/// For each library (its digest), what the index entries pointing at it
/// serve.
fn served_by_library(inventory: &Inventory) -> BTreeMap<Hash32, Vec<String>> {
    let mut served: BTreeMap<Hash32, Vec<String>> = BTreeMap::new();
    for item in of_kind(inventory, Kind::Index) {
        if let Some(Ok(entry)) = &item.entry {
            served
                .entry(entry.object)
                .or_default()
                .push(entry.entry.serves.to_string());
        }
    }
    for list in served.values_mut() {
        list.sort();
        list.dedup();
    }
    served
}

fn libraries(out: &mut String, inventory: &Inventory, now: SystemTime) {
    heading(out, inventory, Kind::Library, ", oldest first");
    let served = served_by_library(inventory);
    let mut libraries: Vec<&Item> = of_kind(inventory, Kind::Library).collect();
    libraries.sort_by_key(|i| i.modified);
    let mut rows = Rows::default();
    for item in libraries {
        let digest = item.object();
        let mut what = digest.and_then(|d| served.get(&d)).into_iter().flatten();
        let first = what
            .next()
            .map_or("(no index entry points here)", String::as_str);
        let name = digest.map_or_else(|| item.name.clone(), |d| d.to_string());
        row(&mut rows, &short(&name), item, now, first);
        for more in what {
            rows.push("", "", "", more);
        }
    }
    rows.write_to(out);
}

/// The index entries not shown with a library: their library is gone, or
/// they cannot be read.
fn index(out: &mut String, inventory: &Inventory, now: SystemTime) {
    let present: HashSet<Hash32> = of_kind(inventory, Kind::Library)
        .filter_map(Item::object)
        .collect();
    let mut shown = 0;
    let mut rows = Rows::default();
    for item in of_kind(inventory, Kind::Index) {
        let detail = match &item.entry {
            Some(Ok(entry)) => {
                if present.contains(&entry.object) {
                    shown += 1;
                    continue;
                }
                format!(
                    "{}, but its library {} is gone",
                    entry.entry.serves,
                    short(&entry.object.to_string())
                )
            }
            Some(Err(why)) => format!("unreadable: {why}"),
            None => "unreadable".to_owned(),
        };
        row(&mut rows, &short(&item.name), item, now, &detail);
    }
    let note = if shown > 0 {
        format!(", {shown} shown with their libraries")
    } else {
        String::new()
    };
    heading(out, inventory, Kind::Index, &note);
    rows.write_to(out);
}

fn of_kind(inventory: &Inventory, kind: Kind) -> impl Iterator<Item = &Item> {
    inventory.items.iter().filter(move |i| i.kind == kind)
}

fn heading(out: &mut String, inventory: &Inventory, kind: Kind, note: &str) {
    let (count, bytes) = inventory.total(kind);
    let _ = writeln!(
        out,
        "\n{}: {count}, {}{note}",
        kind.name(),
        format_size(bytes)
    );
}

fn row(rows: &mut Rows, name: &str, item: &Item, now: SystemTime, detail: &str) {
    rows.push(
        name,
        &format_size(item.size),
        &age(item.modified, now),
        detail,
    );
}
