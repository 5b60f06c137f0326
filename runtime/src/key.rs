//! The values a site is specialized on, as keys of its table.
//!
//! The dispatcher holds the specialized arguments as a tuple of borrowed
//! values (`(n,)`, `(m, name)`); the table holds owned copies. [`Key`] compares
//! the two without allocating, so a hit never copies a `&str`.

use std::fmt::Debug;
use std::hash::Hash;

use staged_build::bake::Bake;

/// One specialized argument: an integer, `bool`, `char`, `f32`, `f64`,
/// `&str`, or a structured value behind [`Enc`].
pub trait KeyPart {
    /// The form kept in the table. Floats are kept as their bit pattern, so
    /// `-0.0` and `0.0` are different keys and every NaN payload is its own.
    type Owned: Eq + Hash + Clone + Debug + Send + Sync + 'static;
    /// Whether `owned` is this value.
    fn matches(&self, owned: &Self::Owned) -> bool;
    /// The owned form of this value.
    fn to_owned_part(&self) -> Self::Owned;
    /// Writes the owned value as a literal of the parameter's type.
    fn bake_owned(owned: &Self::Owned, out: &mut String);
    /// Mixes the value into `h`, for finding it in the site's table: a
    /// multiply per word, and the same as [`fold_owned`](Self::fold_owned)
    /// of its owned form.
    fn fold(&self, h: u64) -> u64;
    /// Mixes an owned value into `h`, as [`fold`](Self::fold) does the
    /// value it was made from.
    fn fold_owned(owned: &Self::Owned, h: u64) -> u64;
    /// The number of elements of a slice or an array value.
    fn len_owned(owned: &Self::Owned) -> Option<usize> {
        let _ = owned;
        None
    }
    /// Whether the value's literal is longer than `STAGED_VALUE_MAX_BYTES`
    /// (it then has none, and runs generic).
    fn too_long(owned: &Self::Owned) -> bool {
        let _ = owned;
        false
    }
}

/// One step of the table's hash: a word in, one multiply by 2^64 over the
/// golden ratio, whose high bits (which the table uses) spread even
/// consecutive values evenly.
#[inline]
fn step(h: u64, v: u64) -> u64 {
    (h.rotate_left(26) ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The table's hash of a string: its length, then its bytes by words.
fn fold_str(h: u64, s: &str) -> u64 {
    let chunks = s.as_bytes().chunks(8);
    chunks.fold(step(h, s.len() as u64), |h, c| {
        let mut word = [0u8; 8];
        word[..c.len()].copy_from_slice(c);
        step(h, u64::from_le_bytes(word))
    })
}

macro_rules! plain_parts {
    ($($t:ty)*) => {$(
        impl KeyPart for $t {
            type Owned = $t;
            #[inline]
            fn matches(&self, owned: &$t) -> bool {
                self == owned
            }
            fn to_owned_part(&self) -> $t {
                *self
            }
            fn bake_owned(owned: &$t, out: &mut String) {
                owned.bake(out);
            }
            #[inline]
            fn fold(&self, h: u64) -> u64 {
                // Wider values fold their high half in; the second step
                // folds away for narrow types.
                #[allow(clippy::unnecessary_cast)]
                let v = *self as u128;
                let h = step(h, v as u64);
                if size_of::<$t>() > 8 { step(h, (v >> 64) as u64) } else { h }
            }
            #[inline]
            fn fold_owned(owned: &$t, h: u64) -> u64 {
                owned.fold(h)
            }
        }
    )*};
}
plain_parts!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize bool char);

macro_rules! float_parts {
    ($($t:ident => $bits:ident)*) => {$(
        impl KeyPart for $t {
            type Owned = $bits;
            #[inline]
            fn matches(&self, owned: &$bits) -> bool {
                self.to_bits() == *owned
            }
            fn to_owned_part(&self) -> $bits {
                self.to_bits()
            }
            fn bake_owned(owned: &$bits, out: &mut String) {
                $t::from_bits(*owned).bake(out);
            }
            #[inline]
            fn fold(&self, h: u64) -> u64 {
                step(h, u64::from(self.to_bits()))
            }
            #[inline]
            fn fold_owned(owned: &$bits, h: u64) -> u64 {
                step(h, u64::from(*owned))
            }
        }
    )*};
}
float_parts!(f32 => u32 f64 => u64);

impl KeyPart for &str {
    type Owned = Box<str>;
    #[inline]
    fn matches(&self, owned: &Box<str>) -> bool {
        **self == **owned
    }
    fn to_owned_part(&self) -> Box<str> {
        (*self).into()
    }
    fn bake_owned(owned: &Box<str>, out: &mut String) {
        owned.bake(out);
    }
    #[inline]
    fn fold(&self, h: u64) -> u64 {
        fold_str(h, self)
    }
    #[inline]
    fn fold_owned(owned: &Box<str>, h: u64) -> u64 {
        fold_str(h, owned)
    }
}

/// Receives the words of a structured value, one at a time (see
/// [`Encode`]).
pub trait Sink {
    /// Takes the next word.
    fn word(&mut self, w: u64);
}

/// A structured value (an array, a slice, a tuple, an `Option`, a struct or
/// enum of a `#[staged::self_contained]` module, and the scalars they hold)
/// as a key: a sequence of words that tells every two values of its type
/// apart (floats by their bits, a slice by its length first, an enum by its
/// variant first), and its literal, written by the literal renderer.
///
/// The expansion implements it for the module's types; the user's types
/// need no derives.
pub trait Encode {
    /// Writes the value's words to `sink`.
    fn encode<S: Sink>(&self, sink: &mut S);
    /// Appends the value as a literal of its type (see
    /// `staged_build::bake`), a constant expression.
    fn write_literal(&self, out: &mut String);
    /// The number of elements, for a slice or an array: what
    /// `#[staged::unroll]` makes one copy of its loop body for.
    fn elements(&self) -> Option<usize> {
        None
    }
}

macro_rules! encode_plain {
    ($($t:ty)*) => {$(
        impl Encode for $t {
            #[inline]
            fn encode<S: Sink>(&self, sink: &mut S) {
                #[allow(clippy::unnecessary_cast)]
                let v = *self as u128;
                sink.word(v as u64);
                if size_of::<$t>() > 8 {
                    sink.word((v >> 64) as u64);
                }
            }
            fn write_literal(&self, out: &mut String) {
                Bake::bake(self, out);
            }
        }
    )*};
}
encode_plain!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize bool char);

