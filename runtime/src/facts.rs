//! What a library says about itself, read from its bytes before it is
//! loaded: loading runs its initializers, so every check happens on the
//! verified bytes first, and the loaded library is then checked to be the
//! one that was read.
//!
//! The generated source holds one `#[repr(C)]` static of plain integers in
//! its own section, `.staged_facts`, with no pointers (so no relocations:
//! the bytes in the file are the bytes in memory), host-endian:
//!
//! ```text
//! magic     [u8; 8]          "STAGEDF3"
//! abi       u64              the entry protocol
//! built_for [u8; 32]         toolchain, target and flags
//! cpu       [u8; 32]         the target CPU (and this machine's, for native)
//! layout    u64 n, [u64; n]  layout probes of arguments and result
//! features  u64 n, [u64; n]  one 0/1 per feature of `cpu::FEATURES`
//! entries   u64 e            the library's entries
//! keys      u64 n, [[u8; 32]; n]  the cache keys served: entry i's at
//!                            i, i + e, i + 2e… (a library built for an
//!                            explicit target CPU serves each value under
//!                            its full and its portable key)
//! lines     u64 n, [u64; n]  per entry: its variant's first line, its
//!                            number of segments s, then s × (line, template
//!                            line, count): where its lines came from in the
//!                            template (unrolled loops repeat lines), for
//!                            mapping a panic back to the user's source
//! ```

use std::fmt::Write as _;

use staged_build::store::Hash32;

use crate::codegen::{Lines, Segment};

/// Name of the section, and of the exported static, that hold the facts.
pub(crate) const SECTION: &str = ".staged_facts";
pub(crate) const SYMBOL: &str = "__STAGED_FACTS";
const MAGIC: &[u8; 8] = b"STAGEDF3";

/// What a library says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Facts {
    pub(crate) abi: u64,
    pub(crate) built_for: Hash32,
    pub(crate) cpu: Hash32,
    pub(crate) layout: Vec<u64>,
    pub(crate) features: Vec<u64>,
    pub(crate) entries: u64,
    pub(crate) keys: Vec<Hash32>,
    /// Where each entry's variant sits, and where its lines came from.
    pub(crate) lines: Vec<Lines>,
}

impl Facts {
    /// Whether entry `index` serves `key`.
    pub(crate) fn serves(&self, index: usize, key: &Hash32) -> bool {
        let Ok(entries) = usize::try_from(self.entries) else {
            return false;
        };
        index < entries
            && self
                .keys
                .iter()
                .skip(index)
                .step_by(entries)
                .any(|k| k == key)
    }
}

/// What a library being written will say about itself.
pub(crate) struct Stated<'a> {
    pub(crate) abi: u64,
    pub(crate) built_for: &'a Hash32,
    pub(crate) cpu: &'a Hash32,
    /// An expression of type `[usize; layout_len]`, evaluated in the
    /// library: its own layout probes.
    pub(crate) layout: &'a str,
    pub(crate) layout_len: usize,
    /// The keys served: entry i's at i, i + entries, ….
    pub(crate) keys: &'a [Hash32],
    /// Each entry's lines: there are as many entries.
    pub(crate) lines: &'a [Lines],
}

