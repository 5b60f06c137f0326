//! Fills a variant's template with one value: its literals in the value
//! holes, and each loop marked `#[staged::unroll]` repeated once per
//! element of its value (with the element's index in each copy), or kept
//! as written past `STAGED_UNROLL_MAX` copies. Only the macro's text is
//! repeated; nothing is written around it.
//!
//! It also keeps where each line of the filled text came from in the
//! template (the copies of a loop are the template's lines again, many
//! times), so that a panic's place in the library maps back to the user's
//! source.

use crate::source::{PROGRAM_GROUP, Piece, Program, Value};

/// Lines `out..out + count` of a filled variant (from 0, its first line)
/// are the template's lines `template..template + count` (from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) out: u32,
    pub(crate) template: u32,
    pub(crate) count: u32,
}

/// A variant's text and where its lines came from.
#[derive(Debug)]
pub(crate) struct Filled {
    pub(crate) text: String,
    pub(crate) segments: Vec<Segment>,
}

/// How many copies of loop bodies `pieces` makes for `value`, with every
/// marked loop unrolled (a loop inside a copy counts once per copy).
pub(crate) fn copies(pieces: &[Piece], value: &Value) -> u64 {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Unroll { param, copy, .. } => {
                let n = elements(value, *param);
                n.saturating_mul(copies(copy, value).saturating_add(1))
            }
            // One copy of the body per position (in `open`).
            Piece::Program(p) => {
                let n = elements(value, p.param);
                n.saturating_mul(copies(p.open, value).saturating_add(1))
            }
            _ => 0,
        })
        .fold(0, u64::saturating_add)
}

/// Whether a variant of `pieces` for `value` keeps its loops: when
/// unrolling them would make more than `max` copies.
pub(crate) fn keeps_loops(pieces: &[Piece], value: &Value, max: usize) -> bool {
    copies(pieces, value) > max as u64
}

fn elements(value: &Value, param: usize) -> u64 {
    value.lens.get(param).copied().flatten().unwrap_or(0) as u64
}

/// The variant of `pieces` for `value`, named `name`, its loops unrolled
/// unless `rolled`.
pub(crate) fn variant(pieces: &[Piece], value: &Value, name: &str, rolled: bool) -> Filled {
    let mut filler = Filler {
        value,
        name,
        rolled,
        text: String::new(),
        line: 0,
        segments: Vec::new(),
        index: Vec::new(),
        target: Vec::new(),
        group: Vec::new(),
    };
    let mut template = 1;
    filler.walk(pieces, &mut template);
    Filled {
        text: filler.text,
        segments: filler.segments,
    }
}

/// The lines `pieces` take in the template: its text, both forms of each
/// loop included.
fn lines_in(pieces: &[Piece]) -> u32 {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(t) => newlines(t),
            Piece::Unroll { copy, rolled, .. } => lines_in(copy) + lines_in(rolled),
            Piece::Program(p) => p.sections().iter().map(|s| lines_in(s)).sum(),
            _ => 0,
        })
        .sum()
}

fn newlines(text: &str) -> u32 {
    text.bytes().filter(|&b| b == b'\n').count() as u32
}

struct Filler<'a> {
    value: &'a Value,
    name: &'a str,
    rolled: bool,
    text: String,
    /// The line the text ends on, from 0.
    line: u32,
    segments: Vec<Segment>,
    /// The index of the copy being written, per loop; for program loops,
    /// the position, the target of a jump back, the group's ends.
    index: Vec<usize>,
    target: Vec<usize>,
    group: Vec<(usize, usize)>,
}