impl Encode for f32 {
    #[inline]
    fn encode<S: Sink>(&self, sink: &mut S) {
        sink.word(u64::from(self.to_bits()));
    }
    fn write_literal(&self, out: &mut String) {
        Bake::bake(self, out);
    }
}

impl Encode for f64 {
    #[inline]
    fn encode<S: Sink>(&self, sink: &mut S) {
        sink.word(self.to_bits());
    }
    fn write_literal(&self, out: &mut String) {
        Bake::bake(self, out);
    }
}

impl Encode for str {
    #[inline]
    fn encode<S: Sink>(&self, sink: &mut S) {
        sink.word(self.len() as u64);
        for chunk in self.as_bytes().chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            sink.word(u64::from_le_bytes(word));
        }
    }
    fn write_literal(&self, out: &mut String) {
        Bake::bake(self, out);
    }
}

/// A slice, written `&[a, b]`: the form of a `&'static [T]`.
impl<T: Encode> Encode for [T] {
    #[inline]
    fn encode<S: Sink>(&self, sink: &mut S) {
        sink.word(self.len() as u64);
        for v in self {
            v.encode(sink);
        }
    }
    fn write_literal(&self, out: &mut String) {
        out.push_str("&[");
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            v.write_literal(out);
        }
        out.push(']');
    }
    fn elements(&self) -> Option<usize> {
        Some(<[T]>::len(self))
    }
}

impl<T: Encode, const N: usize> Encode for [T; N] {
    #[inline]
    fn encode<S: Sink>(&self, sink: &mut S) {
        for v in self {
            v.encode(sink);
        }
    }
    fn write_literal(&self, out: &mut String) {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            v.write_literal(out);
        }
        out.push(']');
    }
    fn elements(&self) -> Option<usize> {
        Some(N)
    }
}

/// A reference is its target: `&str` bakes as a string literal, `&[T]` as
/// a slice.
impl<T: Encode + ?Sized> Encode for &T {
    #[inline]
    fn encode<S: Sink>(&self, sink: &mut S) {
        (**self).encode(sink);
    }
    fn write_literal(&self, out: &mut String) {
        (**self).write_literal(out);
    }
    fn elements(&self) -> Option<usize> {
        (**self).elements()
    }
}

