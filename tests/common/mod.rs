//! Helpers shared by the test binaries.
#![allow(dead_code)] // each test binary uses some of them

use proptest::prelude::*;

/// Strings built from the characters that break naive escaping: quotes,
/// backslashes, newlines, NUL, braces, non-ASCII, and any `char`.
pub fn tricky_string() -> impl Strategy<Value = String> + Clone {
    prop::collection::vec(
        prop_oneof![
            Just("\"".to_owned()),
            Just("\\".to_owned()),
            Just("\n".to_owned()),
            Just("'".to_owned()),
            Just(",".to_owned()),
            Just("日本語".to_owned()),
            Just("\u{0}".to_owned()),
            Just("{}".to_owned()),
            any::<char>().prop_map(String::from),
            "[a-z]{0,3}",
        ],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

/// One float answer of two copies of a body: equal bits, or both NaN. Rust
/// leaves the payload of a NaN produced by arithmetic unspecified, so two
/// builds of one expression may differ there, and only there.
pub fn same_float(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// A float answer of `min`/`max` from two copies of a body: equal values
/// (Rust leaves the sign of `min(0.0, -0.0)` unspecified, so `0.0` and
/// `-0.0` count as one), or both NaN.
pub fn same_min_max(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// The answers of the tests' `float_mix`: the value's bits, `x * c`,
/// `x + c`, the sign of `c`, `x / c`, `x.min(c)`, `x.max(c)`.
pub type FloatMix = (u64, f64, f64, bool, f64, f64, f64);

/// Whether two [`FloatMix`] answers are one answer: bits where Rust
/// specifies them, NaN as NaN, and zeros from `min`/`max` by value.
pub fn same_mix(a: FloatMix, b: FloatMix) -> bool {
    a.0 == b.0
        && same_float(a.1, b.1)
        && same_float(a.2, b.2)
        && a.3 == b.3
        && same_float(a.4, b.4)
        && same_min_max(a.5, b.5)
        && same_min_max(a.6, b.6)
}

/// Entry `i` of the CRC-32 (IEEE) table, computed the plain way, to check
/// baked tables against.
pub fn reference_crc(i: u32) -> u32 {
    let mut c = i;
    for _ in 0..8 {
        c = if c & 1 != 0 {
            0xEDB8_8320 ^ (c >> 1)
        } else {
            c >> 1
        };
    }
    c
}
