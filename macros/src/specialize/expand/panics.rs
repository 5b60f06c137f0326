//! Panics point at the user's code. A run-time variant is compiled from
//! the module's text, so a panic inside it happens at a place of that text,
//! in a file of the build directory. The macro knows where each token of
//! the text came from: for every place of the user's source that the text
//! holds (up to a limit, past which a line shares one), the companion
//! module gets one arm of `__staged_raise`, whose call of
//! `staged::__private::raise_pending` carries that place's span. The
//! runtime maps the panic's place in the library's text to an arm, and the
//! panic is raised again from there: the program's panic hook reports the
//! user's file, line and column, as it does for the generic body.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use super::printer::Mark;

/// At most this many places per function: beyond, a panic is reported at
/// the nearest earlier one.
const MAX_ARMS: usize = 512;

/// The places of one function: its arms, and where the text's tokens map.
pub(crate) struct PanicMap {
    arms: Vec<Span>,
    module: Vec<(u32, u32, u16)>,
    variant: Vec<(u32, u32, u16)>,
}

impl PanicMap {
    /// The places of a function whose module text and variant template
    /// have tokens at `module` and `variant`.
    pub(crate) fn new(module: &[Mark], variant: &[Mark]) -> Self {
        let mut arms: Vec<Span> = Vec::new();
        // An arm per place of the user's source, up to the limit; past it,
        // a place shares the arm of its line, or of the nearest earlier one.
        let mut by_place: HashMap<(usize, usize), u16> = HashMap::new();
        let mut by_line: std::collections::BTreeMap<usize, u16> = std::collections::BTreeMap::new();
        let mut arm_of = |span: Span| -> Option<u16> {
            let start = span.start();
            if start.line == 0 {
                return None;
            }
            let place = (start.line, start.column);
            if let Some(&arm) = by_place.get(&place) {
                return Some(arm);
            }
            if arms.len() >= MAX_ARMS {
                let nearest = by_line.range(..=start.line).next_back().map(|(_, &a)| a);
                return Some(nearest.unwrap_or(0));
            }
            let arm = arms.len() as u16;
            // The user's span as it is: a location made in an expansion
            // would be reported at the expansion's call site.
            arms.push(span);
            by_place.insert(place, arm);
            by_line.entry(start.line).or_insert(arm);
            Some(arm)
        };
        let mut table = |marks: &[Mark]| -> Vec<(u32, u32, u16)> {
            marks
                .iter()
                .filter_map(|m| arm_of(m.span).map(|arm| (m.line, m.column, arm)))
                .collect()
        };
        // The function's own body first: its places matter most.
        let variant = table(variant);
        let module = table(module);
        Self {
            arms,
            module,
            variant,
        }
    }

    /// `module_marks: &[..], variant_marks: &[..], raise: __staged_raise`,
    /// for the function's `FnSource`.
    pub(crate) fn fields(&self) -> TokenStream {
        let triple = |&(l, c, a): &(u32, u32, u16)| quote!((#l, #c, #a));
        let module = self.module.iter().map(triple);
        let variant = self.variant.iter().map(triple);
        quote! {
            module_marks: &[#(#module),*],
            variant_marks: &[#(#variant),*],
            raise: __staged_raise,
        }
    }

    /// `__staged_raise`: one arm per place, each raising the panic again
    /// at its span.
    pub(crate) fn trampoline(&self) -> TokenStream {
        let krate = crate::krate::path();
        // The payload waits in the runtime, so the call at the user's span
        // names no local (whose hygiene that span might not share).
        let arms = self.arms.iter().enumerate().map(|(i, span)| {
            let i = i as u16;
            let krate = crate::krate::path_at(*span);
            let raise = quote_spanned!(*span=> #krate::__private::raise_pending());
            quote!(#i => #raise,)
        });
        quote! {
            #[doc(hidden)]
            #[cold]
            #[inline(never)]
            pub fn __staged_raise(arm: u16) -> ! {
                match arm {
                    #(#arms)*
                    _ => #krate::__private::raise_pending(),
                }
            }
        }
    }
}
