//! Parses the arguments of `#[specialize(...)]` into a small IR that keeps the
//! user's tokens for spans. Only syntax is checked here; what the values mean
//! for the function is `valid.rs`'s business.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Path, Token};

use crate::errors::Errors;

/// The arguments of one `#[specialize(...)]`, in the order written.
pub(crate) struct Args {
    pub(crate) entries: Vec<Entry>,
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
    List { list: Expr, items: Vec<Expr> },
    /// `a..b` or `a..=b`.
    Range {
        range: Expr,
        start: Expr,
        end: Expr,
        inclusive: bool,
    },
    /// Any other expression: an option's value, or a mistake.
    Other(Expr),
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let raw = Punctuated::<RawEntry, Token![,]>::parse_terminated(input)?;
        let mut errors = Errors::default();
        let mut entries: Vec<Entry> = Vec::new();
        for RawEntry { key, value } in raw {
            let Some(ident) = key.get_ident().cloned() else {
                errors.at(
                    &key,
                    "expected a parameter name or option, such as `n` or `runtime`",
                );
                continue;
            };
            if entries.iter().any(|e| e.key == ident) {
                errors.at(&ident, format_args!("duplicate key `{ident}`"));
                continue;
            }
            entries.push(Entry {
                key: ident,
                value: value.map_or(Value::Bare, classify),
            });
        }
        errors.finish(Self { entries })
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
            return Err(syn::Error::new(
                parens.span.join(),
                "write the values as a list after `=`, as in `n = [1, 2]`",
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
                list: Expr::Array(array),
                items,
            }
        }
        Expr::Range(range) => match (&range.start, &range.end) {
            (Some(start), Some(end)) => Value::Range {
                start: (**start).clone(),
                end: (**end).clone(),
                inclusive: matches!(range.limits, syn::RangeLimits::Closed(_)),
                range: Expr::Range(range),
            },
            _ => Value::Other(Expr::Range(range)),
        },
        other => Value::Other(other),
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
        let err = parse("n = [1], a::b = [2], n = [3]").err().unwrap();
        let messages: Vec<_> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[1].contains("duplicate key `n`"));
    }

    #[test]
    fn open_ranges_are_not_ranges() {
        let args = parse("n = 0..").unwrap();
        assert!(matches!(args.entries[0].value, Value::Other(_)));
    }
}
