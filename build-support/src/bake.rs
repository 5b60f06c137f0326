//! The literal renderer: the only way a value is written into generated
//! source.
//!
//! Every value becomes a literal whose meaning cannot depend on the text
//! around it: integers carry their type suffix, floats are rebuilt from their
//! bit pattern (so `-0.0`, NaN payloads and subnormals survive exactly), and
//! `char`/`&str` are escaped so that only printable ASCII other than quotes and
//! backslashes appears verbatim. No value can close a literal early and
//! inject code.
//!
//! Compound values follow their declared types: arrays `[a, b]`, tuples,
//! `Option`, and slices and strings behind a `&'static` reference, which is
//! also what an owned `Vec<T>` or `String` renders as. [`Bake::bake`] writes
//! everything inline; [`Bake::bake_into`] writes into a [`Baker`], which
//! moves large numeric arrays and long strings out of the text into
//! [`Blob`]s (bytes), so that a table of a million numbers becomes one byte
//! string instead of a million tokens. Turning blobs back into source is the
//! job of `crate::emit`.
//!
//! This file depends on nothing but `std`, so that it can also be compiled
//! into generated programs as source.

use std::fmt::Write as _;

/// Arrays and slices of more plain numbers than this become blobs.
pub const BLOB_MIN_ELEMENTS: usize = 256;

/// Strings longer than this (in bytes) become blobs.
pub const STR_BLOB_MIN_BYTES: usize = 64 * 1024;

/// A value that can be written as a Rust literal of its own type.
pub trait Bake {
    /// Appends the literal to `out`.
    fn bake(&self, out: &mut String);

    /// The literal as a new string.
    fn to_literal(&self) -> String {
        let mut out = String::new();
        self.bake(&mut out);
        out
    }

    /// Appends the literal to `out`, where large numeric arrays and long
    /// strings become blobs; the text then names them (see [`Baker`]).
    fn bake_into(&self, out: &mut Baker) {
        self.bake(&mut out.text);
    }

    /// What every value of this type is made of, if it is a fixed number of
    /// plain numbers (a number, or an array of them): such values can be
    /// stored as bytes.
    #[doc(hidden)]
    fn plain() -> Option<Plain>
    where
        Self: Sized,
    {
        None
    }

    /// For a type with [`Bake::plain`]: appends the value's numbers as
    /// little-endian bytes (`usize`/`isize` as 8 bytes).
    #[doc(hidden)]
    fn plain_bytes(&self, out: &mut Vec<u8>) {
        let _ = out;
    }
}

/// The type a value is baked as, written as Rust source: `Vec<u32>` is
/// baked as `&'static [u32]`, `String` as `&'static str`.
pub trait BakeType {
    /// Appends the type.
    fn bake_type(out: &mut String);

    /// The type as a new string.
    fn type_text() -> String {
        let mut out = String::new();
        Self::bake_type(&mut out);
        out
    }
}

/// A plain number type: the element of a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `u128`
    U128,
    /// `usize`, stored as 8 bytes; its width on the target decides its size.
    Usize,
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `i128`
    I128,
    /// `isize`, stored as 8 bytes.
    Isize,
    /// `f32`, by its bits.
    F32,
    /// `f64`, by its bits.
    F64,
}

const SCALARS: [Scalar; 14] = [
    Scalar::U8,
    Scalar::U16,
    Scalar::U32,
    Scalar::U64,
    Scalar::U128,
    Scalar::Usize,
    Scalar::I8,
    Scalar::I16,
    Scalar::I32,
    Scalar::I64,
    Scalar::I128,
    Scalar::Isize,
    Scalar::F32,
    Scalar::F64,
];

