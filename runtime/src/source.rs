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

/// Fills `pieces`: `values` for the value holes, `name` and `symbol` for
/// the others.
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
        }
    }
}
