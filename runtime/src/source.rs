//! What the macro embeds about a function, so that the runtime can write its
//! source again with a value in it.

/// The source of a `#[specialize]` function, as tokens rendered to text.
///
/// The macro fills this in; the runtime assembles an isolated module from it
/// (the generic function under its own name, so recursion works, and one
/// variant per value) exactly as the macro does for the static variants.
#[derive(Debug)]
pub struct FnSource {
    /// The function's name.
    pub name: &'static str,
    /// Its generic parameters (lifetimes only), `<'a>`, or `""`.
    pub generics: &'static str,
    /// Its parameters, in order.
    pub params: &'static [Param],
    /// The return type, `()` when there is none.
    pub output: &'static str,
    /// The return type with every lifetime but `'static` written `'_`.
    pub output_erased: &'static str,
    /// Lint attributes and the body's inner attributes, as outer attributes.
    pub attrs: &'static str,
    /// The body's statements, without the braces.
    pub body: &'static str,
    /// Whether the function is an `unsafe fn`.
    pub is_unsafe: bool,
    /// The edition of the crate that declared it (`"2021"`, `"2024"`).
    pub edition: &'static str,
    /// Whether the declaring crate was built with debug assertions (and so,
    /// as cargo's profiles have it, overflow checks).
    pub debug_assertions: bool,
    /// Size and alignment of the tuple of the parameters that are not
    /// specialized, as the caller passes them.
    pub args_layout: Layout,
    /// Size and alignment of the return type.
    pub ret_layout: Layout,
}

/// One parameter of a [`FnSource`].
#[derive(Debug)]
pub struct Param {
    /// The pattern, such as `x` or `mut n`.
    pub pat: &'static str,
    /// The type.
    pub ty: &'static str,
    /// The type with every lifetime but `'static` written `'_`.
    pub ty_erased: &'static str,
    /// Whether this parameter is specialized (bound to a literal in variants).
    pub specialized: bool,
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
