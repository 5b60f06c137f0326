//! Helpers shared by the property tests.

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