impl Scalar {
    /// The Rust name of the type.
    pub fn name(self) -> &'static str {
        match self {
            Scalar::U8 => "u8",
            Scalar::U16 => "u16",
            Scalar::U32 => "u32",
            Scalar::U64 => "u64",
            Scalar::U128 => "u128",
            Scalar::Usize => "usize",
            Scalar::I8 => "i8",
            Scalar::I16 => "i16",
            Scalar::I32 => "i32",
            Scalar::I64 => "i64",
            Scalar::I128 => "i128",
            Scalar::Isize => "isize",
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
        }
    }

    /// The scalar named `name`.
    pub fn from_name(name: &str) -> Option<Scalar> {
        SCALARS.iter().copied().find(|s| s.name() == name)
    }

    /// Bytes per value in a blob (8 for `usize` and `isize`, whatever the
    /// target's width).
    pub fn stored_size(self) -> usize {
        match self {
            Scalar::U8 | Scalar::I8 => 1,
            Scalar::U16 | Scalar::I16 => 2,
            Scalar::U32 | Scalar::I32 | Scalar::F32 => 4,
            Scalar::U64 | Scalar::I64 | Scalar::F64 | Scalar::Usize | Scalar::Isize => 8,
            Scalar::U128 | Scalar::I128 => 16,
        }
    }

    /// Whether the size depends on the target's pointer width.
    pub fn is_pointer_sized(self) -> bool {
        matches!(self, Scalar::Usize | Scalar::Isize)
    }
}

/// What a plain value is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plain {
    /// The number type.
    pub scalar: Scalar,
    /// How many numbers one value holds.
    pub count: usize,
    /// The value's type, such as `[u8; 16]`.
    pub ty: String,
}

/// Bytes moved out of a literal's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    /// What the bytes are.
    pub kind: BlobKind,
    /// For [`BlobKind::Plain`], the numbers in little-endian order
    /// (`usize`/`isize` as 8 bytes each); for [`BlobKind::Str`], UTF-8.
    pub bytes: Vec<u8>,
}

/// What a [`Blob`] holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobKind {
    /// An array of plain numbers, of type `ty` (such as `[u32; 1000]`); the
    /// text refers to the array by [`Baker::blob_name`].
    Plain {
        /// The number type.
        scalar: Scalar,
        /// The array's type.
        ty: String,
    },
    /// A string; the text refers to it (a `&'static str`) by name.
    Str,
}

/// A literal under construction: text, the blobs it refers to, and the range
/// of its `usize`/`isize` values (which decides the targets it fits).
#[derive(Clone, Debug)]
pub struct Baker {
    /// The literal; blob `i` appears in it as [`Baker::blob_name`]`(i)`.
    pub text: String,
    /// The blobs, in order.
    pub blobs: Vec<Blob>,
    /// The largest `usize` value written, or 0.
    pub usize_max: u64,
    /// The smallest `isize` value written, or 0.
    pub isize_min: i64,
    /// The largest `isize` value written, or 0.
    pub isize_max: i64,
    blobs_enabled: bool,
}

impl Default for Baker {
    fn default() -> Self {
        Self::new()
    }
}

impl Baker {
    /// An empty literal that moves large arrays into blobs.
    pub fn new() -> Self {
        Self {
            text: String::new(),
            blobs: Vec::new(),
            usize_max: 0,
            isize_min: 0,
            isize_max: 0,
            blobs_enabled: true,
        }
    }

    /// An empty literal that keeps everything inline.
    pub fn inline() -> Self {
        Self {
            blobs_enabled: false,
            ..Self::new()
        }
    }

    /// The name that stands for blob `index` in the text.
    pub fn blob_name(index: usize) -> String {
        format!("__STAGED_BLOB_{index}")
    }

    /// Records a `usize` value, for [`Baker::fits_pointer_width`].
    pub fn record_usize(&mut self, value: u64) {
        self.usize_max = self.usize_max.max(value);
    }

    /// Records an `isize` value.
    pub fn record_isize(&mut self, value: i64) {
        self.isize_min = self.isize_min.min(value);
        self.isize_max = self.isize_max.max(value);
    }

    /// What fixed-width integers record: nothing.
    fn record_nothing<T>(&mut self, _: T) {}

    /// Whether every `usize`/`isize` value fits a target with pointers of
    /// `bits` bits.
    pub fn fits_pointer_width(&self, bits: u32) -> bool {
        if bits >= 64 {
            return true;
        }
        let umax = (1u64 << bits) - 1;
        let imax = (1i64 << (bits - 1)) - 1;
        self.usize_max <= umax && self.isize_max <= imax && self.isize_min >= -imax - 1
    }

