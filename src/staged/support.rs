//! What the expansion of `const_init!` calls: rebuilding numbers from bytes
//! in a const context, and the run-time side of `#[fallback(lazy)]`. Not a
//! public API: names and signatures here change without notice.

pub use super::cell::Lazy;

mod sealed {
    pub trait Sealed {}
}

/// A type every bit pattern of which is a valid value, without padding:
/// numbers, and arrays of them.
pub trait Plain: Copy + sealed::Sealed {}

macro_rules! plain {
    ($($t:ty)*) => {$(
        impl sealed::Sealed for $t {}
        impl Plain for $t {}
    )*};
}
plain!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64);

impl<T: Plain, const N: usize> sealed::Sealed for [T; N] {}
impl<T: Plain, const N: usize> Plain for [T; N] {}

#[repr(C)]
union Pun<T: Copy, const B: usize> {
    bytes: [u8; B],
    value: T,
}

/// The `T` whose in-memory bytes are `bytes`, in a const context: one copy,
/// however many numbers `T` holds (a `const fn` loop over a million
/// elements would run into rustc's const-evaluation limit).
///
/// # Panics
///
/// When `B` is not the size of `T` (at compile time, in a const context).
#[inline]
pub const fn from_bytes<T: Plain, const B: usize>(bytes: [u8; B]) -> T {
    assert!(
        core::mem::size_of::<T>() == B,
        "staged: blob size does not match its type"
    );
    // SAFETY: `T: Plain` has no padding and accepts every bit pattern, and
    // `bytes` covers all of it (the sizes are equal), so reading `value`
    // reads initialized bytes that form a valid `T`.
    unsafe { Pun::<T, B> { bytes }.value }
}

/// Turns what an initializer returns into the item's declared type at run
/// time, as the build-time evaluator does: `Vec<T>` becomes `&'static [T]`
/// (leaked: the item lives as long as the program), `String` becomes
/// `&'static str`, and arrays, tuples and `Option`s convert element-wise.
#[diagnostic::on_unimplemented(
    message = "an initializer of type `{Self}` cannot be baked as `{T}`",
    label = "this produces `{Self}`",
    note = "a `&'static [T]` item takes a `Vec<T>`, an array or a `&'static [T]`; a `&'static str` item takes a `String` or a `&'static str`"
)]
pub trait BakeAs<T> {
    /// The value as a `T`.
    fn bake_as(self) -> T;
}

macro_rules! identity {
    ($($t:ty),*) => {$(
        impl BakeAs<$t> for $t {
            #[inline]
            fn bake_as(self) -> $t {
                self
            }
        }
    )*};
}
identity!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    (),
    &'static str
);

impl<A: BakeAs<B>, B, const N: usize> BakeAs<[B; N]> for [A; N] {
    fn bake_as(self) -> [B; N] {
        self.map(BakeAs::bake_as)
    }
}

impl<A: BakeAs<B>, B> BakeAs<Option<B>> for Option<A> {
    fn bake_as(self) -> Option<B> {
        self.map(BakeAs::bake_as)
    }
}

#[cfg(feature = "alloc")]
mod owned {
    use alloc::boxed::Box;
    use alloc::string::String;
    use alloc::vec::Vec;

    use super::BakeAs;

    fn leak<A: BakeAs<B>, B: 'static>(items: impl Iterator<Item = A>) -> &'static [B] {
        items.map(BakeAs::bake_as).collect::<Vec<B>>().leak()
    }

    impl<A: BakeAs<B>, B: 'static> BakeAs<&'static [B]> for Vec<A> {
        fn bake_as(self) -> &'static [B] {
            leak(self.into_iter())
        }
    }

    impl<A: BakeAs<B>, B: 'static> BakeAs<&'static [B]> for Box<[A]> {
        fn bake_as(self) -> &'static [B] {
            leak(self.into_vec().into_iter())
        }
    }

    impl<A: BakeAs<B>, B: 'static, const N: usize> BakeAs<&'static [B]> for [A; N] {
        fn bake_as(self) -> &'static [B] {
            leak(self.into_iter())
        }
    }

    impl<A: BakeAs<B> + Copy, B: 'static> BakeAs<&'static [B]> for &'static [A] {
        fn bake_as(self) -> &'static [B] {
            leak(self.iter().copied())
        }
    }

    impl<A: BakeAs<B> + Copy, B: 'static, const N: usize> BakeAs<&'static [B]> for &'static [A; N] {
        fn bake_as(self) -> &'static [B] {
            leak(self.iter().copied())
        }
    }

    impl<A: BakeAs<B>, B, const N: usize> BakeAs<[B; N]> for Vec<A> {
        fn bake_as(self) -> [B; N] {
            let len = self.len();
            let items: Vec<B> = self.into_iter().map(BakeAs::bake_as).collect();
            items.try_into().unwrap_or_else(|_| {
                panic!("the initializer produced {len} elements for an array of {N}")
            })
        }
    }

    impl BakeAs<&'static str> for String {
        fn bake_as(self) -> &'static str {
            self.leak()
        }
    }

    impl BakeAs<&'static str> for Box<str> {
        fn bake_as(self) -> &'static str {
            Box::leak(self)
        }
    }
}

macro_rules! tuples {
    ($(($($a:ident $b:ident $i:tt),*))*) => {$(
        impl<$($a: BakeAs<$b>, $b),*> BakeAs<($($b,)*)> for ($($a,)*) {
            #[allow(clippy::unused_unit)]
            fn bake_as(self) -> ($($b,)*) {
                ($(self.$i.bake_as(),)*)
            }
        }
    )*};
}
tuples! {
    (A1 B1 0)
    (A1 B1 0, A2 B2 1)
    (A1 B1 0, A2 B2 1, A3 B3 2)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6, A8 B8 7)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6, A8 B8 7, A9 B9 8)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6, A8 B8 7, A9 B9 8, A10 B10 9)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6, A8 B8 7, A9 B9 8, A10 B10 9, A11 B11 10)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6, A8 B8 7, A9 B9 8, A10 B10 9, A11 B11 10, A12 B12 11)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: [u32; 3] = from_bytes(*b"\x01\0\0\0\x02\0\0\0\x03\0\0\0");

    #[test]
    fn bytes_become_numbers_in_a_const_context() {
        #[cfg(target_endian = "little")]
        assert_eq!(TABLE, [1, 2, 3]);
        const GRID: [[u8; 2]; 2] = from_bytes(*b"abcd");
        assert_eq!(GRID, [*b"ab", *b"cd"]);
        const F: f32 = from_bytes(1.5f32.to_ne_bytes());
        assert_eq!(F, 1.5);
    }

    #[test]
    fn owned_results_become_declared_types() {
        let s: &'static [&'static str] = alloc::vec![alloc::string::String::from("a")].bake_as();
        assert_eq!(s, ["a"]);
        let t: (Option<[u8; 2]>, &'static [u16]) = (Some([1u8, 2]), alloc::vec![3u16]).bake_as();
        assert_eq!(t, (Some([1, 2]), &[3u16][..]));
        let a: [u8; 2] = alloc::vec![1u8, 2].bake_as();
        assert_eq!(a, [1, 2]);
    }
}
