//! What a function's definition sits in: a module (or a block), an `impl`
//! block or a trait. An attribute macro is handed the function alone, and an
//! associated function that does not mention `Self` reads exactly like a
//! free function, yet a companion module cannot sit in an `impl` block. So
//! the file the function is written in is read, and the braces that enclose
//! its name are followed from the start of the file.
//!
//! Where the file cannot be read (a function made by another macro, a
//! server without the files), nothing is known and the function is taken to
//! be free, as before.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use proc_macro2::Span;

/// The block a definition sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Enclosing {
    /// A module, a function body or another block.
    Module,
    /// An `impl` block.
    Impl,
    /// A trait's definition.
    Trait,
}

/// The block around the token at `span`, when its file can be read and the
/// token is found in it.
pub(crate) fn of(span: Span) -> Option<Enclosing> {
    let path = span.local_file()?;
    let start = span.start();
    let text = source(path)?;
    let offset = offset_of(&text, start.line, start.column)?;
    enclosing(&text, offset)
}

/// The file's text, read once per compilation.
fn source(path: PathBuf) -> Option<std::sync::Arc<str>> {
    static FILES: OnceLock<Mutex<HashMap<PathBuf, Option<std::sync::Arc<str>>>>> = OnceLock::new();
    let mut files = FILES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    files
        .entry(path)
        .or_insert_with_key(|path| std::fs::read_to_string(path).ok().map(Into::into))
        .clone()
}

/// The byte offset of `line` (from 1) and `column` (in characters, from 0).
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let rest = text.get(start..)?;
    let within = rest
        .char_indices()
        .nth(column)
        .map_or(rest.len(), |(i, _)| i);
    Some(start + within)
}

/// The innermost block that is open at `offset` of `text`, judged by the
/// words before its `{`. Strings, characters and comments are skipped, so
/// their braces do not count.
fn enclosing(text: &str, offset: usize) -> Option<Enclosing> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Enclosing> = Vec::new();
    // The words since the last `;`, `{` or `}`: the head of what comes next.
    let mut head: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < offset.min(bytes.len()) {
        let b = bytes[i];
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i);
                continue;
            }
            b'"' => {
                i = skip_string(bytes, i + 1);
                continue;
            }
            b'r' | b'b' | b'c' if starts_raw_or_byte_string(bytes, i) => {
                i = skip_prefixed_string(bytes, i);
                continue;
            }
            b'\'' => {
                i = skip_char_or_lifetime(bytes, i);
                continue;
            }
            b'{' => {
                stack.push(kind_of(&head));
                head.clear();
            }
            b'}' => {
                stack.pop();
                head.clear();
            }
            b';' => head.clear(),
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let end = bytes[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .map_or(bytes.len(), |n| i + n);
                // Words before the item's own name are all that matter.
                if head.len() < 64 {
                    head.push(&text[i..end]);
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Some(stack.last().copied().unwrap_or(Enclosing::Module))
}

/// `impl …` and `unsafe impl …` open an impl block, `trait …` (with `pub`,
/// `unsafe`, `auto`) a trait; anything else a module or a block.
fn kind_of(head: &[&str]) -> Enclosing {
    let keyword = head
        .iter()
        .find(|w| !matches!(**w, "pub" | "crate" | "unsafe" | "default" | "auto" | "in"));
    match keyword.copied() {
        Some("impl") => Enclosing::Impl,
        Some("trait") => Enclosing::Trait,
        _ => Enclosing::Module,
    }
}

fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Past the closing quote of a string whose contents start at `i`.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `r"`, `r#"`, `b"`, `br"`, `c"`, `cr#"`… at `i`, not inside a word.
fn starts_raw_or_byte_string(bytes: &[u8], i: usize) -> bool {
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        return false;
    }
    let rest = &bytes[i..];
    let after_prefix = match rest {
        [b'b' | b'c', b'r', ..] => 2,
        [b'r' | b'b' | b'c', ..] => 1,
        _ => return false,
    };
    let hashes = rest[after_prefix..]
        .iter()
        .take_while(|&&c| c == b'#')
        .count();
    rest.get(after_prefix + hashes) == Some(&b'"')
        && (hashes == 0 || rest[after_prefix - 1] == b'r')
}