    /// Writes `plain` values (an array of `len` of them) as a blob when
    /// they hold more than [`BLOB_MIN_ELEMENTS`] numbers; `false` if they
    /// should be written inline.
    fn plain_blob<T: Bake>(&mut self, values: &[T], reference: bool) -> bool {
        let Some(plain) = T::plain() else {
            return false;
        };
        if !self.blobs_enabled || values.len().saturating_mul(plain.count) <= BLOB_MIN_ELEMENTS {
            return false;
        }
        let mut bytes = Vec::with_capacity(values.len() * plain.count * plain.scalar.stored_size());
        for v in values {
            v.plain_bytes(&mut bytes);
        }
        match plain.scalar {
            Scalar::Usize => {
                for chunk in bytes.chunks_exact(8) {
                    self.record_usize(u64::from_le_bytes(eight(chunk)));
                }
            }
            Scalar::Isize => {
                for chunk in bytes.chunks_exact(8) {
                    self.record_isize(i64::from_le_bytes(eight(chunk)));
                }
            }
            _ => {}
        }
        let ty = format!("[{}; {}]", plain.ty, values.len());
        self.push_blob(
            Blob {
                kind: BlobKind::Plain {
                    scalar: plain.scalar,
                    ty,
                },
                bytes,
            },
            reference,
        );
        true
    }

    fn push_blob(&mut self, blob: Blob, reference: bool) {
        if reference {
            self.text.push('&');
        }
        self.text.push_str(&Self::blob_name(self.blobs.len()));
        self.blobs.push(blob);
    }
}

fn eight(chunk: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(chunk);
    a
}

macro_rules! bake_integers {
    ($($t:ident => $scalar:ident, $stored:ty, $record:ident;)*) => {$(
        impl Bake for $t {
            fn bake(&self, out: &mut String) {
                // `-128i8` is accepted by rustc: the negation applies to the
                // suffixed literal as a whole, so every value round-trips.
                let _ = write!(out, "{}{}", self, stringify!($t));
            }

            fn bake_into(&self, out: &mut Baker) {
                out.$record(*self as $stored);
                self.bake(&mut out.text);
            }

            fn plain() -> Option<Plain> {
                Some(Plain { scalar: Scalar::$scalar, count: 1, ty: stringify!($t).to_owned() })
            }

            fn plain_bytes(&self, out: &mut Vec<u8>) {
                // Widening `usize`/`isize` to 8 bytes is lossless on every
                // host this runs on (pointers of at most 64 bits).
                out.extend_from_slice(&(*self as $stored).to_le_bytes());
            }
        }

        impl BakeType for $t {
            fn bake_type(out: &mut String) {
                out.push_str(stringify!($t));
            }
        }
    )*};
}
bake_integers! {
    u8 => U8, u8, record_nothing; u16 => U16, u16, record_nothing;
    u32 => U32, u32, record_nothing; u64 => U64, u64, record_nothing;
    u128 => U128, u128, record_nothing; usize => Usize, u64, record_usize;
    i8 => I8, i8, record_nothing; i16 => I16, i16, record_nothing;
    i32 => I32, i32, record_nothing; i64 => I64, i64, record_nothing;
    i128 => I128, i128, record_nothing; isize => Isize, i64, record_isize;
}

impl Bake for bool {
    fn bake(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl Bake for f32 {
    fn bake(&self, out: &mut String) {
        let _ = write!(
            out,
            "::core::primitive::f32::from_bits({:#010x}u32)",
            self.to_bits()
        );
    }

    fn plain() -> Option<Plain> {
        Some(Plain {
            scalar: Scalar::F32,
            count: 1,
            ty: "f32".to_owned(),
        })
    }

    fn plain_bytes(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bits().to_le_bytes());
    }
}

impl Bake for f64 {
    fn bake(&self, out: &mut String) {
        let _ = write!(
            out,
            "::core::primitive::f64::from_bits({:#018x}u64)",
            self.to_bits()
        );
    }

    fn plain() -> Option<Plain> {
        Some(Plain {
            scalar: Scalar::F64,
            count: 1,
            ty: "f64".to_owned(),
        })
    }

    fn plain_bytes(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bits().to_le_bytes());
    }
}

impl Bake for char {
    fn bake(&self, out: &mut String) {
        out.push('\'');
        escape_char(*self, out);
        out.push('\'');
    }
}

impl Bake for str {
    fn bake(&self, out: &mut String) {
        out.push('"');
        for c in self.chars() {
            escape_char(c, out);
        }
        out.push('"');
    }

