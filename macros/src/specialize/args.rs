//! Parses the arguments of `#[specialize(...)]` into a small IR that keeps the
//! user's tokens for spans. Only syntax is checked here; what the values mean
//! for the function is `valid.rs`'s business.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Path, Token};

use quote::ToTokens;

/// The arguments of one `#[specialize(...)]`, in the order written.
pub(crate) struct Args {
    pub(crate) entries: Vec<Entry>,
    /// Entries left out of `entries` because their key is not a plain name or
    /// repeats an earlier one. They are reported together with the semantic
    /// checks of the other entries, so that the user sees every mistake at
    /// once.
    pub(crate) rejected: Vec<syn::Error>,
}

/// `key`, `key = [..]`, `key = a..=b` or `key = value`.
pub(crate) struct Entry {
    pub(crate) key: Ident,
    pub(crate) value: Value,
}

/// What follows a key.
pub(crate) enum Value {
    /// Nothing: `n` alone, specialized at run time only.
    Bare,
    /// `[v, ...]`, with the whole list for spans.
    List { list: Box<Expr>, items: Vec<Expr> },
    /// `a..b` or `a..=b`.
    Range {
        range: Box<Expr>,
        start: Box<Expr>,
        end: Box<Expr>,
        inclusive: bool,
    },
    /// Any other expression: an option's value, or a mistake.
    Other(Box<Expr>),
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let raw = Punctuated::<RawEntry, Token![,]>::parse_terminated(input)?;
        let mut rejected = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        for RawEntry { key, value } in raw {
            let Some(ident) = key.get_ident().cloned() else {
                rejected.push(syn::Error::new_spanned(
                    &key,
                    format_args!(
                        "expected a parameter name or option, such as `n` or `runtime`, found `{}`",
                        key.to_token_stream().to_string().replace(' ', "")
                    ),
                ));
                continue;
            };
            if entries.iter().any(|e| e.key == ident) {
                let message = if ident == "runtime" {
                    "duplicate key `runtime`; give the option once".to_owned()
                } else {
                    format!(
                        "duplicate key `{ident}`; put all its values in one list, as in `{ident} = [1, 2]`"
                    )
                };
                rejected.push(syn::Error::new_spanned(&ident, message));
                continue;
            }
            entries.push(Entry {
                key: ident,
                value: value.map_or(Value::Bare, classify),
            });
        }
        Ok(Self { entries, rejected })
    }
}

struct RawEntry {
    key: Path,
    value: Option<Expr>,
}

impl Parse for RawEntry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = Path::parse_mod_style(input)?;
        if input.peek(syn::token::Paren) {
            let content;
            let parens = syn::parenthesized!(content in input);
            let _: proc_macro2::TokenStream = content.parse()?;
            let key = key.to_token_stream().to_string().replace(' ', "");
            return Err(syn::Error::new(
                parens.span.join(),
                format_args!(
                    "write the values of `{key}` as a list after `=`, as in `{key} = [1, 2]`"
                ),
            ));
        }
        let value = if input.parse::<Option<Token![=]>>()?.is_some() {
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Self { key, value })
    }
}

fn classify(expr: Expr) -> Value {
    match expr {
        Expr::Array(array) => {
            let items = array.elems.iter().cloned().collect();
            Value::List {
                list: Box::new(Expr::Array(array)),
                items,
            }
        }
        Expr::Range(range) => match (&range.start, &range.end) {
            (Some(start), Some(end)) => Value::Range {
                start: start.clone(),
                end: end.clone(),
                inclusive: matches!(range.limits, syn::RangeLimits::Closed(_)),
                range: Box::new(Expr::Range(range)),
            },
            _ => Value::Other(Box::new(Expr::Range(range))),
        },
        other => Value::Other(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::{Args, Value};

    fn parse(s: &str) -> syn::Result<Args> {
        syn::parse_str(s)
    }

    #[test]
    fn reads_every_form() {
        let args = parse("n = [1, 2], m = 0..=8, k = 0..4, s, runtime = false").unwrap();
        let kinds: Vec<_> = args
            .entries
            .iter()
            .map(|e| match &e.value {
                Value::Bare => format!("{} bare", e.key),
                Value::List { items, .. } => format!("{} list {}", e.key, items.len()),
                Value::Range { inclusive, .. } => format!("{} range {inclusive}", e.key),
                Value::Other(_) => format!("{} other", e.key),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "n list 2",
                "m range true",
                "k range false",
                "s bare",
                "runtime other"
            ]
        );
    }

    #[test]
    fn reports_every_duplicate_and_bad_key() {
        let args = parse("n = [1], a::b = [2], n = [3], runtime = true, runtime = false").unwrap();
        let keys: Vec<_> = args.entries.iter().map(|e| e.key.to_string()).collect();
        assert_eq!(keys, ["n", "runtime"]);
        let messages: Vec<_> = args.rejected.iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("found `a::b`"), "{messages:?}");
        assert!(messages[1].starts_with("duplicate key `n`; put all its values in one list"));
        assert!(messages[2].starts_with("duplicate key `runtime`; give the option once"));
    }

    #[test]
    fn open_ranges_are_not_ranges() {
        let args = parse("n = 0..").unwrap();
        assert!(matches!(args.entries[0].value, Value::Other(_)));
    }
}
