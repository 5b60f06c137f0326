//! Parses a `const_init!` block into a small IR: the block's own attributes,
//! then `static`/`const` items with their initializers, and helper items.
//! Every piece keeps its raw token trees and the ordinal of its first token,
//! so that the evaluator's source can be mapped back to tokens. Only syntax
//! is checked here; `valid.rs` judges what it means.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::buffer::Cursor;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Expr, Generics, Ident, Item, Token, Type, Visibility};

/// A parsed block.
pub(crate) struct Input {
    /// `#![...]` at the top of the block.
    pub(crate) inner_attrs: Vec<Attribute>,
    pub(crate) entries: Vec<Entry>,
}

/// One item of the block.
pub(crate) enum Entry {
    Value(Box<ValueItem>),
    Helper(Box<Helper>),
}

/// `static` or `const`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Static,
    Const,
}

/// A `static` or `const` item: evaluated and emitted.
pub(crate) struct ValueItem {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) kind: Kind,
    /// The `static` or `const` keyword.
    pub(crate) keyword: Span,
    pub(crate) mutability: Option<Token![mut]>,
    /// The name; `_` for an unnamed `const`.
    pub(crate) ident: Ident,
    pub(crate) generics: Generics,
    pub(crate) ty: Type,
    pub(crate) expr: Expr,
    /// The initializer's tokens, and the ordinal of the first.
    pub(crate) init: Tokens,
}

/// A helper item: visible to the initializers, not emitted.
pub(crate) struct Helper {
    pub(crate) item: Item,
    pub(crate) tokens: Tokens,
}

/// A run of the block's top-level token trees.
#[derive(Clone)]
pub(crate) struct Tokens {
    pub(crate) trees: Vec<TokenTree>,
    /// The ordinal of the first token (see [`spans`]).
    pub(crate) first: usize,
}

impl Tokens {
    pub(crate) fn stream(&self) -> TokenStream {
        self.trees.iter().cloned().collect()
    }
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut ordinal = 0;
        let start = input.cursor();
        let inner_attrs = input.call(Attribute::parse_inner)?;
        ordinal += count(&trees_between(start, input.cursor()));
        let mut entries = Vec::new();
        while !input.is_empty() {
            let begin = input.cursor();
            let entry = if starts_value_item(input) {
                let (mut item, before, init) = parse_value(input)?;
                let before = count(&trees_between(begin, before));
                item.init = Tokens {
                    first: ordinal + before,
                    trees: init,
                };
                Entry::Value(Box::new(item))
            } else {
                let item: Item = input.parse()?;
                Entry::Helper(Box::new(Helper {
                    item,
                    tokens: Tokens {
                        trees: trees_between(begin, input.cursor()),
                        first: ordinal,
                    },
                }))
            };
            ordinal += count(&trees_between(begin, input.cursor()));
            entries.push(entry);
        }
        Ok(Self {
            inner_attrs,
            entries,
        })
    }
}

/// Whether the next item is a `static` or a `const` with a value (not a
/// `const fn`).
fn starts_value_item(input: ParseStream) -> bool {
    let fork = input.fork();
    if fork.call(Attribute::parse_outer).is_err() || fork.parse::<Visibility>().is_err() {
        return false;
    }
    if fork.peek(Token![static]) {
        return true;
    }
    fork.peek(Token![const])
        && (fork.peek2(Ident) || fork.peek2(Token![_]))
        && !fork.peek2(Token![fn])
        && !fork.peek2(Token![unsafe])
        && !fork.peek2(Token![async])
        && !fork.peek2(Token![extern])
}

/// Parses a value item; returns it, the cursor where its initializer
/// starts, and the initializer's token trees.
fn parse_value<'a>(input: ParseStream<'a>) -> syn::Result<(ValueItem, Cursor<'a>, Vec<TokenTree>)> {
    let attrs = input.call(Attribute::parse_outer)?;
    let vis: Visibility = input.parse()?;
    let (kind, keyword) = if let Some(t) = input.parse::<Option<Token![static]>>()? {
        (Kind::Static, t.span)
    } else {
        let t: Token![const] = input.parse()?;
        (Kind::Const, t.span)
    };
    let mutability: Option<Token![mut]> = input.parse()?;
    let ident = if input.peek(Token![_]) {
        let underscore: Token![_] = input.parse()?;
        Ident::new("_", underscore.span)
    } else {
        input.parse::<Ident>()?
    };
    let generics: Generics = input.parse()?;
    let what = if kind == Kind::Static {
        "static"
    } else {
        "const"
    };
    if !input.peek(Token![:]) {
        return Err(input.error(format_args!(
            "`{ident}` needs a type: `{what} {ident}: T = ...;`"
        )));
    }
    input.parse::<Token![:]>()?;
    let ty: Type = input.parse()?;
    if input.peek(Token![;]) {
        return Err(input.error(format_args!(
            "`{ident}` needs an initializer: `{what} {ident}: T = ...;`"
        )));
    }
    input.parse::<Token![=]>()?;
    let before = input.cursor();
    let expr: Expr = input.parse()?;
    let init = trees_between(before, input.cursor());
    input.parse::<Token![;]>()?;
    let item = ValueItem {
        attrs,
        vis,
        kind,
        keyword,
        mutability,
        ident,
        generics,
        ty,
        expr,
        init: Tokens {
            trees: Vec::new(),
            first: 0,
        },
    };
    Ok((item, before, init))
}

