//! Value profiles: which run-time values a program built or loaded, for a
//! later build to promote to static variants (`promote`), for `staged
//! profile show|merge`, and for review in version control.
//!
//! The format is text, one value per line, its fields separated by tabs
//! (shown as `→` here), stable:
//!
//! ```text
//! # staged profile v1
//! # crate→function→fingerprint→calls→value...
//! demo→demo::kernels::hash_rows→3f0c…e1→32→42u64
//! demo→demo::power→9a7d…02→1→13u32
//! ```
//!
//! - `crate` and `function` (its module path) name the function;
//!   `fingerprint` is the digest of its source the macro computed, so an
//!   entry of a function that changed since is recognized as stale.
//! - `calls` counts calls with that value: those that ran the generic body
//!   before its variant was ready, then, written when the process exits,
//!   those the variant served.
//! - each `value` is a literal of the specialized parameter, as staged's
//!   literal renderer writes it (`7u32`, `"a\tb"`, `'c'`,
//!   `::core::primitive::f64::from_bits(0x4004000000000000u64)`, and for
//!   structured values `&[self::Pred::Not(1u8), self::Pred::Always]`,
//!   `(::core::option::Option::Some(-3i32), "x", )`), in the order of the
//!   parameters; literals hold spaces and commas but never a tab or a line
//!   break (strings and characters escape them).
//!
//! Lines starting with `#` and blank lines are ignored. Lines that differ
//! only in `calls` are one value: their counts add up when read. Processes
//! may append to one file at once: each writes its lines with a single
//! `write` to a file opened for appending, so lines are never torn.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// The first line of a profile.
pub const HEADER: &str = "# staged profile v1\n# crate\tfunction\tfingerprint\tcalls\tvalue...\n";

/// One value of one function.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    /// The crate that defines the function (`CARGO_CRATE_NAME`).
    pub krate: String,
    /// The function's path, from `module_path!()`.
    pub function: String,
    /// The digest of its source.
    pub fingerprint: String,
    /// The literals of its specialized parameters, in signature order.
    pub values: Vec<String>,
}

impl Entry {
    /// The line that records `calls` calls of this value.
    pub fn line(&self, calls: u64) -> String {
        let mut line = format!(
            "{}\t{}\t{}\t{calls}",
            self.krate, self.function, self.fingerprint
        );
        for v in &self.values {
            line.push('\t');
            line.push_str(v);
        }
        line.push('\n');
        line
    }
}

/// A profile read (and merged) into counts per value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    counts: BTreeMap<Entry, u64>,
}

impl Profile {
    /// Reads `text`; the lines that are not entries are returned, with
    /// their line numbers, for a warning.
    pub fn parse(text: &str) -> (Self, Vec<String>) {
        let mut profile = Self::default();
        let mut problems = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let entry = match fields.as_slice() {
                [krate, function, fingerprint, calls, values @ ..] if !values.is_empty() => {
                    calls.parse::<u64>().ok().map(|calls| {
                        let entry = Entry {
                            krate: (*krate).to_owned(),
                            function: (*function).to_owned(),
                            fingerprint: (*fingerprint).to_owned(),
                            values: values.iter().map(|v| (*v).to_owned()).collect(),
                        };
                        (entry, calls)
                    })
                }
                _ => None,
            };
            match entry {
                Some((entry, calls)) => profile.add(entry, calls),
                None => problems.push(format!("line {}: not a profile entry: {line:?}", n + 1)),
            }
        }
        (profile, problems)
    }

    /// Reads the profile at `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be read.
    pub fn read(path: &Path) -> io::Result<(Self, Vec<String>)> {
        Ok(Self::parse(&std::fs::read_to_string(path)?))
    }

    /// Counts `calls` more calls of `entry`.
    pub fn add(&mut self, entry: Entry, calls: u64) {
        let count = self.counts.entry(entry).or_insert(0);
        *count = count.saturating_add(calls);
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: Self) {
        for (entry, calls) in other.counts {
            self.add(entry, calls);
        }
    }

    /// Every value, with its calls.
    pub fn entries(&self) -> impl Iterator<Item = (&Entry, u64)> {
        self.counts.iter().map(|(e, &c)| (e, c))
    }

    /// How many values it holds.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The values of the function with `krate` and `fingerprint`, hottest
    /// first (ties in the order of the values).
    pub fn hottest(&self, krate: &str, fingerprint: &str) -> Vec<(&Entry, u64)> {
        let mut found: Vec<(&Entry, u64)> = self
            .entries()
            .filter(|(e, _)| e.krate == krate && e.fingerprint == fingerprint)
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.values.cmp(&b.0.values)));
        found
    }

    /// The profile as text: the header, then one line per value, by
    /// function and hottest first, so that it diffs well.
    pub fn to_text(&self) -> String {
        let mut rows: Vec<(&Entry, u64)> = self.entries().collect();
        rows.sort_by(|a, b| {
            (&a.0.krate, &a.0.function, &a.0.fingerprint)
                .cmp(&(&b.0.krate, &b.0.function, &b.0.fingerprint))
                .then_with(|| b.1.cmp(&a.1))
                .then_with(|| a.0.values.cmp(&b.0.values))
        });
        let mut out = HEADER.to_owned();
        for (entry, calls) in rows {
            let _ = write!(out, "{}", entry.line(calls));
        }
        out
    }
}

