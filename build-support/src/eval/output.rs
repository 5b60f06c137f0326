//! Reads what an evaluator program reported (the records `harness.rs`
//! writes on their own descriptor), including the partial records of a
//! program that was stopped.

use crate::bake::{Baker, Blob, BlobKind, Scalar};

/// An item that panicked.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Panic {
    pub item: usize,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Everything one run reported.
#[derive(Debug, Default)]
pub(super) struct Run {
    /// Items with a value, and the value.
    pub baked: Vec<(usize, Baker)>,
    pub panics: Vec<Panic>,
    /// `(item, used)`: items whose initializer uses an item without a
    /// value.
    pub uses_failed: Vec<(usize, usize)>,
    /// The item that started and never ended, if the run was cut short.
    pub unfinished: Option<usize>,
    /// `(item, bytes)`: the last allocation that failed while an item ran,
    /// and its size.
    pub out_of_memory: Option<(usize, u64)>,
    /// Whether the program got to its end.
    pub done: bool,
}

/// Reads the records a run sent on its record descriptor. A record cut
/// short (the program was killed while writing it, or passed the record
/// limit) ends the reading; the item it was about is then the unfinished
/// one.
pub(super) fn parse(records: &[u8]) -> Run {
    let mut run = Run::default();
    let mut reader = Reader { bytes: records };
    let mut running = None;
    while let Some(line) = reader.line() {
        let words: Vec<&str> = line.split(' ').collect();
        let num = |i: usize| words.get(i).and_then(|w| w.parse::<usize>().ok());
        match words[0] {
            "start" => running = num(1),
            "skip" => running = None,
            "done" => {
                run.done = true;
                running = None;
            }
            "baked" => match baked(&words, &mut reader) {
                Some(entry) => {
                    run.baked.push(entry);
                    running = None;
                }
                None => break,
            },
            "panic" => {
                let (Some(item), Some(line), Some(column), Some(len)) =
                    (num(1), num(2), num(3), num(4))
                else {
                    break;
                };
                let Some(message) = reader.take(len) else {
                    break;
                };
                run.panics.push(Panic {
                    item,
                    line: line as u32,
                    column: column as u32,
                    message: String::from_utf8_lossy(message).into_owned(),
                });
                running = None;
            }
            "uses" => {
                let (Some(item), Some(used)) = (num(1), num(2)) else {
                    break;
                };
                run.uses_failed.push((item, used));
                running = None;
            }
            "oom" => {
                let Some(bytes) = words.get(1).and_then(|w| w.parse::<u64>().ok()) else {
                    break;
                };
                if let Some(item) = running {
                    run.out_of_memory = Some((item, bytes));
                }
            }
            _ => break,
        }
    }
    run.unfinished = running;
    run
}

fn baked(words: &[&str], reader: &mut Reader<'_>) -> Option<(usize, Baker)> {
    let [_, item, text_len, blobs, usize_max, isize_min, isize_max] = words else {
        return None;
    };
    let mut baker = Baker::new();
    baker.text = String::from_utf8(reader.take(text_len.parse().ok()?)?.to_vec()).ok()?;
    baker.usize_max = usize_max.parse().ok()?;
    baker.isize_min = isize_min.parse().ok()?;
    baker.isize_max = isize_max.parse().ok()?;
    for _ in 0..blobs.parse::<usize>().ok()? {
        let line = reader.line()?;
        let [tag, kind, ty_len, len] = line.split(' ').collect::<Vec<_>>()[..] else {
            return None;
        };
        if tag != "blob" {
            return None;
        }
        let ty = String::from_utf8(reader.take(ty_len.parse().ok()?)?.to_vec()).ok()?;
        let bytes = reader.take(len.parse().ok()?)?.to_vec();
        let kind = match kind {
            "str" => BlobKind::Str,
            name => BlobKind::Plain {
                scalar: Scalar::from_name(name)?,
                ty,
            },
        };
        baker.blobs.push(Blob { kind, bytes });
    }
    Some((item.parse().ok()?, baker))
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn line(&mut self) -> Option<&'a str> {
        let end = self.bytes.iter().position(|&b| b == b'\n')?;
        let line = std::str::from_utf8(&self.bytes[..end]).ok()?;
        self.bytes = &self.bytes[end + 1..];
        Some(line)
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < len {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Some(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::baked_record;
    use super::*;
    use crate::bake::Bake;

    #[test]
    fn reads_what_the_harness_writes() {
        let mut baker = Baker::new();
        (5usize, vec![7u16; 300]).bake_into(&mut baker);
        let mut out = b"start 0\n".to_vec();
        out.extend(baked_record(0, &baker));
        out.extend(b"start 1\npanic 1 12 5 4\noops");
        out.extend(b"start 3\nuses 3 1\n");
        out.extend(b"skip 2\ndone\n");
        let run = parse(&out);
        assert!(run.done);
        assert_eq!(run.unfinished, None);
        let (index, read) = &run.baked[0];
        assert_eq!(*index, 0);
        assert_eq!(read.text, baker.text);
        assert_eq!(read.blobs, baker.blobs);
        assert_eq!(read.usize_max, 5);
        assert_eq!(
            run.panics,
            [Panic {
                item: 1,
                line: 12,
                column: 5,
                message: "oops".into()
            }]
        );
        assert_eq!(run.uses_failed, [(3, 1)]);
    }

    #[test]
    fn a_run_cut_short_names_the_unfinished_item() {
        let run = parse(b"start 0\nbaked 0 4 0 0 0 0\n1u8,start 1\n");
        assert!(!run.done);
        assert_eq!(run.unfinished, Some(1));
        assert_eq!(run.baked.len(), 1);
        // Killed in the middle of a record.
        let run = parse(b"start 3\nbaked 3 400 0 0 0 0\n1u8");
        assert_eq!((run.unfinished, run.baked.len()), (Some(3), 0));
    }

    #[test]
    fn a_failed_allocation_is_pinned_on_the_running_item() {
        let run = parse(b"start 0\noom 64\nbaked 0 3 0 0 0 0\n1u8start 1\noom 1073741824\n");
        assert_eq!(run.unfinished, Some(1));
        assert_eq!(run.out_of_memory, Some((1, 1 << 30)));
        // Outside an item, it is nobody's.
        assert_eq!(parse(b"oom 8\n").out_of_memory, None);
    }
}
