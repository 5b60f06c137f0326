//! Writes the block's tokens as source for the evaluator program, noting
//! where each token lands (so rustc's errors and panic locations map back to
//! it), and rewrites the paths of `include_bytes!`, `include_str!` and
//! `include!` to absolute ones: the program is built elsewhere, but the
//! paths mean "next to the file that invokes `const_init!`".

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use staged_build::bake::Bake;
use staged_build::eval::Fragment;

use super::parse::Tokens;
use crate::errors::Errors;

const INCLUDES: [&str; 3] = ["include_bytes", "include_str", "include"];

/// Turns token runs into fragments, collecting the files they include.
pub(crate) struct Writer<'a> {
    /// The folder of the file that invokes the macro, when known.
    pub(crate) base: Option<PathBuf>,
    /// Files included so far, absolute, without repeats.
    pub(crate) files: Vec<PathBuf>,
    pub(crate) errors: &'a mut Errors,
}

impl Writer<'_> {
    /// The source of `tokens`.
    pub(crate) fn fragment(&mut self, tokens: &Tokens) -> Fragment {
        let mut out = Out {
            fragment: Fragment::default(),
            ordinal: tokens.first,
        };
        self.write(&tokens.trees, &mut out);
        out.fragment
    }

    fn write(&mut self, trees: &[TokenTree], out: &mut Out) {
        let mut i = 0;
        while i < trees.len() {
            if let Some(used) = self.include(&trees[i..], out) {
                i += used;
                continue;
            }
            match &trees[i] {
                TokenTree::Group(g) => {
                    let (open, close) = delimiters(g.delimiter());
                    out.mark();
                    out.push(open);
                    out.push(" ");
                    self.write(&g.stream().into_iter().collect::<Vec<_>>(), out);
                    out.mark();
                    out.push(close);
                    out.push(" ");
                }
                TokenTree::Punct(p) => {
                    out.mark();
                    out.push(&p.as_char().to_string());
                    if p.spacing() == Spacing::Alone {
                        out.push(" ");
                    }
                }
                other => {
                    out.mark();
                    out.push(&other.to_string());
                    out.push(" ");
                }
            }
            i += 1;
        }
    }

    /// Writes `include_bytes!("path")` (and the like) at the start of
    /// `trees` with the path made absolute; returns how many trees it took.
    fn include(&mut self, trees: &[TokenTree], out: &mut Out) -> Option<usize> {
        let [
            TokenTree::Ident(name),
            TokenTree::Punct(bang),
            TokenTree::Group(args),
            ..,
        ] = trees
        else {
            return None;
        };
        if bang.as_char() != '!' || !INCLUDES.iter().any(|n| name == n) {
            return None;
        }
        let inner: Vec<TokenTree> = args.stream().into_iter().collect();
        let literal = match &inner[..] {
            [TokenTree::Literal(l)] | [TokenTree::Literal(l), TokenTree::Punct(_)] => {
                syn::parse2::<syn::LitStr>(TokenStream::from(TokenTree::Literal(l.clone()))).ok()
            }
            _ => None,
        };
        let Some(literal) = literal else {
            self.errors.at(
                args,
                format_args!(
                    "`{name}!` in `const_init!` takes a string literal, so that the file can be found and tracked"
                ),
            );
            return None;
        };
        let path = self.resolve(&literal)?;
        out.mark();
        out.push(&format!("{name} "));
        out.mark();
        out.push("! ");
        out.mark();
        out.push("( ");
        for tree in &inner {
            out.mark();
            if matches!(tree, TokenTree::Literal(_)) {
                out.push(&path.to_string_lossy().as_ref().to_literal());
            } else {
                out.push(",");
            }
            out.push(" ");
        }
        out.mark();
        out.push(") ");
        Some(3)
    }

    fn resolve(&mut self, literal: &syn::LitStr) -> Option<PathBuf> {
        let written = literal.value();
        let path = if Path::new(&written).is_absolute() {
            PathBuf::from(&written)
        } else if let Some(base) = &self.base {
            base.join(&written)
        } else {
            self.errors.at(
                literal,
                "cannot tell which file invokes `const_init!`, so this relative path cannot be resolved; use an absolute path",
            );
            return None;
        };
        if let Err(e) = std::fs::metadata(&path).and_then(|m| {
            if m.is_file() {
                Ok(())
            } else {
                Err(std::io::Error::other("not a file"))
            }
        }) {
            self.errors.at(
                literal,
                format_args!(
                    "cannot read `{written}`, looked for next to the file that invokes `const_init!`: {}",
                    describe(&e)
                ),
            );
            return None;
        }
        if !self.files.contains(&path) {
            self.files.push(path.clone());
        }
        Some(path)
    }
}

