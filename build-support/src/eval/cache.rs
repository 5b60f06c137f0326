//! Evaluated blocks on disk, in the store's `eval/` area:
//!
//! ```text
//! eval/<key>             the outcome: each item's source, or why it failed
//! eval/blobs/<hash>.bin  bytes too large to inline, pulled in by the
//!                        expansion with include_bytes!/include_str!
//! ```
//!
//! A hit costs reading the entry and checking that its blob files are
//! still there; the blobs themselves are read by rustc, not by the macro.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use super::{Diagnostic, EvalConfig, EvalError, Failure, ItemOutcome, Outcome};
use crate::bake::{Bake, Baker};
use crate::chain::Chain;
use crate::emit::{self, BlobSink, Inline};
use crate::store::{Area, BLOBS, BuildDir, EVAL_AREA, Hash32, KeyLock, Store};

/// Blobs up to this size stay in the expansion as literals.
const INLINE_MAX_BYTES: usize = 64 * 1024;

const MAGIC: &str = "staged-eval-entry v2";

pub(super) struct Cache {
    store: Store,
    area: Area,
    blobs: Area,
    /// Blob files written by this evaluation, recorded in its entry.
    written: RefCell<Vec<String>>,
    /// The cache's size cap, kept after each result is stored.
    max_bytes: u64,
}

impl Cache {
    pub(super) fn open(config: &EvalConfig) -> Result<Self, EvalError> {
        let root = config.cache_dir.as_ref().ok_or(EvalError::NoCacheDir)?;
        let store = Store::open(root)?;
        let area = store.area(EVAL_AREA)?;
        let blobs = area.area(BLOBS)?;
        Ok(Self {
            store,
            area,
            blobs,
            written: RefCell::new(Vec::new()),
            max_bytes: config.cache_max_bytes,
        })
    }

    /// The lock of `key`; another expansion building the same block holds
    /// it for at most `wait` (its build and run limits).
    pub(super) fn lock(&self, key: &Hash32, wait: Duration) -> Result<KeyLock, EvalError> {
        Ok(self.store.lock(key, wait)?)
    }

    pub(super) fn build_dir(&self) -> Result<BuildDir, EvalError> {
        Ok(self.store.build_dir()?)
    }

    /// The stored outcome of `key`, if it is there whole.
    pub(super) fn get(&self, key: &Hash32) -> Result<Option<Outcome>, EvalError> {
        let Some(bytes) = self.area.read(&key.to_string())? else {
            return Ok(None);
        };
        let (outcome, blobs) = decode(&bytes).ok_or_else(|| {
            EvalError::Corrupt(format!("{}", self.area.path(&key.to_string()).display()))
        })?;
        for name in blobs {
            if !self.blobs.has_file(&name)? {
                // Pruned: evaluate again, which writes it again.
                return Ok(None);
            }
        }
        Ok(Some(outcome))
    }

    pub(super) fn put(&self, key: &Hash32, outcome: &Outcome) -> Result<(), EvalError> {
        let entry = encode(outcome, &self.written.borrow());
        self.area.write(&key.to_string(), entry.as_bytes())?;
        // The oldest entries of every capped kind go first; a failure to
        // prune costs space, never this result.
        let _ = self.store.prune_by(Some(self.max_bytes), None);
        Ok(())
    }

    /// The source of a baked value, its large blobs stored as files.
    pub(super) fn value_expr(&self, name: &str, baker: &Baker) -> Result<String, EvalError> {
        let mut sink = FileSink { cache: self };
        emit::value_expr(name, baker, &mut sink)
            .map_err(|e| EvalError::file(&self.blobs.path(""), e))
    }

    fn store_blob(&self, bytes: &[u8]) -> io::Result<std::path::PathBuf> {
        let name = format!("{}.bin", Hash32::of_bytes(bytes));
        let there = self.blobs.has_file(&name).unwrap_or(false);
        if !there {
            self.blobs
                .write(&name, bytes)
                .map_err(|e| io::Error::other(Chain(&e).to_string()))?;
        }
        let path = self.blobs.path(&name);
        self.written.borrow_mut().push(name);
        Ok(path)
    }
}

