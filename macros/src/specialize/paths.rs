//! Reading paths in raw tokens, where a body's macro arguments are too:
//! which identifiers start a path (`crate::x`, `self::y`).

use proc_macro2::{Spacing, TokenTree};

/// `a` `b` are `::`.
pub(super) fn is_path_sep(a: Option<&TokenTree>, b: Option<&TokenTree>) -> bool {
    matches!(
        (a, b),
        (Some(TokenTree::Punct(x)), Some(TokenTree::Punct(y)))
            if x.as_char() == ':' && x.spacing() == Spacing::Joint && y.as_char() == ':'
    )
}

/// The token at `i` is preceded by `::`, so it is not the root of its path.
pub(super) fn follows_path_sep(tokens: &[TokenTree], i: usize) -> bool {
    i >= 2 && is_path_sep(tokens.get(i - 2), tokens.get(i - 1))
}

/// The token at `i` is the first segment of a path: `::` follows it and
/// does not precede it.
pub(super) fn is_path_root(tokens: &[TokenTree], i: usize) -> bool {
    is_path_sep(tokens.get(i + 1), tokens.get(i + 2)) && !follows_path_sep(tokens, i)
}
