//! The evaluator program for a block: one `main.rs` with the renderer and
//! the harness as modules, the block's helpers verbatim, and one closure per
//! item, called in order:
//!
//! ```text
//! let __staged_v1 = __staged_session.item(1, || {
//!     let CRC32 = __staged::harness::dep(__staged_v0, 0); // uses
//!     let __staged_value: [u32; _] = __staged::harness::BakeAs::bake_as({
//!         <initializer>
//!     });
//!     __staged_value
//! });
//! ```
//!
//! It records where each piece of the block landed, so that a byte offset
//! in rustc's errors or a line and column in a panic map back to a token.

use std::fmt::Write as _;

use super::{Block, Fragment};

/// Whose code a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Owner {
    Helper(usize),
    Item(usize),
}

/// What is at a byte of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// A token of the block (its ordinal), in the code of `Owner`.
    Token(usize, Owner),
    /// Code generated around item `i`'s initializer.
    Glue(usize),
    /// The harness, the renderer, or `main`.
    Elsewhere,
}

/// A generated program.
pub(super) struct Program {
    pub text: String,
    /// `(offset, ordinal)` of every block token, by offset.
    marks: Vec<(usize, usize)>,
    /// The byte ranges of the block's fragments.
    regions: Vec<(usize, usize, Owner)>,
    /// The byte ranges generated for each item.
    glue: Vec<(usize, usize, usize)>,
    /// The offset where each line starts.
    line_starts: Vec<usize>,
}

const PRELUDE: &str = "// Evaluates one `staged::const_init!` block. Generated; not for editing.\n\
#![allow(warnings)]\n";

/// The program for `block`, leaving out the items marked in `excluded`.
pub(super) fn generate(block: &Block, excluded: &[bool]) -> Program {
    let mut p = Program {
        text: String::with_capacity(64 * 1024),
        marks: Vec::new(),
        regions: Vec::new(),
        glue: Vec::new(),
        line_starts: Vec::new(),
    };
    p.text.push_str(PRELUDE);
    p.text.push_str("mod __staged {\npub mod bake {\n");
    p.text.push_str(include_str!("../bake.rs"));
    p.text.push_str("\n}\npub mod harness {\n");
    p.text.push_str(include_str!("harness.rs"));
    p.text.push_str("\n}\n}\n");
    for (i, helper) in block.helpers.iter().enumerate() {
        p.push_fragment(helper, Owner::Helper(i));
        p.text.push('\n');
    }
    p.text.push_str(
        "#[global_allocator]\n\
         static __STAGED_ALLOCATOR: __staged::harness::Allocator = __staged::harness::Allocator;\n\n\
         fn main() {\n    __staged::harness::run(__staged_items);\n}\n\n\
         fn __staged_items(__staged_session: &mut __staged::harness::Session) {\n",
    );
    for (i, item) in block.items.iter().enumerate() {
        if excluded.get(i).copied().unwrap_or(false) {
            continue;
        }
        let start = p.text.len();
        let _ = writeln!(
            p.text,
            "let __staged_v{i} = __staged_session.item({i}, || {{"
        );
        for &dep in &item.uses {
            let used = &block.items[dep];
            let function = if used.fallback { "dep_staged" } else { "dep" };
            let _ = writeln!(
                p.text,
                "let {} = __staged::harness::{function}(__staged_v{dep}, {dep});",
                used.name,
            );
        }
        let convert = if item.convert {
            "__staged::harness::BakeAs::bake_as"
        } else {
            ""
        };
        let _ = writeln!(
            p.text,
            "let __staged_value: {} = {convert}({{",
            item.eval_type
        );
        p.push_fragment(&item.init, Owner::Item(i));
        p.text.push_str("\n});\n__staged_value\n});\n");
        p.glue.push((start, p.text.len(), i));
    }
    p.text.push_str("}\n");
    p.line_starts = std::iter::once(0)
        .chain(p.text.match_indices('\n').map(|(at, _)| at + 1))
        .collect();
    p
}

