//! The index: which symbol of which library serves a key. One entry type,
//! [`IndexEntry`], goes from the runtime that builds a library into its
//! build directory (so that a process adopting the build publishes the
//! same entries), then into the index, and back out to the runtime and to
//! `staged cache list`; this module alone writes and reads its text.
//!
//! ```text
//! idx/<key>             staged-index v2
//!                       <digest of the library>
//!                       <symbol>
//!                       <function>→<value>→…
//! tmp/build.…/keys      <key>→<symbol>→<function>→<value>→…   (one line per entry)
//! ```
//!
//! (`→` is a tab.) What an entry serves is for people only; the loader
//! checks which key each entry of a library serves on the library itself.

use std::fmt;

use super::hash::Hash32;

/// The first line of an index entry.
const MAGIC: &str = "staged-index v2";

/// What an index entry serves, for people: a function and its value(s).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Serves {
    /// The function's path (`demo::power`); empty when not recorded.
    pub function: String,
    /// Its value(s), as the literal renderer writes them (`13u32`), in
    /// the order of its parameters.
    pub values: Vec<String>,
}

impl fmt::Display for Serves {
    /// As a call reads: `demo::power 13u32`, `demo::f 3u32, true`, or
    /// `(not recorded)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.function.is_empty() {
            return f.write_str("(not recorded)");
        }
        f.write_str(&self.function)?;
        if !self.values.is_empty() {
            write!(f, " {}", self.values.join(", "))?;
        }
        Ok(())
    }
}

impl Serves {
    /// Its fields, separated by tabs, on one line (literals and paths hold
    /// no tab; a line break is dropped).
    fn encode(&self) -> String {
        let mut text = self.function.clone();
        for value in &self.values {
            text.push('\t');
            text.push_str(value);
        }
        text.retain(|c| c != '\n');
        text
    }

    fn decode(text: &str) -> Self {
        let mut fields = text.split('\t');
        Self {
            function: fields.next().unwrap_or_default().to_owned(),
            values: fields.map(str::to_owned).collect(),
        }
    }
}

/// One entry of the index: `symbol`, in a library, serves `key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// The key it serves.
    pub key: Hash32,
    /// The library's entry symbol.
    pub symbol: String,
    /// What it serves, for people.
    pub serves: Serves,
}

/// An entry as the index holds it: with the library it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indexed {
    /// The digest of the library.
    pub object: Hash32,
    /// The entry.
    pub entry: IndexEntry,
}

/// The text of `idx/<key>` for `entry`, in the library `object`.
pub(super) fn index_text(object: &Hash32, entry: &IndexEntry) -> String {
    format!(
        "{MAGIC}\n{object}\n{}\n{}\n",
        entry.symbol,
        entry.serves.encode()
    )
}

/// The entry of `key` that `text` (the contents of `idx/<key>`) holds;
/// `None` when it is not one.
pub(super) fn parse_index(key: &Hash32, text: &str) -> Option<Indexed> {
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return None;
    }
    let object = lines.next().and_then(Hash32::parse)?;
    let symbol = lines.next().filter(|s| is_symbol(s))?.to_owned();
    let serves = Serves::decode(lines.next().unwrap_or_default());
    Some(Indexed {
        object,
        entry: IndexEntry {
            key: *key,
            symbol,
            serves,
        },
    })
}

/// The record of a build's entries, kept in its directory.
pub(super) fn keys_text(entries: &[IndexEntry]) -> String {
    entries
        .iter()
        .map(|e| format!("{}\t{}\t{}\n", e.key, e.symbol, e.serves.encode()))
        .collect()
}

/// The entries a build's record holds; lines that are not one are left
/// out.
pub(super) fn parse_keys(text: &str) -> Vec<IndexEntry> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, '\t');
            let key = Hash32::parse(fields.next()?)?;
            let symbol = fields.next().filter(|s| is_symbol(s))?.to_owned();
            let serves = Serves::decode(fields.next().unwrap_or_default());
            Some(IndexEntry {
                key,
                symbol,
                serves,
            })
        })
        .collect()
}

/// A symbol name the loader may look up: an identifier.
fn is_symbol(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serves(function: &str, values: &[&str]) -> Serves {
        Serves {
            function: function.to_owned(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    #[test]
    fn what_an_entry_serves_reads_as_a_call() {
        assert_eq!(
            serves("demo::power", &["13u32"]).to_string(),
            "demo::power 13u32"
        );
        assert_eq!(
            serves("demo::f", &["3u32", "true"]).to_string(),
            "demo::f 3u32, true"
        );
        assert_eq!(Serves::default().to_string(), "(not recorded)");
        assert_eq!(Serves::decode(""), Serves::default());
    }

    #[test]
    fn entries_read_back_as_written() {
        let entry = IndexEntry {
            key: Hash32::of_bytes(b"key"),
            symbol: "__staged_entry_0".to_owned(),
            serves: serves("demo::f", &["\"a b\"", "(1u8, 2u8, )"]),
        };
        let object = Hash32::of_bytes(b"library");
        let text = index_text(&object, &entry);
        assert_eq!(
            text,
            format!(
                "staged-index v2\n{object}\n__staged_entry_0\ndemo::f\t\"a b\"\t(1u8, 2u8, )\n"
            )
        );
        let indexed = parse_index(&entry.key, &text).unwrap();
        assert_eq!((indexed.object, &indexed.entry), (object, &entry));
        let other = IndexEntry {
            key: Hash32::of_bytes(b"other"),
            serves: Serves::default(),
            ..entry.clone()
        };
        let record = keys_text(&[entry.clone(), other.clone()]);
        assert_eq!(record.lines().count(), 2);
        assert_eq!(parse_keys(&record), [entry, other]);
    }

    #[test]
    fn what_is_not_an_entry_is_refused() {
        let key = Hash32::of_bytes(b"key");
        let digest = Hash32::of_bytes(b"library");
        assert!(parse_index(&key, &format!("staged-index v1\n{digest}\ns\n")).is_none());
        assert!(parse_keys(&format!("{key}\tbad symbol\tf\nnot a key\ts\tf\n")).is_empty());
        let line_break = IndexEntry {
            key,
            symbol: "s".to_owned(),
            serves: serves("f", &["1\n2"]),
        };
        let parsed = parse_index(&key, &index_text(&digest, &line_break)).unwrap();
        assert_eq!(parsed.entry.serves, serves("f", &["12"]));
    }
}
