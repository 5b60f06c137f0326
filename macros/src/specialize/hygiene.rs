//! Hygiene that text cannot keep. A run-time variant is compiled from the
//! function's text, where two local variables of the same name are one
//! name. In tokens they can be two: a `#[specialize]` function written by a
//! `macro_rules!` macro may bind `x` itself and use the caller's `x` too,
//! and hygiene keeps them apart (the generic body answers 1006 where the
//! text would answer 2005). Such a function is refused for run time, on the
//! name, rather than built into a variant that means something else.
//!
//! The compiler tells a token's expansion in its span's debug form (`#3
//! bytes(..)`); where it does not (outside a real expansion), there is
//! nothing to check.

use std::collections::HashMap;

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ItemFn;

use crate::errors::Errors;

/// The expansion a span comes from, as the compiler numbers it.
fn context(span: Span) -> Option<String> {
    let debug = format!("{span:?}");
    let rest = debug.strip_prefix('#')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!digits.is_empty()).then_some(digits)
}

/// Records an error for each local name of `func` that stands for two
/// different bindings, or a binding and something else, by hygiene.
pub(crate) fn check(func: &ItemFn, hint: &str, errors: &mut Errors) {
    let bindings = bindings(func);
    if bindings.is_empty() {
        return;
    }
    // Every identifier of the function with a bound name, by name: the
    // expansions they come from.
    let mut seen: HashMap<String, Vec<(String, Ident)>> = HashMap::new();
    collect(func.to_token_stream(), &bindings, &mut seen);
    let mut names: Vec<&String> = seen.keys().collect();
    names.sort();
    for name in names {
        let uses = &seen[name];
        let Some((first, _)) = uses.first() else {
            continue;
        };
        if let Some((_, other)) = uses.iter().find(|(ctx, _)| ctx != first) {
            errors.at(
                other,
                format_args!(
                    "this `{name}` and another `{name}` of this function come from different macro expansions, which hygiene keeps apart; the run-time build compiles the function from text, where they would be one name; give them different names, or {hint}"
                ),
            );
        }
    }
}

/// The names bound in `func`: parameters, `let`, closure and `match`
/// patterns, and loop labels.
fn bindings(func: &ItemFn) -> Vec<String> {
    struct Bound(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Bound {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
        fn visit_label(&mut self, l: &'ast syn::Label) {
            self.0.push(format!("'{}", l.name.ident));
        }
    }
    let mut bound = Bound(Vec::new());
    syn::visit::Visit::visit_item_fn(&mut bound, func);
    bound.0.sort();
    bound.0.dedup();
    bound.0
}

fn collect(
    tokens: TokenStream,
    names: &[String],
    seen: &mut HashMap<String, Vec<(String, Ident)>>,
) {
    let mut lifetime = false;
    for token in tokens {
        match token {
            TokenTree::Group(g) => collect(g.stream(), names, seen),
            TokenTree::Punct(p) => {
                lifetime = p.as_char() == '\'';
                continue;
            }
            TokenTree::Ident(ident) => {
                let name = if lifetime {
                    format!("'{ident}")
                } else {
                    ident.to_string()
                };
                if names.binary_search(&name).is_ok()
                    && let Some(ctx) = context(ident.span())
                {
                    seen.entry(name).or_default().push((ctx, ident));
                }
            }
            TokenTree::Literal(_) => {}
        }
        lifetime = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_outside_an_expansion_have_no_context() {
        assert_eq!(context(Span::call_site()), None);
        let func: ItemFn = syn::parse_quote!(
            fn f(x: u64) -> u64 {
                let y = x;
                'l: loop {
                    break 'l y;
                }
            }
        );
        assert_eq!(bindings(&func), ["'l", "x", "y"]);
        let mut errors = Errors::default();
        check(&func, "", &mut errors);
        assert!(errors.finish(()).is_ok());
    }
}
