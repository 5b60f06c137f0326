//! What the macro embeds about a function: the one text of its isolated
//! module, written by the macro, from which the static variants were
//! compiled and from which the runtime builds the others, filling only the
//! holes (the values, through the literal renderer, and generated names).

/// The source of a `#[specialize]` function, as the macro wrote it.
#[derive(Debug)]
pub struct FnSource {
    /// The function's name, for messages.
    pub name: &'static str,
    /// The crate that defines it (`CARGO_CRATE_NAME`), for profiles.
    pub krate: &'static str,
    /// `module_path!()` of the function, with its name: its identity in
    /// logs and profiles.
    pub path: &'static str,
    /// The body of the isolated module `__staged`, up to the variants: its
    /// header, the argument block, the layout probes, the generic function
    /// and (in a `#[staged::self_contained]` module) every item of the
    /// module, with the blocks and probes of all its functions.
    pub module: &'static str,
    /// One variant function, with holes for its name and its values.
    pub variant: &'static [Piece],
    /// The `extern "C"` entry of one variant, with holes for its symbol and
    /// the variant's name.
    pub entry: &'static [Piece],
    /// The layout probes as the caller's build computed them (sizes,
    /// alignments and field offsets of the argument block and the result);
    /// a library is used only if it computed the same.
    pub layout: &'static [usize],
    /// The path of those probes in the library's source (`__staged::__LAYOUT`),
    /// where the library computes its own.
    pub layout_path: &'static str,
    /// The edition of the crate that declared the function.
    pub edition: &'static str,
    /// Whether that crate was built with debug assertions.
    pub debug_assertions: bool,
    /// Whether that crate was built with overflow checks.
    pub overflow_checks: bool,
    /// A digest of the function's own source (signature and body), by the
    /// macro: its identity in profiles.
    pub fingerprint: &'static str,
    /// Where the tokens of `module` are, as `(line, column, place)`: the
    /// place a panic at that token is raised again at, with `raise`.
    pub module_marks: &'static [(u32, u32, u16)],
    /// The same for `variant`, with lines counted from the template's start.
    pub variant_marks: &'static [(u32, u32, u16)],
    /// Raises a variant's panic again at a place of the user's source (one
    /// per line of it that the text holds), so that the panic hook reports
    /// the user's file and line.
    pub raise: fn(u16) -> !,
}

/// A piece of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Text copied as it is.
    Text(&'static str),
    /// The literal of the `n`-th specialized value, in signature order.
    Value(usize),
    /// The name of the variant function.
    Name,
    /// The exported symbol of the entry.
    Symbol,
    /// A loop marked `#[staged::unroll]`: `copy` once per element of the
    /// `param`-th specialized value (a slice or an array), with
    /// [`Piece::Index`]`(id)` the element's index in each copy; or, past
    /// `STAGED_UNROLL_MAX` copies, `rolled`: the loop as written. In the
    /// macro's template text, `copy` comes first, then `rolled`.
    Unroll {
        /// Which specialized parameter the loop ranges over.
        param: usize,
        /// The loop's number, for its index holes.
        id: usize,
        /// One copy of the body.
        copy: &'static [Piece],
        /// The loop as written.
        rolled: &'static [Piece],
    },
    /// The index of the current copy of unrolled loop `id`, a `usize`
    /// literal.
    Index(usize),
    /// A loop marked `#[staged::unroll(pc)]`, which reads the `param`-th
    /// specialized value (a program) at a local index: see [`Program`].
    Program(&'static Program),
    /// The position of the current copy of program loop `id`, an
    /// unsuffixed literal.
    Position(usize),
    /// The position a copy of program loop `id` may jump back to.
    Target(usize),
    /// The first position of the current group of program loop `id`.
    Low(usize),
    /// The last position of the current group of program loop `id`.
    High(usize),
}

/// The template of a loop marked `#[staged::unroll(pc)]`, in pieces the
/// runtime repeats: for a program of `n` positions, split into groups of at
/// most [`PROGRAM_GROUP`], the variant holds
///
/// ```text
/// head
/// per group:    group_open (Low, High)
///               per position k: open (Position k)
///                               back (Target j) for each j of the group up to k
///                               close_position (Position k)
///               group_mid, then close_loop once per position, group_close
/// tail
/// ```
///
/// or, past `STAGED_UNROLL_MAX` positions, `rolled`: the loop as written.
/// In the macro's template text the sections come in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Program {
    /// Which specialized parameter the loop reads at its index.
    pub param: usize,
    /// The loop's number, for its holes.
    pub id: usize,
    /// Opens the loop around everything.
    pub head: &'static [Piece],
    /// Enters a group when the index is in it.
    pub group_open: &'static [Piece],
    /// One position: a loop, the copy of the body, and the start of the
    /// jumps back.
    pub open: &'static [Piece],
    /// A jump back to a position of the group.
    pub back: &'static [Piece],
    /// Ends a position's jumps back (its loop stays open).
    pub close_position: &'static [Piece],
    /// After the last position of a group: back to the dispatch.
    pub group_mid: &'static [Piece],
    /// Closes one position's loop.
    pub close_loop: &'static [Piece],
    /// Closes a group.
    pub group_close: &'static [Piece],
    /// The index out of every group: one iteration as written; closes the
    /// loop around everything.
    pub tail: &'static [Piece],
    /// The loop as written.
    pub rolled: &'static [Piece],
}