impl<T: Encode> Encode for Option<T> {
    #[inline]
    fn encode<S: Sink>(&self, sink: &mut S) {
        match self {
            None => sink.word(0),
            Some(v) => {
                sink.word(1);
                v.encode(sink);
            }
        }
    }
    fn write_literal(&self, out: &mut String) {
        match self {
            None => out.push_str("::core::option::Option::None"),
            Some(v) => {
                out.push_str("::core::option::Option::Some(");
                v.write_literal(out);
                out.push(')');
            }
        }
    }
}

macro_rules! encode_tuples {
    ($(($($name:ident $idx:tt),+))*) => {$(
        impl<$($name: Encode),+> Encode for ($($name,)+) {
            #[inline]
            fn encode<S: Sink>(&self, sink: &mut S) {
                $(self.$idx.encode(sink);)+
            }
            fn write_literal(&self, out: &mut String) {
                out.push('(');
                $(self.$idx.write_literal(out); out.push_str(", ");)+
                out.push(')');
            }
        }
    )*};
}
encode_tuples! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

/// A specialized argument of a structured type, as the dispatcher hands it
/// to the site: `Enc(&plan)` (or `Enc(plan)`, taken by `prepare`).
pub struct Enc<T>(pub T);

/// The owned form of a structured value: its words (which equality and
/// hashing use) and its literal, made once. A literal longer than
/// `STAGED_VALUE_MAX_BYTES` is not kept: such a value runs generic.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Encoded {
    words: Box<[u64]>,
    literal: Literal,
    len: Option<usize>,
}

/// The literal of an [`Encoded`] value, or how long it would have been.
#[derive(Clone, Debug)]
enum Literal {
    Text(Box<str>),
    TooLong,
}

// The literal follows from the words: it takes no part in comparisons.
impl PartialEq for Literal {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Literal {}
impl std::hash::Hash for Literal {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// Collects words.
struct Words(Vec<u64>);
impl Sink for Words {
    #[inline]
    fn word(&mut self, w: u64) {
        self.0.push(w);
    }
}

/// Compares words with an owned value's, as they come.
struct Compare<'a> {
    words: &'a [u64],
    at: usize,
    same: bool,
}
impl Sink for Compare<'_> {
    #[inline]
    fn word(&mut self, w: u64) {
        self.same &= self.words.get(self.at) == Some(&w);
        self.at += 1;
    }
}

/// Folds words into the table's hash.
struct Fold {
    h: u64,
}
impl Sink for Fold {
    #[inline]
    fn word(&mut self, w: u64) {
        self.h = step(self.h, w);
    }
}

impl<T: Encode> KeyPart for Enc<T> {
    type Owned = Encoded;
    #[inline]
    fn matches(&self, owned: &Encoded) -> bool {
        let mut compare = Compare {
            words: &owned.words,
            at: 0,
            same: true,
        };
        self.0.encode(&mut compare);
        compare.same && compare.at == owned.words.len()
    }
    fn to_owned_part(&self) -> Encoded {
        let mut words = Words(Vec::new());
        self.0.encode(&mut words);
        // Every word takes at least a byte of the literal: a value with
        // more words than the limit has bytes is too long without writing
        // it out.
        let max = crate::config::HOT.value_max_bytes();
        let literal = if words.0.len() > max {
            Literal::TooLong
        } else {
            let mut text = String::new();
            self.0.write_literal(&mut text);
            if text.len() > max {
                Literal::TooLong
            } else {
                Literal::Text(text.into())
            }
        };
        Encoded {
            words: words.0.into(),
            literal,
            len: self.0.elements(),
        }
    }
    fn bake_owned(owned: &Encoded, out: &mut String) {
        if let Literal::Text(t) = &owned.literal {
            out.push_str(t);
        }
    }
    #[inline]
    fn fold(&self, h: u64) -> u64 {
        let mut fold = Fold { h };
        self.0.encode(&mut fold);
        fold.h
    }
    fn fold_owned(owned: &Encoded, h: u64) -> u64 {
        owned.words.iter().fold(h, |h, &w| step(h, w))
    }
    fn len_owned(owned: &Encoded) -> Option<usize> {
        owned.len
    }
    fn too_long(owned: &Encoded) -> bool {
        matches!(owned.literal, Literal::TooLong)
    }
}

