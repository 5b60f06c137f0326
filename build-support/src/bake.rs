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
//! This file depends on nothing but `std`, so that it can also be compiled
//! into generated programs as source.

use std::fmt::Write as _;

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
}

macro_rules! bake_integers {
    ($($t:ident)*) => {$(
        impl Bake for $t {
            fn bake(&self, out: &mut String) {
                // `-128i8` is accepted by rustc: the negation applies to the
                // suffixed literal as a whole, so every value round-trips.
                let _ = write!(out, "{}{}", self, stringify!($t));
            }
        }
    )*};
}
bake_integers!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

impl Bake for bool {
    fn bake(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl Bake for f32 {
    fn bake(&self, out: &mut String) {
        let _ = write!(out, "f32::from_bits({:#010x}u32)", self.to_bits());
    }
}

impl Bake for f64 {
    fn bake(&self, out: &mut String) {
        let _ = write!(out, "f64::from_bits({:#018x}u64)", self.to_bits());
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
}

impl Bake for String {
    fn bake(&self, out: &mut String) {
        self.as_str().bake(out);
    }
}

impl<T: Bake + ?Sized> Bake for &T {
    fn bake(&self, out: &mut String) {
        (**self).bake(out);
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

#[cfg(test)]
mod tests {
    use super::Bake;

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
        assert_eq!(1.0f32.to_literal(), "f32::from_bits(0x3f800000u32)");
        assert_eq!(
            f64::from_bits(0x7ff8_0000_0000_0001).to_literal(),
            "f64::from_bits(0x7ff8000000000001u64)"
        );
        assert_eq!(
            f64::MIN_POSITIVE.to_literal(),
            "f64::from_bits(0x0010000000000000u64)"
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
}
