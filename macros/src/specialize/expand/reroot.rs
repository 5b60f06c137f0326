//! Moves relative paths down: code written for the user's module, emitted
//! `depth` modules deeper, keeps meaning the same items.

use proc_macro2::{Group, Ident, Punct, Spacing, TokenStream, TokenTree};

use super::super::paths::is_path_root;

/// Rewrites `self::x` to `super::x` and `super::x` to `super::super::x`, once
/// per level of `depth`, everywhere in `tokens` (macro arguments included).
pub(super) fn reroot(tokens: TokenStream, depth: usize) -> TokenStream {
    if depth == 0 {
        return tokens;
    }
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), reroot(g.stream(), depth));
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            TokenTree::Ident(ident)
                if (ident == "self" || ident == "super") && is_path_root(&tokens, i) =>
            {
                let extra = if ident == "self" { depth } else { depth + 1 };
                for k in 0..extra {
                    out.push(TokenTree::Ident(Ident::new("super", ident.span())));
                    if k + 1 < extra {
                        out.push(TokenTree::Punct(Punct::new(':', Spacing::Joint)));
                        out.push(TokenTree::Punct(Punct::new(':', Spacing::Alone)));
                    }
                }
            }
            other => out.push(other.clone()),
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::reroot;

    fn run(s: &str, depth: usize) -> String {
        reroot(s.parse().unwrap(), depth).to_string()
    }

    #[test]
    fn rewrites_roots_only() {
        assert_eq!(
            run("self::a(super::b, x::self::c, &self)", 1),
            "super :: a (super :: super :: b , x :: self :: c , & self)"
        );
        assert_eq!(run("vec![self::X]", 2), "vec ! [super :: super :: X]");
        assert_eq!(run("Self::new()", 2), "Self :: new ()");
    }
}
