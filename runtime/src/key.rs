//! The values a site is specialized on, as keys of its table.
//!
//! The dispatcher holds the specialized arguments as a tuple of borrowed
//! values (`(n,)`, `(m, name)`); the table holds owned copies. [`Key`] compares
//! the two without allocating, so a hit never copies a `&str`.

use std::fmt::Debug;
use std::hash::Hash;

use staged_build::bake::Bake;

/// One specialized argument: an integer, `bool`, `char`, `f32`, `f64` or `&str`.
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
    /// Mixes the value into `h`, for counting calls per value.
    fn mix(&self, h: u64) -> u64;
    /// Mixes the value into `h`, for finding it in the site's table: a
    /// multiply per word, and the same as [`fold_owned`](Self::fold_owned)
    /// of its owned form.
    fn fold(&self, h: u64) -> u64;
    /// Mixes an owned value into `h`, as [`fold`](Self::fold) does the
    /// value it was made from.
    fn fold_owned(owned: &Self::Owned, h: u64) -> u64;
}

/// One step of FNV-1a over the 8 bytes of `v`.
#[inline]
fn fnv(h: u64, v: u64) -> u64 {
    v.to_le_bytes()
        .iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
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
            fn mix(&self, h: u64) -> u64 {
                // Wider values fold their high half in.
                #[allow(clippy::unnecessary_cast)]
                let v = *self as u128;
                fnv(fnv(h, v as u64), (v >> 64) as u64)
            }
            #[inline]
            fn fold(&self, h: u64) -> u64 {
                // As in `mix`; the second step folds away for narrow types.
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
            fn mix(&self, h: u64) -> u64 {
                fnv(h, u64::from(self.to_bits()))
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
    fn mix(&self, h: u64) -> u64 {
        self.bytes()
            .fold(fnv(h, self.len() as u64), |h, b| fnv(h, u64::from(b)))
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
    /// A hash of the values, for counting calls per value.
    fn sketch(&self) -> u64;
    /// A cheaper hash of the values, for finding them in the site's table;
    /// equal to [`table_hash_owned`](Self::table_hash_owned) of the owned
    /// form.
    fn table_hash(&self) -> u64;
    /// The table's hash of owned values, as [`table_hash`](Self::table_hash)
    /// of the values they were made from.
    fn table_hash_owned(owned: &Self::Owned) -> u64;
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
            fn sketch(&self) -> u64 {
                let h = 0xcbf2_9ce4_8422_2325u64;
                $(let h = self.$idx.mix(h);)+
                h
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
