//! Methods and associated functions: a companion module cannot sit inside an
//! `impl` block, and a trait impl cannot gain extra methods, so the variants
//! are arms of the function's own body, each with its values bound.

use proc_macro2::TokenStream;
use quote::quote;

use super::parts::Parts;

pub(super) fn expand(p: &Parts) -> TokenStream {
    let attrs = &p.outer_attrs;
    let vis = &p.func.vis;
    let sig = &p.func.sig;
    let stmts = &p.stmts;
    let arms = p
        .plan
        .combos
        .iter()
        .map(|combo| {
            let bindings = p.bindings(combo);
            let unrolled = p.variant_stmts(combo);
            let body = quote!({
                #bindings
                #unrolled
            });
            (combo.as_slice(), body)
        })
        .collect();
    let body = p.select(arms, quote!({ #stmts }));
    quote! {
        #(#attrs)*
        #[allow(unused_labels)]
        #vis #sig {
            #body
        }
    }
}