impl Filler<'_> {
    /// Writes `pieces`, whose text starts at line `template` of the
    /// template, and moves `template` past them.
    fn walk(&mut self, pieces: &[Piece], template: &mut u32) {
        for piece in pieces {
            match *piece {
                Piece::Text(t) => {
                    self.text_at(t, *template);
                    *template += newlines(t);
                }
                Piece::Value(i) => {
                    let literal = self.value.literals.get(i).map_or("", String::as_str);
                    self.text.push_str(literal);
                }
                Piece::Name => self.text.push_str(self.name),
                Piece::Symbol => {}
                Piece::Index(id) => {
                    let i = self.index.get(id).copied().unwrap_or(0);
                    self.text.push_str(&format!("{i}usize"));
                }
                Piece::Position(id) => {
                    let i = self.index.get(id).copied().unwrap_or(0);
                    self.text.push_str(&i.to_string());
                }
                Piece::Target(id) => {
                    let j = self.target.get(id).copied().unwrap_or(0);
                    self.text.push_str(&j.to_string());
                }
                Piece::Low(id) | Piece::High(id) => {
                    let (low, high) = self.group.get(id).copied().unwrap_or((0, 0));
                    let end = if matches!(piece, Piece::Low(_)) {
                        low
                    } else {
                        high
                    };
                    self.text.push_str(&end.to_string());
                }
                Piece::Program(program) => {
                    let start = *template;
                    self.program(program, start);
                    *template = start + program.sections().iter().map(|s| lines_in(s)).sum::<u32>();
                }
                Piece::Unroll {
                    param,
                    id,
                    copy,
                    rolled,
                } => {
                    let copy_start = *template;
                    let rolled_start = copy_start + lines_in(copy);
                    let n = self.value.lens.get(param).copied().flatten();
                    match n {
                        Some(n) if !self.rolled => {
                            if self.index.len() <= id {
                                self.index.resize(id + 1, 0);
                            }
                            for i in 0..n {
                                self.index[id] = i;
                                let mut at = copy_start;
                                self.walk(copy, &mut at);
                            }
                        }
                        _ => {
                            let mut at = rolled_start;
                            self.walk(rolled, &mut at);
                        }
                    }
                    *template = rolled_start + lines_in(rolled);
                }
            }
        }
    }

    /// A program loop whose template text starts at line `start`: its
    /// positions in groups, each a loop holding the next (see
    /// [`Program`]), or the loop as written.
    fn program(&mut self, p: &Program, start: u32) {
        // Where each section starts in the template.
        let mut starts = [0u32; 10];
        let mut at = start;
        for (i, section) in p.sections().iter().enumerate() {
            starts[i] = at;
            at += lines_in(section);
        }
        let walk = |this: &mut Self, section: usize| {
            let mut line = starts[section];
            this.walk(p.sections()[section], &mut line);
        };
        let n = self.value.lens.get(p.param).copied().flatten();
        let Some(n) = n.filter(|_| !self.rolled) else {
            walk(self, 9);
            return;
        };
        for v in [&mut self.index, &mut self.target] {
            if v.len() <= p.id {
                v.resize(p.id + 1, 0);
            }
        }
        if self.group.len() <= p.id {
            self.group.resize(p.id + 1, (0, 0));
        }
        walk(self, 0);
        for low in (0..n).step_by(PROGRAM_GROUP) {
            let high = (low + PROGRAM_GROUP).min(n) - 1;
            self.group[p.id] = (low, high);
            walk(self, 1);
            for k in low..=high {
                self.index[p.id] = k;
                walk(self, 2);
                for j in low..=k {
                    self.target[p.id] = j;
                    walk(self, 3);
                }
                walk(self, 4);
            }
            walk(self, 5);
            for _ in low..=high {
                walk(self, 6);
            }
            walk(self, 7);
        }
        walk(self, 8);
    }

    /// Appends `text`, which starts at line `template` of the template.
    fn text_at(&mut self, text: &str, template: u32) {
        let lines = newlines(text);
        let line = self.line;
        match self.segments.last_mut() {
            // The same run of the template's lines, going on.
            Some(last)
                if last.template + (line - last.out) == template
                    && line < last.out + last.count + 1 =>
            {
                last.count = last.count.max(line - last.out + lines + 1);
            }
            // A line already mapped (two pieces of text share it): the
            // lines after it map to this text.
            Some(last) if line < last.out + last.count => {
                if lines > 0 {
                    self.segments.push(Segment {
                        out: line + 1,
                        template: template + 1,
                        count: lines,
                    });
                }
            }
            _ => self.segments.push(Segment {
                out: line,
                template,
                count: lines + 1,
            }),
        }
        self.text.push_str(text);
        self.line += lines;
    }
}

/// The template line that line `line` (from 0) of a filled variant came
/// from.
pub(crate) fn template_line(segments: &[Segment], line: u32) -> Option<u32> {
    segments
        .iter()
        .rev()
        .find(|s| (s.out..s.out + s.count).contains(&line))
        .map(|s| s.template + (line - s.out))
}

#[cfg(test)]
mod tests {
    use super::*;

    static COPY: [Piece; 3] = [
        Piece::Text("\n    acc += x * k["),
        Piece::Index(0),
        Piece::Text("];"),
    ];
    static ROLLED: [Piece; 1] = [Piece::Text("\n    for t in k { acc += x * t; }")];
    static TEMPLATE: [Piece; 6] = [
        Piece::Text("fn "),
        Piece::Name,
        Piece::Text("(x: u64) -> u64 {\n    let k: &[u64] = "),
        Piece::Value(0),
        Piece::Unroll {
            param: 0,
            id: 0,
            copy: &COPY,
            rolled: &ROLLED,
        },
        Piece::Text("\n    acc\n}"),
    ];

    fn value(n: usize) -> Value {
        let literals: Vec<String> = (0..n).map(|i| format!("{i}u64")).collect();
        Value {
            literals: vec![format!("&[{}]", literals.join(", "))],
            lens: vec![Some(n)],
        }
    }

    #[test]
    fn loops_repeat_their_body_once_per_element() {
        let filled = variant(&TEMPLATE, &value(3), "v", false);
        assert_eq!(
            filled.text,
            "fn v(x: u64) -> u64 {\n    let k: &[u64] = &[0u64, 1u64, 2u64]\n    acc += x * k[0usize];\n    acc += x * k[1usize];\n    acc += x * k[2usize];\n    acc\n}"
        );
        assert_eq!(copies(&TEMPLATE, &value(3)), 3);
        assert!(!keeps_loops(&TEMPLATE, &value(3), 3));
        assert!(keeps_loops(&TEMPLATE, &value(4), 3));
        // Lines map back: copies to the copy's line, the rest to theirs.
        let at = |line| template_line(&filled.segments, line);
        assert_eq!((at(0), at(1)), (Some(1), Some(2)));
        assert_eq!((at(2), at(3), at(4)), (Some(3), Some(3), Some(3)));
        assert_eq!((at(5), at(6)), (Some(5), Some(6)));
    }

    #[test]
    fn past_the_limit_the_loop_is_kept() {
        let filled = variant(&TEMPLATE, &value(2), "v", true);
        assert!(
            filled.text.contains("for t in k { acc += x * t; }"),
            "{}",
            filled.text
        );
        assert!(!filled.text.contains("k[0usize]"));
        let at = |line| template_line(&filled.segments, line);
        assert_eq!((at(2), at(3)), (Some(4), Some(5)));
    }

    #[test]
    fn an_empty_value_makes_no_copy() {
        let filled = variant(&TEMPLATE, &value(0), "v", false);
        assert!(!filled.text.contains("acc +="));
        assert_eq!(template_line(&filled.segments, 2), Some(5));
    }
}