struct FileSink<'a> {
    cache: &'a Cache,
}

impl BlobSink for FileSink<'_> {
    fn bytes(&mut self, bytes: &[u8]) -> io::Result<String> {
        if bytes.len() <= INLINE_MAX_BYTES {
            return Inline.bytes(bytes);
        }
        let path = self.cache.store_blob(bytes)?;
        Ok(format!("::core::include_bytes!({})", path_literal(&path)?))
    }

    fn str(&mut self, text: &str) -> io::Result<String> {
        if text.len() <= INLINE_MAX_BYTES {
            return Inline.str(text);
        }
        let path = self.cache.store_blob(text.as_bytes())?;
        Ok(format!("::core::include_str!({})", path_literal(&path)?))
    }
}

fn path_literal(path: &std::path::Path) -> io::Result<String> {
    let text = path.to_str().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the cache path is not UTF-8")
    })?;
    Ok(text.to_literal())
}

fn encode(outcome: &Outcome, blobs: &[String]) -> String {
    let mut out = format!("{MAGIC}\nitems {}\n", outcome.items.len());
    for item in &outcome.items {
        match item {
            ItemOutcome::Baked(expr) => text(&mut out, "ok", expr),
            ItemOutcome::Failed(Failure::Panicked { message, token }) => {
                let _ = write!(out, "panic {} ", opt(*token));
                text(&mut out, "", message);
            }
            ItemOutcome::Failed(Failure::UsesFailed { item }) => {
                let _ = writeln!(out, "uses {item}");
            }
            ItemOutcome::Failed(Failure::DoesNotCompile { errors }) => {
                let _ = writeln!(out, "compile {}", errors.len());
                errors.iter().for_each(|d| diagnostic(&mut out, d));
            }
            // Time-outs and crashes are never stored: another run may differ.
            ItemOutcome::Failed(_) => out.push_str("notrun\n"),
        }
    }
    let _ = writeln!(out, "errors {}", outcome.errors.len());
    outcome.errors.iter().for_each(|d| diagnostic(&mut out, d));
    let _ = writeln!(out, "blobs {}", blobs.len());
    for name in blobs {
        let _ = writeln!(out, "{name}");
    }
    out
}

fn text(out: &mut String, tag: &str, body: &str) {
    if tag.is_empty() {
        let _ = writeln!(out, "{}", body.len());
    } else {
        let _ = writeln!(out, "{tag} {}", body.len());
    }
    out.push_str(body);
    out.push('\n');
}

fn diagnostic(out: &mut String, d: &Diagnostic) {
    let (first, last) = match d.tokens {
        Some((f, l)) => (Some(f), Some(l)),
        None => (None, None),
    };
    let _ = write!(out, "diag {} {} {} ", opt(first), opt(last), opt(d.item));
    text(out, "", &d.message);
}