    fn bake_into(&self, out: &mut Baker) {
        if out.blobs_enabled && self.len() > STR_BLOB_MIN_BYTES {
            let blob = Blob {
                kind: BlobKind::Str,
                bytes: self.as_bytes().to_vec(),
            };
            out.push_blob(blob, false);
        } else {
            self.bake(&mut out.text);
        }
    }
}

impl Bake for String {
    fn bake(&self, out: &mut String) {
        self.as_str().bake(out);
    }

    fn bake_into(&self, out: &mut Baker) {
        self.as_str().bake_into(out);
    }
}

impl Bake for Box<str> {
    fn bake(&self, out: &mut String) {
        (**self).bake(out);
    }

    fn bake_into(&self, out: &mut Baker) {
        (**self).bake_into(out);
    }
}

impl<T: Bake + ?Sized> Bake for &T {
    fn bake(&self, out: &mut String) {
        (**self).bake(out);
    }

    fn bake_into(&self, out: &mut Baker) {
        (**self).bake_into(out);
    }
}

impl<T: Bake, const N: usize> Bake for [T; N] {
    fn bake(&self, out: &mut String) {
        bake_list(self, out);
    }

    fn bake_into(&self, out: &mut Baker) {
        if !out.plain_blob(self, false) {
            bake_list_into(self, out);
        }
    }

    fn plain() -> Option<Plain> {
        let inner = T::plain()?;
        Some(Plain {
            scalar: inner.scalar,
            count: inner.count * N,
            ty: format!("[{}; {N}]", inner.ty),
        })
    }

    fn plain_bytes(&self, out: &mut Vec<u8>) {
        for v in self {
            v.plain_bytes(out);
        }
    }
}

/// A slice is baked behind its reference, `&[a, b]`: the form a
/// `&'static [T]` item takes.
impl<T: Bake> Bake for [T] {
    fn bake(&self, out: &mut String) {
        out.push('&');
        bake_list(self, out);
    }

    fn bake_into(&self, out: &mut Baker) {
        if !out.plain_blob(self, true) {
            out.text.push('&');
            bake_list_into(self, out);
        }
    }
}

/// An owned vector is baked as the `&'static [T]` it becomes.
impl<T: Bake> Bake for Vec<T> {
    fn bake(&self, out: &mut String) {
        self.as_slice().bake(out);
    }

    fn bake_into(&self, out: &mut Baker) {
        self.as_slice().bake_into(out);
    }
}

impl<T: Bake> Bake for Box<[T]> {
    fn bake(&self, out: &mut String) {
        (**self).bake(out);
    }

    fn bake_into(&self, out: &mut Baker) {
        (**self).bake_into(out);
    }
}

impl<T: Bake> Bake for Option<T> {
    fn bake(&self, out: &mut String) {
        match self {
            Some(v) => {
                out.push_str("::core::option::Option::Some(");
                v.bake(out);
                out.push(')');
            }
            None => out.push_str("::core::option::Option::None"),
        }
    }

    fn bake_into(&self, out: &mut Baker) {
        match self {
            Some(v) => {
                out.text.push_str("::core::option::Option::Some(");
                v.bake_into(out);
                out.text.push(')');
            }
            None => out.text.push_str("::core::option::Option::None"),
        }
    }
}

fn bake_list<T: Bake>(items: &[T], out: &mut String) {
    out.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        v.bake(out);
    }
    out.push(']');
}

fn bake_list_into<T: Bake>(items: &[T], out: &mut Baker) {
    out.text.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.text.push_str(", ");
        }
        v.bake_into(out);
    }
    out.text.push(']');
}

macro_rules! bake_tuples {
    ($(($($name:ident . $idx:tt),*))*) => {$(
        impl<$($name: Bake),*> Bake for ($($name,)*) {
            fn bake(&self, out: &mut String) {
                out.push('(');
                $( self.$idx.bake(out); out.push_str(", "); )*
                out.push(')');
            }

            fn bake_into(&self, out: &mut Baker) {
                out.text.push('(');
                $( self.$idx.bake_into(out); out.text.push_str(", "); )*
                out.text.push(')');
            }
        }

        impl<$($name: BakeType),*> BakeType for ($($name,)*) {
            fn bake_type(out: &mut String) {
                out.push('(');
                $( $name::bake_type(out); out.push_str(", "); )*
                out.push(')');
            }
        }
    )*};
}
bake_tuples! {
    ()
    (A.0)
    (A.0, B.1)
    (A.0, B.1, C.2)
    (A.0, B.1, C.2, D.3)
    (A.0, B.1, C.2, D.3, E.4)
    (A.0, B.1, C.2, D.3, E.4, F.5)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10, L.11)
}