/// The top-level token trees from `from` up to `to`.
fn trees_between(mut from: Cursor, to: Cursor) -> Vec<TokenTree> {
    let mut trees = Vec::new();
    while from != to {
        let Some((tree, next)) = from.token_tree() else {
            break;
        };
        trees.push(tree);
        from = next;
    }
    trees
}

/// How many ordinals `trees` take: one per token, two per group (its
/// delimiters) plus its contents.
pub(crate) fn count(trees: &[TokenTree]) -> usize {
    trees
        .iter()
        .map(|t| match t {
            TokenTree::Group(g) => 2 + count(&g.stream().into_iter().collect::<Vec<_>>()),
            _ => 1,
        })
        .sum()
}

/// The span of every ordinal of `stream`, in order: a token, or a group's
/// opening delimiter, its contents, its closing delimiter.
pub(crate) fn spans(stream: TokenStream) -> Vec<Span> {
    let mut out = Vec::new();
    collect_spans(stream, &mut out);
    out
}

fn collect_spans(stream: TokenStream, out: &mut Vec<Span>) {
    for tree in stream {
        match tree {
            TokenTree::Group(g) => {
                out.push(g.span_open());
                collect_spans(g.stream(), out);
                out.push(g.span_close());
            }
            other => out.push(other.span()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: TokenStream) -> Input {
        syn::parse2(tokens).unwrap()
    }

    #[test]
    fn splits_values_from_helpers_and_numbers_tokens() {
        let input = parse(quote! {
            #![eval_timeout = 5]
            fn two() -> u32 { 2 }
            /// Docs.
            pub static A: [u32; 2] = [two(), 3];
            const fn helper() {}
            const _: () = ();
        });
        assert_eq!(input.inner_attrs.len(), 1);
        assert_eq!(input.entries.len(), 4);
        let Entry::Helper(h) = &input.entries[0] else {
            panic!()
        };
        // `#`, `!`, `[`, 3 tokens, `]` come first.
        assert_eq!(h.tokens.first, 7);
        let Entry::Value(a) = &input.entries[1] else {
            panic!()
        };
        assert_eq!(a.ident, "A");
        assert_eq!(a.init.stream().to_string(), "[two () , 3]");
        let all = spans(quote! {
            #![eval_timeout = 5]
            fn two() -> u32 { 2 }
            /// Docs.
            pub static A: [u32; 2] = [two(), 3];
        });
        // The initializer's first ordinal is its `[`.
        assert!(a.init.first < all.len());
        assert!(matches!(&input.entries[2], Entry::Helper(_)));
        let Entry::Value(u) = &input.entries[3] else {
            panic!()
        };
        assert_eq!(u.ident, "_");
    }

    #[test]
    fn ordinals_follow_the_token_order() {
        let tokens = quote!(
            static A: u8 = 1;
            static B: u8 = (A + 1);
        );
        let input = parse(tokens.clone());
        let all: Vec<String> = flatten(tokens);
        for entry in &input.entries {
            let Entry::Value(v) = entry else { panic!() };
            let first = flatten(v.init.stream())[0].clone();
            assert_eq!(all[v.init.first], first);
        }
    }

    fn flatten(stream: TokenStream) -> Vec<String> {
        let mut out = Vec::new();
        for tree in stream {
            match tree {
                TokenTree::Group(g) => {
                    out.push("open".into());
                    out.extend(flatten(g.stream()));
                    out.push("close".into());
                }
                other => out.push(other.to_string()),
            }
        }
        out
    }

    #[test]
    fn missing_pieces_say_what_is_missing() {
        let err = syn::parse2::<Input>(quote!(
            static X: u32;
        ))
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "`X` needs an initializer: `static X: T = ...;`"
        );
        let err = syn::parse2::<Input>(quote!(const X = 1;)).err().unwrap();
        assert_eq!(err.to_string(), "`X` needs a type: `const X: T = ...;`");
    }
}