/// Positions of a program loop per group: each position is a loop nested
/// in the previous one's, and rustc's stack bounds how deep they go.
pub const PROGRAM_GROUP: usize = 64;

impl Program {
    /// The sections in template order.
    pub(crate) fn sections(&self) -> [&'static [Piece]; 10] {
        [
            self.head,
            self.group_open,
            self.open,
            self.back,
            self.close_position,
            self.group_mid,
            self.close_loop,
            self.group_close,
            self.tail,
            self.rolled,
        ]
    }
}

impl Piece {
    /// Appends a description of `pieces` that changes whenever they do,
    /// for the function's fingerprint.
    pub(crate) fn describe(pieces: &[Piece], out: &mut String) {
        for piece in pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Value(i) => out.push_str(&format!("{{value {i}}}")),
                Piece::Name => out.push_str("{name}"),
                Piece::Symbol => out.push_str("{symbol}"),
                Piece::Index(id) => out.push_str(&format!("{{index {id}}}")),
                Piece::Position(id) => out.push_str(&format!("{{position {id}}}")),
                Piece::Target(id) => out.push_str(&format!("{{target {id}}}")),
                Piece::Low(id) => out.push_str(&format!("{{low {id}}}")),
                Piece::High(id) => out.push_str(&format!("{{high {id}}}")),
                Piece::Program(p) => {
                    out.push_str(&format!("{{program {} {}", p.param, p.id));
                    for section in p.sections() {
                        out.push_str(" | ");
                        Self::describe(section, out);
                    }
                    out.push('}');
                }
                Piece::Unroll {
                    param,
                    id,
                    copy,
                    rolled,
                } => {
                    out.push_str(&format!("{{unroll {param} {id} copy "));
                    Self::describe(copy, out);
                    out.push_str(" rolled ");
                    Self::describe(rolled, out);
                    out.push('}');
                }
            }
        }
    }
}

/// One value a library is built for: the literal of each specialized
/// parameter, in signature order, and the number of elements of each that
/// is a slice or an array (what `#[staged::unroll]` repeats its loop body
/// for).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Value {
    /// The literals, written by the literal renderer.
    pub literals: Vec<String>,
    /// The element counts, `None` for a parameter that has none.
    pub lens: Vec<Option<usize>>,
}

impl Value {
    /// A value of scalars: literals only.
    pub fn of_literals(literals: Vec<String>) -> Self {
        Self {
            literals,
            lens: Vec::new(),
        }
    }
}

/// Size and alignment of a type, compared between the caller and a library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Layout {
    /// `size_of`.
    pub size: usize,
    /// `align_of`.
    pub align: usize,
}

impl Layout {
    /// The layout of `T`.
    pub const fn of<T>() -> Self {
        Self {
            size: std::mem::size_of::<T>(),
            align: std::mem::align_of::<T>(),
        }
    }
}

/// Fills `pieces` of a template without loops to unroll (an entry):
/// `values` for the value holes, `name` and `symbol` for the others.
pub(crate) fn fill(
    pieces: &[Piece],
    values: &[String],
    name: &str,
    symbol: &str,
    out: &mut String,
) {
    for piece in pieces {
        match *piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Value(i) => out.push_str(values.get(i).map_or("", String::as_str)),
            Piece::Name => out.push_str(name),
            Piece::Symbol => out.push_str(symbol),
            Piece::Unroll { rolled, .. } => fill(rolled, values, name, symbol, out),
            Piece::Program(p) => fill(p.rolled, values, name, symbol, out),
            Piece::Index(_) => out.push_str("0usize"),
            Piece::Position(_) | Piece::Target(_) | Piece::Low(_) | Piece::High(_) => {
                out.push('0');
            }
        }
    }
}