fn skip_prefixed_string(bytes: &[u8], i: usize) -> usize {
    let mut j = i;
    while bytes[j] != b'"' && bytes[j] != b'#' {
        j += 1;
    }
    let raw = bytes[i..j].contains(&b'r');
    if !raw {
        return skip_string(bytes, j + 1);
    }
    let hashes = bytes[j..].iter().take_while(|&&c| c == b'#').count();
    let body = j + hashes + 1;
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    bytes[body..]
        .windows(close.len())
        .position(|w| w == close.as_slice())
        .map_or(bytes.len(), |n| body + n + close.len())
}

/// Past a character literal (`'{'`, `'\''`, `'\u{7b}'`) or a lifetime.
fn skip_char_or_lifetime(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i + 1..) {
        Some([b'\\', ..]) => {
            // An escape: up to the closing quote.
            let mut j = i + 2;
            while j < bytes.len() && bytes[j] != b'\'' {
                j += 1;
            }
            j + 1
        }
        Some([_, b'\'', ..]) => i + 3,
        Some(rest) => {
            // A multi-byte character, or a lifetime (no closing quote).
            let len = rest
                .iter()
                .position(|&c| c == b'\'' || !(c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80))
                .unwrap_or(rest.len());
            if rest.get(len) == Some(&b'\'') {
                i + 1 + len + 1
            } else {
                i + 1
            }
        }
        None => bytes.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block around the first `HERE` in `text`.
    fn at_here(text: &str) -> Option<Enclosing> {
        enclosing(text, text.find("HERE").unwrap())
    }

    #[test]
    fn finds_the_block_around_a_name() {
        assert_eq!(at_here("fn HERE() {}"), Some(Enclosing::Module));
        assert_eq!(
            at_here("struct M; impl M {\n  fn f() {}\n  fn HERE() {} }"),
            Some(Enclosing::Impl)
        );
        assert_eq!(
            at_here("unsafe impl<T: X<{ 1 }>> Tr for M where T: Y { fn HERE() {} }"),
            Some(Enclosing::Module),
            "const generic blocks in the header are not followed (taken as free)"
        );
        assert_eq!(
            at_here("pub(crate) unsafe impl Tr for M { fn HERE() {} }"),
            Some(Enclosing::Impl)
        );
        assert_eq!(
            at_here("pub trait T { fn HERE() {} }"),
            Some(Enclosing::Trait)
        );
        assert_eq!(
            at_here("impl M { fn f() { mod inner { fn HERE() {} } } }"),
            Some(Enclosing::Module)
        );
        assert_eq!(
            at_here("mod m { fn f() {} } fn HERE() {}"),
            Some(Enclosing::Module)
        );
    }

    #[test]
    fn braces_in_strings_chars_and_comments_do_not_count() {
        let text = r##"
            const A: &str = "{ impl";
            const B: char = '{';
            const C: char = '\'';
            const D: &str = r#"}" {"#;
            // impl X {
            /* impl Y { /* nested } */ { */
            fn g<'a>(x: &'a str) -> &'a str { x }
            fn HERE() {}
        "##;
        assert_eq!(at_here(text), Some(Enclosing::Module));
        let text =
            "impl M { const S: &str = \"}\"; fn f(c: char) -> bool { c == '}' } fn HERE() {} }";
        assert_eq!(at_here(text), Some(Enclosing::Impl));
    }

    #[test]
    fn offsets_count_characters() {
        let text = "// é\nfn été() {}\n";
        let offset = offset_of(text, 2, 3).unwrap();
        assert!(text[offset..].starts_with("été()"));
    }
}