macro_rules! named_types {
    ($($t:ty => $name:literal),*) => {$(
        impl BakeType for $t {
            fn bake_type(out: &mut String) {
                out.push_str($name);
            }
        }
    )*};
}
named_types!(bool => "bool", char => "char", f32 => "f32", f64 => "f64",
    str => "&'static str", String => "&'static str", Box<str> => "&'static str");

impl<T: BakeType + ?Sized> BakeType for &T {
    fn bake_type(out: &mut String) {
        T::bake_type(out);
    }
}

impl<T: BakeType, const N: usize> BakeType for [T; N] {
    fn bake_type(out: &mut String) {
        out.push('[');
        T::bake_type(out);
        let _ = write!(out, "; {N}]");
    }
}

impl<T: BakeType> BakeType for [T] {
    fn bake_type(out: &mut String) {
        out.push_str("&'static [");
        T::bake_type(out);
        out.push(']');
    }
}

impl<T: BakeType> BakeType for Vec<T> {
    fn bake_type(out: &mut String) {
        <[T]>::bake_type(out);
    }
}

impl<T: BakeType> BakeType for Box<[T]> {
    fn bake_type(out: &mut String) {
        <[T]>::bake_type(out);
    }
}

impl<T: BakeType> BakeType for Option<T> {
    fn bake_type(out: &mut String) {
        out.push_str("::core::option::Option<");
        T::bake_type(out);
        out.push('>');
    }
}