/// The source of the facts static of a library.
pub(crate) fn source(stated: &Stated) -> String {
    let Stated {
        abi,
        built_for,
        cpu,
        layout,
        layout_len,
        keys,
        lines,
    } = *stated;
    let entries = lines.len();
    let features = crate::cpu::FEATURES.len();
    let bytes = |h: &Hash32| {
        let parts: Vec<String> = h.0.iter().map(|b| format!("{b}u8")).collect();
        format!("[{}]", parts.join(", "))
    };
    let keys_src: Vec<String> = keys.iter().map(bytes).collect();
    let mut line_words: Vec<u64> = Vec::new();
    for l in lines {
        line_words.extend([u64::from(l.start), l.segments.len() as u64]);
        for s in &l.segments {
            line_words.extend([s.out, s.template, s.count].map(u64::from));
        }
    }
    let probes: Vec<String> = (0..layout_len)
        .map(|i| format!("{layout}[{i}] as u64"))
        .collect();
    let mut out = String::new();
    let _ = write!(
        out,
        "#[repr(C)]
pub struct __StagedFacts {{
    magic: [u8; 8],
    abi: u64,
    built_for: [u8; 32],
    cpu: [u8; 32],
    nlayout: u64,
    layout: [u64; {layout_len}],
    nfeatures: u64,
    features: [u64; {features}],
    entries: u64,
    nkeys: u64,
    keys: [[u8; 32]; {nkeys}],
    nlines: u64,
    lines: [u64; {nlines}],
}}

#[unsafe(no_mangle)]
#[unsafe(link_section = \"{SECTION}\")]
pub static {SYMBOL}: __StagedFacts = __StagedFacts {{
    magic: *b\"{magic}\",
    abi: {abi},
    built_for: {built_for},
    cpu: {cpu},
    nlayout: {layout_len},
    layout: [{probes}],
    nfeatures: {features},
    features: {flags},
    entries: {entries},
    nkeys: {nkeys},
    keys: [{keys}],
    nlines: {nlines},
    lines: [{line_words}],
}};
",
        nkeys = keys.len(),
        magic = std::str::from_utf8(MAGIC).unwrap_or_default(),
        built_for = bytes(built_for),
        cpu = bytes(cpu),
        probes = probes.join(", "),
        flags = crate::cpu::feature_flags_source(),
        keys = keys_src.join(", "),
        nlines = line_words.len(),
        line_words = line_words
            .iter()
            .map(|w| format!("{w}u64"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    out
}

/// The facts section of the ELF object `bytes`, if it has one.
pub(crate) fn section(bytes: &[u8]) -> Option<&[u8]> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(bytes).ok()?;
    file.section_by_name(SECTION)?.data().ok()
}

impl Facts {
    /// Reads facts as [`source`] lays them out; `None` if they are not.
    pub(crate) fn parse(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader { bytes };
        if r.take(8)? != MAGIC {
            return None;
        }
        let abi = r.u64()?;
        let built_for = r.hash()?;
        let cpu = r.hash()?;
        let n = r.len()?;
        let layout = (0..n).map(|_| r.u64()).collect::<Option<_>>()?;
        let n = r.len()?;
        let features = (0..n).map(|_| r.u64()).collect::<Option<_>>()?;
        let entries = r.u64()?;
        let n = r.len()?;
        let keys = (0..n).map(|_| r.hash()).collect::<Option<_>>()?;
        let n = r.len()?;
        let words: Vec<u64> = (0..n).map(|_| r.u64()).collect::<Option<_>>()?;
        let lines = read_lines(&words, entries)?;
        Some(Self {
            abi,
            built_for,
            cpu,
            layout,
            features,
            entries,
            keys,
            lines,
        })
    }
}

/// The lines of `entries` entries, as [`source`] lays them out.
fn read_lines(words: &[u64], entries: u64) -> Option<Vec<Lines>> {
    let mut words = words.iter().map(|&w| u32::try_from(w).ok());
    let mut next = || words.next().flatten();
    let mut lines = Vec::new();
    for _ in 0..entries {
        let start = next()?;
        let count = next()?;
        let segments = (0..count)
            .map(|_| {
                Some(Segment {
                    out: next()?,
                    template: next()?,
                    count: next()?,
                })
            })
            .collect::<Option<_>>()?;
        lines.push(Lines { start, segments });
    }
    Some(lines)
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_ne_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A count, which cannot exceed what is left to read.
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.bytes.len()).then_some(n)
    }

    fn hash(&mut self) -> Option<Hash32> {
        Some(Hash32(self.take(32)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(f: &Facts) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend(f.abi.to_ne_bytes());
        out.extend(f.built_for.0);
        out.extend(f.cpu.0);
        for list in [&f.layout, &f.features] {
            out.extend((list.len() as u64).to_ne_bytes());
            list.iter().for_each(|v| out.extend(v.to_ne_bytes()));
        }
        out.extend(f.entries.to_ne_bytes());
        out.extend((f.keys.len() as u64).to_ne_bytes());
        f.keys.iter().for_each(|k| out.extend(k.0));
        let mut words = Vec::new();
        for l in &f.lines {
            words.extend([u64::from(l.start), l.segments.len() as u64]);
            for s in &l.segments {
                words.extend([s.out, s.template, s.count].map(u64::from));
            }
        }
        out.extend((words.len() as u64).to_ne_bytes());
        words.iter().for_each(|w| out.extend(w.to_ne_bytes()));
        out
    }

    #[test]
    fn facts_round_trip_and_refuse_garbage() {
        let facts = Facts {
            abi: 3,
            built_for: Hash32::of_bytes(b"t"),
            cpu: Hash32::of_bytes(b"c"),
            layout: vec![8, 8, 0],
            features: vec![1, 0, 1],
            entries: 1,
            keys: vec![Hash32::of_bytes(b"a"), Hash32::of_bytes(b"b")],
            lines: vec![Lines {
                start: 40,
                segments: vec![Segment {
                    out: 0,
                    template: 1,
                    count: 7,
                }],
            }],
        };
        let bytes = encode(&facts);
        assert_eq!(Facts::parse(&bytes).as_ref(), Some(&facts));
        assert_eq!(Facts::parse(&bytes[..bytes.len() - 1]), None);
        assert_eq!(Facts::parse(b"STAGEDF0"), None);
        // Fewer lines than entries.
        let mut short = facts.clone();
        short.lines.clear();
        assert_eq!(Facts::parse(&encode(&short)), None);
        let mut huge = MAGIC.to_vec();
        huge.extend(3u64.to_ne_bytes());
        huge.extend([0u8; 64]);
        huge.extend(u64::MAX.to_ne_bytes());
        assert_eq!(Facts::parse(&huge), None);
    }

    #[test]
    fn an_entry_serves_its_keys_only() {
        let [a, b] = [b"a", b"b"].map(|k| Hash32::of_bytes(k));
        let facts = |entries, keys: &[Hash32]| Facts {
            abi: 3,
            built_for: a,
            cpu: a,
            layout: vec![],
            features: vec![],
            entries,
            keys: keys.to_vec(),
            lines: Vec::new(),
        };
        // One entry under its full and its portable key.
        let f = facts(1, &[a, b]);
        assert!(f.serves(0, &a) && f.serves(0, &b) && !f.serves(1, &a));
        // Two entries, one key each.
        let f = facts(2, &[a, b]);
        assert!(f.serves(0, &a) && f.serves(1, &b));
        assert!(!f.serves(0, &b) && !f.serves(1, &a));
        assert!(!facts(0, &[a]).serves(0, &a));
    }
}