/// Appends `lines` (whole lines) to the profile at `path` with one `write`,
/// creating it with its header if it is new (the runtime's writer).
///
/// # Errors
///
/// When the file cannot be opened or written.
#[doc(hidden)]
pub fn append(path: &Path, lines: &str) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let open = |create_new: bool| {
        let mut options = std::fs::OpenOptions::new();
        options
            .append(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
        if create_new {
            options.create_new(true);
        }
        options.open(path)
    };
    // The process that creates the file writes the header; another one may
    // get its lines in first, which readers do not mind.
    let (mut file, new) = match open(true) {
        Ok(file) => (file, true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => (open(false)?, false),
        Err(e) => return Err(e),
    };
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let text = if new {
        format!("{HEADER}{lines}")
    } else {
        lines.to_owned()
    };
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(values: &[&str]) -> Entry {
        Entry {
            krate: "demo".into(),
            function: "demo::power".into(),
            fingerprint: "ab".repeat(32),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    #[test]
    fn lines_round_trip_and_counts_add_up() {
        let text = format!(
            "{HEADER}{}{}{}\nnot an entry\n",
            entry(&["7u32"]).line(3),
            entry(&["13u32"]).line(1),
            entry(&["7u32"]).line(4)
        );
        let (profile, problems) = Profile::parse(&text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(profile.len(), 2);
        let hottest = profile.hottest("demo", &"ab".repeat(32));
        assert_eq!(hottest[0], (&entry(&["7u32"]), 7));
        assert_eq!(hottest[1].1, 1);
        let again = Profile::parse(&profile.to_text()).0;
        assert_eq!(again, profile);
    }

    /// Structured values, as the runtime writes them (spaces, commas,
    /// braces, quotes, `::`, `&`, `#`, an escaped tab), are one field each
    /// and read back whole, alone or beside another parameter's.
    #[test]
    fn structured_literals_are_one_field_each() {
        let plan = entry(&[
            "&[self::Pred::Between { col: 0u8, lo: 10i64, hi: -500i64 }, self::Pred::Not(1u8), self::Pred::Always]",
        ]);
        let score = entry(&[
            "[::core::primitive::f64::from_bits(0x3ff0000000000000u64), ::core::primitive::f64::from_bits(0x8000000000000000u64)]",
            r#"(::core::option::Option::Some(-3i32), "a\tb, {c} \"d\" ::e &f #g", )"#,
        ]);
        for e in [&plan, &score] {
            assert!(e.values.iter().all(|v| !v.contains(['\t', '\n'])));
        }
        let text = format!("{HEADER}{}{}{}", plan.line(3), score.line(1), plan.line(4));
        let (profile, problems) = Profile::parse(&text);
        assert!(problems.is_empty(), "{problems:?}");
        let entries: Vec<(&Entry, u64)> = profile.entries().collect();
        assert_eq!(entries, [(&plan, 7), (&score, 1)]);
        assert_eq!(Profile::parse(&profile.to_text()), (profile, Vec::new()));
    }

    #[test]
    fn processes_append_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("staged.profile");
        std::thread::scope(|s| {
            for t in 0..8 {
                let path = &path;
                s.spawn(move || {
                    for i in 0..200 {
                        let e = entry(&[&format!("{t}u32"), &format!("\"{}\"", "x".repeat(i))]);
                        append(path, &e.line(1)).unwrap();
                    }
                });
            }
        });
        let (profile, problems) = Profile::read(&path).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(profile.len(), 8 * 200);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("# staged profile v1").count(), 1);
    }
}
