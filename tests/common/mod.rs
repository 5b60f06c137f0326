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