impl Program {
    fn push_fragment(&mut self, fragment: &Fragment, owner: Owner) {
        let base = self.text.len();
        self.text.push_str(&fragment.text);
        self.marks.extend(
            fragment
                .marks
                .iter()
                .map(|&(at, ordinal)| (base + at, ordinal)),
        );
        self.regions.push((base, self.text.len(), owner));
    }

    /// What is at byte `at`.
    pub(super) fn locate(&self, at: usize) -> Place {
        if let Some(&(_, _, owner)) = self.regions.iter().find(|(s, e, _)| (*s..*e).contains(&at)) {
            let i = self.marks.partition_point(|&(offset, _)| offset <= at);
            if let Some(&(_, ordinal)) = i.checked_sub(1).and_then(|i| self.marks.get(i)) {
                return Place::Token(ordinal, owner);
            }
        }
        match self.glue.iter().find(|(s, e, _)| (*s..*e).contains(&at)) {
            Some(&(_, _, item)) => Place::Glue(item),
            None => Place::Elsewhere,
        }
    }

    /// The byte offset of a 1-based line and column (in characters), as in
    /// a panic's location.
    pub(super) fn offset_of(&self, line: u32, column: u32) -> Option<usize> {
        let start = *self.line_starts.get((line as usize).checked_sub(1)?)?;
        let rest = &self.text[start..];
        let column = (column as usize).checked_sub(1)?;
        Some(
            start
                + rest
                    .char_indices()
                    .nth(column)
                    .map_or(rest.len(), |(at, _)| at),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::Item;
    use super::*;

    fn fragment(text: &str, first: usize) -> Fragment {
        // One mark per space-separated word.
        let mut marks = Vec::new();
        let mut at = 0;
        for (ordinal, word) in (first..).zip(text.split(' ')) {
            marks.push((at, ordinal));
            at += word.len() + 1;
        }
        Fragment {
            text: text.to_owned(),
            marks,
        }
    }

    fn block() -> Block {
        Block {
            helpers: vec![fragment("fn two ( ) -> u32 { 2 }", 0)],
            items: vec![
                Item {
                    name: "A".into(),
                    eval_type: "u32".into(),
                    init: fragment("two ( )", 20),
                    ..Item::default()
                },
                Item {
                    name: "B".into(),
                    eval_type: "[u32; _]".into(),
                    init: fragment("[ A ; 3 ]", 30),
                    fallback: true,
                    uses: vec![0],
                    convert: false,
                },
            ],
            ..Block::default()
        }
    }

    #[test]
    fn tokens_map_back_to_their_ordinals_and_owners() {
        let program = generate(&block(), &[false, false]);
        let at = program.text.find("-> u32").unwrap();
        assert_eq!(program.locate(at + 1), Place::Token(4, Owner::Helper(0)));
        let at = program.text.find("[ A ; 3 ]").unwrap();
        assert_eq!(program.locate(at + 2), Place::Token(31, Owner::Item(1)));
        let at = program
            .text
            .find("let A = __staged::harness::dep(__staged_v0, 0);")
            .unwrap();
        assert_eq!(program.locate(at), Place::Glue(1));
        assert_eq!(program.locate(0), Place::Elsewhere);
    }

    #[test]
    fn excluded_items_are_left_out() {
        let program = generate(&block(), &[false, true]);
        assert!(program.text.contains("item(0,"));
        assert!(!program.text.contains("item(1,"));
    }

    #[test]
    fn lines_and_columns_become_offsets() {
        let program = generate(&block(), &[false, false]);
        let at = program.text.find("two ( )\n").unwrap();
        let line = program.text[..at].matches('\n').count() as u32 + 1;
        let column = (at - program.text[..at].rfind('\n').unwrap()) as u32;
        assert_eq!(program.offset_of(line, column), Some(at));
        assert_eq!(program.offset_of(0, 1), None);
    }
}