/// The tuple of a call's specialized arguments, in signature order.
pub trait Key {
    /// The tuple of owned parts kept in the table.
    type Owned: Eq + Hash + Clone + Debug + Send + Sync + 'static;
    /// Whether `owned` holds exactly these values.
    fn matches(&self, owned: &Self::Owned) -> bool;
    /// The owned form of these values.
    fn to_owned_key(&self) -> Self::Owned;
    /// Appends one literal per part, in order, for source generation.
    fn bake_owned(owned: &Self::Owned, out: &mut Vec<String>);
    /// A cheaper hash of the values, for finding them in the site's table;
    /// equal to [`table_hash_owned`](Self::table_hash_owned) of the owned
    /// form.
    fn table_hash(&self) -> u64;
    /// The table's hash of owned values, as [`table_hash`](Self::table_hash)
    /// of the values they were made from.
    fn table_hash_owned(owned: &Self::Owned) -> u64;
    /// The number of elements of each part that is a slice or an array, in
    /// order (for `#[staged::unroll]`).
    fn lens_owned(owned: &Self::Owned) -> Vec<Option<usize>>;
    /// Whether a part's literal is longer than `STAGED_VALUE_MAX_BYTES`.
    fn too_long(owned: &Self::Owned) -> bool;
}

macro_rules! tuple_keys {
    ($(($($name:ident $idx:tt),+))*) => {$(
        impl<$($name: KeyPart),+> Key for ($($name,)+) {
            type Owned = ($($name::Owned,)+);
            #[inline]
            fn matches(&self, owned: &Self::Owned) -> bool {
                true $(&& self.$idx.matches(&owned.$idx))+
            }
            fn to_owned_key(&self) -> Self::Owned {
                ($(self.$idx.to_owned_part(),)+)
            }
            fn bake_owned(owned: &Self::Owned, out: &mut Vec<String>) {
                $({
                    let mut s = String::new();
                    $name::bake_owned(&owned.$idx, &mut s);
                    out.push(s);
                })+
            }
            #[inline]
            fn table_hash(&self) -> u64 {
                let h = 0;
                $(let h = self.$idx.fold(h);)+
                h
            }
            #[inline]
            fn table_hash_owned(owned: &Self::Owned) -> u64 {
                let h = 0;
                $(let h = $name::fold_owned(&owned.$idx, h);)+
                h
            }
            fn lens_owned(owned: &Self::Owned) -> Vec<Option<usize>> {
                vec![$($name::len_owned(&owned.$idx)),+]
            }
            fn too_long(owned: &Self::Owned) -> bool {
                false $(|| $name::too_long(&owned.$idx))+
            }
        }
    )*};
}
tuple_keys! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

#[cfg(test)]
mod tests {
    use super::Key;
    use proptest::prelude::*;

    /// Whether `key` and its owned form hash alike.
    fn alike<K: Key>(key: &K) -> bool {
        key.table_hash() == K::table_hash_owned(&key.to_owned_key())
    }

    proptest! {
        /// A value and its owned form hash alike, or the table would not
        /// find the entry it made for a value when the value comes again.
        #[test]
        fn borrowed_and_owned_values_hash_alike(
            small in (any::<u8>(), any::<i16>(), any::<bool>(), any::<char>()),
            wide in (any::<u64>(), any::<i128>(), any::<u128>(), any::<isize>()),
            float in (any::<u32>(), any::<u64>()),
            text in ".{0,40}",
        ) {
            prop_assert!(alike(&small));
            prop_assert!(alike(&wide));
            // Floats from any bit pattern: NaNs and -0.0 included.
            prop_assert!(alike(&(f32::from_bits(float.0), f64::from_bits(float.1))));
            prop_assert!(alike(&(text.as_str(), small.0)));
        }
    }

    #[test]
    fn floats_compare_by_bits() {
        let zero = (0.0f64,).to_owned_key();
        assert!((0.0f64,).matches(&zero));
        assert!(!(-0.0f64,).matches(&zero));
        let nan = (f32::from_bits(0x7fc0_0001),).to_owned_key();
        assert!((f32::from_bits(0x7fc0_0001),).matches(&nan));
        assert!(!(f32::NAN,).matches(&nan));
    }

    #[test]
    fn strings_compare_by_content_and_bake_escaped() {
        let owned = (3u8, "a\"b").to_owned_key();
        assert!((3u8, "a\"b").matches(&owned));
        assert!(!(3u8, "a\"c").matches(&owned));
        let mut lits = Vec::new();
        <(u8, &str)>::bake_owned(&owned, &mut lits);
        assert_eq!(lits, ["3u8", r#""a\"b""#]);
    }
}
