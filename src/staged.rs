//! [`Staged<T>`]: the type of a `const_init!` item marked
//! `#[fallback(lazy)]`, the same whether its value was computed on the build
//! host or is computed on first access.

use core::fmt;
use core::ops::Deref;

mod cell;
pub mod support;

use cell::Lazy;

/// A value computed at build time when possible, else on first access at
/// run time.
///
/// `const_init!` gives an item marked `#[fallback(lazy)]` this type whatever
/// happens to its evaluation, so a build where the initializer cannot run on
/// the build host (it reads the environment, a file the sandbox hides, or
/// takes too long) changes when the value is computed, never a type:
///
/// ```
/// staged::const_init! {
///     /// Squares, baked when the build host can compute them.
///     #[fallback(lazy)]
///     pub static SQUARES: [u64; 8] = std::array::from_fn(|i| (i * i) as u64);
/// }
///
/// assert_eq!(SQUARES[7], 49);
/// assert!(SQUARES.is_baked());
/// ```
///
/// A baked value lives in read-only data: the static holds a reference to
/// it, and `Deref` folds to a load. A lazy one is a
/// [`std::sync::LazyLock`] with `std`, and a race-safe once cell without.
pub struct Staged<T: 'static> {
    repr: Repr<T>,
}

/// Both variants are references, so a `static` of this type has no interior
/// mutability of its own and stays in read-only memory when baked.
enum Repr<T: 'static> {
    Baked(&'static T),
    Lazy(&'static Lazy<T>),
}

impl<T: 'static> Staged<T> {
    /// A value computed ahead of time.
    ///
    /// ```
    /// static ANSWER: staged::Staged<u32> = staged::Staged::baked(&42);
    /// assert_eq!(*ANSWER, 42);
    /// ```
    pub const fn baked(value: &'static T) -> Self {
        Self {
            repr: Repr::Baked(value),
        }
    }

    /// A value computed by `cell` on first access. What `const_init!` emits
    /// when evaluation failed; not a stable API.
    #[doc(hidden)]
    pub const fn lazy(cell: &'static Lazy<T>) -> Self {
        Self {
            repr: Repr::Lazy(cell),
        }
    }

    /// Whether the value was computed at build time.
    pub const fn is_baked(&self) -> bool {
        matches!(self.repr, Repr::Baked(_))
    }

    /// The value, computing it now if it is lazy and this is the first
    /// access.
    ///
    /// # Panics
    ///
    /// When the run-time initializer panics (then, or on an earlier access).
    #[inline]
    pub fn get(&self) -> &T {
        match self.repr {
            Repr::Baked(value) => value,
            Repr::Lazy(cell) => cell.force(),
        }
    }
}

impl<T: 'static> Deref for Staged<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        self.get()
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Staged<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.get(), f)
    }
}

impl<T: fmt::Display + 'static> fmt::Display for Staged<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.get(), f)
    }
}

impl<T: 'static> AsRef<T> for Staged<T> {
    fn as_ref(&self) -> &T {
        self.get()
    }
}