/// An I/O error without its `(os error N)`, which differs across systems.
fn describe(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

struct Out {
    fragment: Fragment,
    ordinal: usize,
}

impl Out {
    /// Notes that the next token, at the current end of the text, is the
    /// next ordinal.
    fn mark(&mut self) {
        self.fragment
            .marks
            .push((self.fragment.text.len(), self.ordinal));
        self.ordinal += 1;
    }

    fn push(&mut self, text: &str) {
        self.fragment.text.push_str(text);
    }
}

fn delimiters(d: Delimiter) -> (&'static str, &'static str) {
    match d {
        Delimiter::Parenthesis => ("(", ")"),
        Delimiter::Brace => ("{", "}"),
        Delimiter::Bracket => ("[", "]"),
        Delimiter::None => ("", ""),
    }
}

/// Whether `ident` appears anywhere in `stream` (in macro calls too).
pub(crate) fn mentions(stream: TokenStream, ident: &str) -> bool {
    stream.into_iter().any(|tree| match tree {
        TokenTree::Ident(i) => i == ident,
        TokenTree::Group(g) => mentions(g.stream(), ident),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn write(tokens: TokenStream, base: Option<PathBuf>) -> (Fragment, Vec<PathBuf>, bool) {
        let mut errors = Errors::default();
        let mut writer = Writer {
            base,
            files: Vec::new(),
            errors: &mut errors,
        };
        let fragment = writer.fragment(&Tokens {
            trees: tokens.into_iter().collect(),
            first: 10,
        });
        let files = writer.files;
        (fragment, files, errors.finish(()).is_err())
    }

    #[test]
    fn source_reads_back_as_the_same_tokens() {
        let tokens = quote!(
            fn f<'a>(x: &'a [u8]) -> u32 {
                x.len() as u32 >> 1 == 2 || -1 <= 0
            }
        );
        let (fragment, _, _) = write(tokens.clone(), None);
        let back: TokenStream = fragment.text.parse().unwrap();
        assert_eq!(back.to_string(), tokens.to_string());
    }

    #[test]
    fn every_token_is_marked_with_its_ordinal() {
        let (fragment, _, _) = write(quote!(a (b) c), None);
        assert_eq!(fragment.text, "a ( b ) c ");
        assert_eq!(
            fragment.marks,
            [(0, 10), (2, 11), (4, 12), (6, 13), (8, 14)]
        );
    }

    #[test]
    fn include_paths_become_absolute_and_are_collected() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.bin"), b"x").unwrap();
        let (fragment, files, failed) = write(
            quote!(include_bytes!("data.bin").len()),
            Some(dir.path().to_owned()),
        );
        assert!(!failed);
        let absolute = dir.path().join("data.bin");
        assert_eq!(files, std::slice::from_ref(&absolute));
        let expected = format!(
            "include_bytes ! ( {} ) . len ( ) ",
            absolute.to_str().unwrap().to_literal()
        );
        assert_eq!(fragment.text, expected);
        // Marks stay one per original token.
        assert_eq!(fragment.marks.len(), 9);
    }

    #[test]
    fn missing_files_and_computed_paths_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (_, files, failed) = write(
            quote!(include_str!("nope.txt")),
            Some(dir.path().to_owned()),
        );
        assert!(failed && files.is_empty());
        let (_, _, failed) = write(
            quote!(include_str!(concat!("a", "b"))),
            Some(dir.path().to_owned()),
        );
        assert!(failed);
    }

    #[test]
    fn mentions_look_inside_groups_and_macros() {
        assert!(mentions(quote!(f(vec![TABLE[0]])), "TABLE"));
        assert!(!mentions(quote!(f(vec![TABLES[0]])), "TABLE"));
    }
}