fn opt(v: Option<usize>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn decode(bytes: &[u8]) -> Option<(Outcome, Vec<String>)> {
    let mut r = Reader {
        text: std::str::from_utf8(bytes).ok()?,
    };
    if r.line()? != MAGIC {
        return None;
    }
    let n: usize = r.line()?.strip_prefix("items ")?.parse().ok()?;
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        let line = r.line()?;
        let mut words = line.split(' ');
        let item = match words.next()? {
            "ok" => ItemOutcome::Baked(r.body(words.next()?)?),
            "panic" => {
                let token = parse_opt(words.next()?)?;
                let message = r.body(words.next()?)?;
                ItemOutcome::Failed(Failure::Panicked { message, token })
            }
            "uses" => ItemOutcome::Failed(Failure::UsesFailed {
                item: words.next()?.parse().ok()?,
            }),
            "compile" => {
                let count: usize = words.next()?.parse().ok()?;
                let errors = (0..count).map(|_| r.diagnostic()).collect::<Option<_>>()?;
                ItemOutcome::Failed(Failure::DoesNotCompile { errors })
            }
            "notrun" => ItemOutcome::Failed(Failure::NotRun),
            _ => return None,
        };
        items.push(item);
    }
    let count: usize = r.line()?.strip_prefix("errors ")?.parse().ok()?;
    let errors = (0..count).map(|_| r.diagnostic()).collect::<Option<_>>()?;
    let count: usize = r.line()?.strip_prefix("blobs ")?.parse().ok()?;
    let blobs = (0..count)
        .map(|_| r.line().map(str::to_owned))
        .collect::<Option<Vec<_>>>()?;
    if blobs.iter().any(|b| b.contains('/') || b.starts_with('.')) {
        return None;
    }
    let outcome = Outcome {
        items,
        errors,
        cached: true,
        elapsed: std::time::Duration::ZERO,
    };
    Some((outcome, blobs))
}

fn parse_opt(word: &str) -> Option<Option<usize>> {
    if word == "-" {
        Some(None)
    } else {
        word.parse().ok().map(Some)
    }
}

struct Reader<'a> {
    text: &'a str,
}

impl<'a> Reader<'a> {
    fn line(&mut self) -> Option<&'a str> {
        let (line, rest) = self.text.split_once('\n')?;
        self.text = rest;
        Some(line)
    }

    /// `len` bytes of text followed by a newline.
    fn body(&mut self, len: &str) -> Option<String> {
        let len: usize = len.parse().ok()?;
        let body = self.text.get(..len)?.to_owned();
        self.text = self.text.get(len..)?.strip_prefix('\n')?;
        Some(body)
    }

    fn diagnostic(&mut self) -> Option<Diagnostic> {
        let line = self.line()?;
        let words: Vec<&str> = line.split(' ').collect();
        let [tag, first, last, item, len] = words[..] else {
            return None;
        };
        if tag != "diag" {
            return None;
        }
        let tokens = match (parse_opt(first)?, parse_opt(last)?) {
            (Some(f), Some(l)) => Some((f, l)),
            _ => None,
        };
        let item = parse_opt(item)?;
        let message = self.body(len)?;
        Some(Diagnostic {
            message,
            tokens,
            item,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn entries_round_trip() {
        let diag = Diagnostic {
            message: "mismatched types\n= note: two lines".into(),
            tokens: Some((3, 9)),
            item: Some(1),
        };
        let outcome = Outcome {
            items: vec![
                ItemOutcome::Baked("{\nconst X: u8 = 1u8;\n&[\"a\\nb\"]\n}".into()),
                ItemOutcome::Failed(Failure::Panicked {
                    message: "index out of bounds\nsecond line".into(),
                    token: None,
                }),
                ItemOutcome::Failed(Failure::UsesFailed { item: 0 }),
                ItemOutcome::Failed(Failure::DoesNotCompile {
                    errors: vec![diag.clone()],
                }),
                ItemOutcome::Failed(Failure::NotRun),
            ],
            errors: vec![Diagnostic {
                tokens: None,
                item: None,
                ..diag
            }],
            cached: true,
            elapsed: Duration::ZERO,
        };
        let blobs = vec!["ab.bin".to_owned()];
        let entry = encode(&outcome, &blobs);
        assert_eq!(decode(entry.as_bytes()), Some((outcome, blobs)));
        assert_eq!(decode(&entry.as_bytes()[..entry.len() - 3]), None);
        assert_eq!(decode(b"something else\n"), None);
    }

    #[test]
    fn blob_names_cannot_leave_the_blob_folder() {
        let entry = format!("{MAGIC}\nitems 0\nerrors 0\nblobs 1\n../../x\n");
        assert_eq!(decode(entry.as_bytes()), None);
    }
}