/// Writes `c` so that it means itself inside a `'...'` or `"..."` literal.
fn escape_char(c: char, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\'' => out.push_str("\\'"),
        '"' => out.push_str("\\\""),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        ' '..='~' => out.push(c),
        _ => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Appends `bytes` as a byte string literal, `b"..."`: printable ASCII
/// other than quotes and backslashes verbatim, everything else escaped.
pub fn bake_byte_string(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len() + 3);
    out.push_str("b\"");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b' '..=b'~' => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::{Bake, BakeType, Baker, BlobKind, Scalar, bake_byte_string};

    #[test]
    fn integers_carry_their_suffix() {
        assert_eq!(0u8.to_literal(), "0u8");
        assert_eq!(i8::MIN.to_literal(), "-128i8");
        assert_eq!(
            i128::MIN.to_literal(),
            "-170141183460469231731687303715884105728i128"
        );
        assert_eq!(u128::MAX.to_literal(), format!("{}u128", u128::MAX));
        assert_eq!(usize::MAX.to_literal(), format!("{}usize", usize::MAX));
    }

    #[test]
    fn floats_are_bit_exact() {
        assert_eq!(
            1.0f32.to_literal(),
            "::core::primitive::f32::from_bits(0x3f800000u32)"
        );
        assert_eq!(
            f64::from_bits(0x7ff8_0000_0000_0001).to_literal(),
            "::core::primitive::f64::from_bits(0x7ff8000000000001u64)"
        );
        assert_eq!(
            f64::MIN_POSITIVE.to_literal(),
            "::core::primitive::f64::from_bits(0x0010000000000000u64)"
        );
    }

    #[test]
    fn chars_and_strings_are_escaped() {
        assert_eq!('\''.to_literal(), r"'\''");
        assert_eq!('\\'.to_literal(), r"'\\'");
        assert_eq!('é'.to_literal(), r"'\u{e9}'");
        assert_eq!('\0'.to_literal(), r"'\u{0}'");
        assert_eq!(r#""); evil(); (""#.to_literal(), r#""\"); evil(); (\"""#);
        assert_eq!("a\r\nb".to_literal(), r#""a\u{d}\nb""#);
        assert_eq!("日本".to_literal(), r#""\u{65e5}\u{672c}""#);
    }

    #[test]
    fn only_safe_characters_appear_verbatim() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let lit = all.to_literal();
        let inner = &lit[1..lit.len() - 1];
        // Every quote inside the literal is escaped, so the literal ends only
        // at its last character.
        let bytes = inner.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            assert!(b.is_ascii_graphic() || b == b' ', "byte {b:#x} verbatim");
            if b == b'"' {
                let backslashes = bytes[..i].iter().rev().take_while(|&&c| c == b'\\').count();
                assert!(backslashes % 2 == 1, "unescaped quote at {i}");
            }
        }
    }

    #[test]
    fn compound_values_follow_their_declared_types() {
        assert_eq!([1u8, 2].to_literal(), "[1u8, 2u8]");
        assert_eq!(vec![1u16].to_literal(), "&[1u16]");
        assert_eq!(Vec::<u16>::new().to_literal(), "&[]");
        assert_eq!((1u8, true).to_literal(), "(1u8, true, )");
        assert_eq!(().to_literal(), "()");
        assert_eq!(
            Some((-1i8,)).to_literal(),
            "::core::option::Option::Some((-1i8, ))"
        );
        assert_eq!(None::<u8>.to_literal(), "::core::option::Option::None");
        assert_eq!(
            vec!["a".to_string(), "b\"".to_string()].to_literal(),
            r#"&["a", "b\""]"#
        );
        assert_eq!(vec![vec![1u32], vec![]].to_literal(), "&[&[1u32], &[]]");
    }

    #[test]
    fn types_are_the_declared_forms() {
        assert_eq!(<[u32; 4]>::type_text(), "[u32; 4]");
        assert_eq!(Vec::<String>::type_text(), "&'static [&'static str]");
        assert_eq!(
            <(Option<i128>, &[f32])>::type_text(),
            "(::core::option::Option<i128>, &'static [f32], )"
        );
    }

    #[test]
    fn large_numeric_arrays_become_little_endian_blobs() {
        let table: Vec<u32> = (0..1000).collect();
        let mut baker = Baker::new();
        (7u8, table.as_slice()).bake_into(&mut baker);
        assert_eq!(baker.text, "(7u8, &__STAGED_BLOB_0, )");
        let blob = &baker.blobs[0];
        assert_eq!(
            blob.kind,
            BlobKind::Plain {
                scalar: Scalar::U32,
                ty: "[u32; 1000]".into()
            }
        );
        assert_eq!(blob.bytes.len(), 4000);
        assert_eq!(&blob.bytes[4..8], &1u32.to_le_bytes());
        // Small arrays stay inline, and `Baker::inline` never makes blobs.
        let mut small = Baker::new();
        [1u32; 256].bake_into(&mut small);
        assert!(small.blobs.is_empty());
        let mut inline = Baker::inline();
        table.bake_into(&mut inline);
        assert!(inline.blobs.is_empty() && inline.text.starts_with("&[0u32, 1u32"));
    }

    #[test]
    fn nested_numeric_arrays_are_one_blob() {
        let grid = [[3u16; 16]; 64];
        let mut baker = Baker::new();
        grid.bake_into(&mut baker);
        assert_eq!(baker.text, "__STAGED_BLOB_0");
        let BlobKind::Plain { ty, scalar } = &baker.blobs[0].kind else {
            panic!()
        };
        assert_eq!((ty.as_str(), *scalar), ("[[u16; 16]; 64]", Scalar::U16));
        assert_eq!(baker.blobs[0].bytes.len(), 16 * 64 * 2);
    }

    #[test]
    fn pointer_sized_values_record_the_widths_they_fit() {
        let mut baker = Baker::new();
        70_000usize.bake_into(&mut baker);
        assert!(!baker.fits_pointer_width(16));
        assert!(baker.fits_pointer_width(32));
        let mut baker = Baker::new();
        let big: Vec<isize> = (0..1000).map(|i| -(i << 33)).collect();
        big.bake_into(&mut baker);
        assert_eq!(baker.blobs.len(), 1);
        assert!(!baker.fits_pointer_width(32) && baker.fits_pointer_width(64));
    }

    #[test]
    fn long_strings_become_blobs() {
        let long = "x".repeat(super::STR_BLOB_MIN_BYTES + 1);
        let mut baker = Baker::new();
        Some(long.as_str()).bake_into(&mut baker);
        assert_eq!(baker.text, "::core::option::Option::Some(__STAGED_BLOB_0)");
        assert_eq!(baker.blobs[0].kind, BlobKind::Str);
    }

    #[test]
    fn byte_strings_escape_everything_but_printable_ascii() {
        let mut out = String::new();
        bake_byte_string(b"a\"\\\0\xff ", &mut out);
        assert_eq!(out, r#"b"a\"\\\x00\xff ""#);
    }
}
