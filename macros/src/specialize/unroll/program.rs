//! `#[staged::unroll(pc)]`: a `while`/`loop` that reads a specialized
//! program at the local `pc` becomes, in every variant, one copy of its
//! body per position of the program, with `pc` a constant in each, so that
//! the interpreter's dispatch folds into straight code.
//!
//! Each position is a loop nested in the previous position's:
//!
//! ```text
//! '__staged_pc_0: loop {
//!     if pc >= 0 && pc <= 63 {                  // a group of positions
//!         '__staged_l_0_0: loop {
//!             '__staged_s_0_0: {
//!                 if pc != 0 { break '__staged_s_0_0; }
//!                 if !(COND) { break '__staged_pc_0; }
//!                 '__staged_c_0_0: { BODY' }    // pc is 0 here
//!                 match pc { 0 => continue '__staged_l_0_0, _ => {} }
//!             }
//!             '__staged_l_0_1: loop {
//!                 '__staged_s_0_1: { if pc != 1 { .. } .. BODY' ..
//!                     match pc { 0 => continue '__staged_l_0_0,
//!                                1 => continue '__staged_l_0_1, _ => {} } }
//!                 ...
//!                 continue '__staged_pc_0;     // past the group
//!     } } }
//!     if !(COND) { break '__staged_pc_0; }      // out of every group:
//!     BODY''                                    // one iteration as written
//! }
//! ```
//!
//! Falling through to the next position enters the next loop, whose check
//! folds (`pc` is a constant after a copy); a jump back to a position of
//! the group is a `continue` of that position's loop, a direct branch, so
//! the interpreter's loop becomes the program's own loop; a jump forward
//! passes the checks in between. In `BODY'`, `continue` ends the copy and
//! `break` leaves the loop; in `BODY''` they go back to the dispatch and
//! leave. Groups bound how deep the loops nest (rustc's stack) and how
//! many jumps back each copy lists.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Lifetime};

use super::{Expander, Mode, Retarget, Strip, index_hole_named, unwrap};
use crate::specialize::valid::Spec;

/// Positions per group: each position's loop nests in the previous one's.
pub(crate) const GROUP: usize = 64;

/// A checked program loop: the local index and the specialized parameter
/// it reads.
pub(super) struct ProgramLoop {
    pub(super) spec: usize,
}

/// What `loop_expr` (a `while` or a `loop` marked `#[staged::unroll(pc)]`)
/// reads at `pc`, or why it cannot be unrolled.
pub(super) fn check(
    loop_expr: &Expr,
    pc: &Ident,
    specs: &[Spec],
    func: &syn::ItemFn,
) -> syn::Result<ProgramLoop> {
    if !declares_local(func, pc) {
        return Err(syn::Error::new_spanned(
            pc,
            format_args!(
                "`{pc}` is not a local variable of this function; `#[staged::unroll({pc})]` names the mutable index the loop reads the program at, as in `let mut {pc} = 0;`"
            ),
        ));
    }
    let reads = read_at(loop_expr, pc, specs);
    let Some(spec) = reads else {
        let listed: Vec<String> = specs
            .iter()
            .filter(|s| s.value.element().is_some())
            .map(|s| format!("`{}[{pc}]`", s.ident))
            .collect();
        let hint = if listed.is_empty() {
            "the function specializes no slice or array".to_owned()
        } else {
            format!("it could read {}", listed.join(" or "))
        };
        return Err(syn::Error::new_spanned(
            pc,
            format_args!(
                "this loop never reads a specialized program at `{pc}`; `#[staged::unroll({pc})]` makes one copy of the loop's body per position of the program it reads as `prog[{pc}]` ({hint})"
            ),
        ));
    };
    Ok(ProgramLoop { spec })
}

/// Whether `func` has a mutable local or parameter named `pc`.
fn declares_local(func: &syn::ItemFn, pc: &Ident) -> bool {
    struct Finder<'a> {
        pc: &'a Ident,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.found |= p.ident == *self.pc && p.mutability.is_some();
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut finder = Finder { pc, found: false };
    for input in &func.sig.inputs {
        finder.visit_fn_arg(input);
    }
    finder.visit_block(&func.block);
    finder.found
}

/// The specialized slice or array the loop reads at `pc` (`prog[pc]`).
pub(super) fn read_at_pub(loop_expr: &Expr, pc: &Ident, specs: &[Spec]) -> Option<usize> {
    read_at(loop_expr, pc, specs)
}

fn read_at(loop_expr: &Expr, pc: &Ident, specs: &[Spec]) -> Option<usize> {
    struct Finder<'a> {
        pc: &'a Ident,
        specs: &'a [Spec],
        found: Option<usize>,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_expr_index(&mut self, e: &'ast syn::ExprIndex) {
            let named = |x: &Expr| match unwrap(x) {
                Expr::Path(p) if p.qself.is_none() => p.path.get_ident().cloned(),
                _ => None,
            };
            if self.found.is_none()
                && named(&e.index).is_some_and(|i| i == *self.pc)
                && let Some(base) = named(&e.expr)
            {
                self.found = self
                    .specs
                    .iter()
                    .position(|s| s.ident == base && s.value.element().is_some());
            }
            syn::visit::visit_expr_index(self, e);
        }
    }
    let mut finder = Finder {
        pc,
        specs,
        found: None,
    };
    finder.visit_expr(loop_expr);
    finder.found
}

/// A number in the expansion: a literal (a static variant), or a hole of
/// the template.
#[derive(Clone)]
enum Num {
    Lit(usize),
    Hole(Ident),
}

impl Num {
    fn tokens(&self) -> TokenStream {
        match self {
            Num::Lit(n) => proc_macro2::Literal::usize_unsuffixed(*n).into_token_stream(),
            Num::Hole(h) => h.to_token_stream(),
        }
    }

    /// `'<prefix><number>`: a label numbered by a position.
    fn label(&self, prefix: &str) -> Lifetime {
        let n = match self {
            Num::Lit(n) => n.to_string(),
            Num::Hole(h) => h.to_string(),
        };
        Lifetime::new(&format!("'{prefix}{n}"), Span::call_site())
    }
}

/// The pieces of one program loop: the loop `e` (a `while` or `loop`) with
/// number `id`, over `over`.
pub(super) struct Parts<'e> {
    pub(super) id: usize,
    pub(super) pc: &'e Ident,
    pub(super) cond: Option<&'e Expr>,
    pub(super) body: &'e syn::Block,
    pub(super) label: Option<Lifetime>,
    pub(super) rolled: TokenStream,
}

impl Expander<'_> {
    /// The expansion of a program loop.
    pub(super) fn program(&mut self, parts: &Parts, over: &ProgramLoop) -> TokenStream {
        let id = parts.id;
        let all = Lifetime::new(&format!("'__staged_pc_{id}"), Span::call_site());
        let pc = parts.pc;
        let cond_check = parts.cond.map(|c| quote!(if !(#c) { break #all; }));
        // One iteration as written, back at the dispatch after it.
        let generic = {
            let mut body = parts.body.clone();
            Retarget {
                label: parts.label.clone(),
                on_continue: syn::parse_quote!(continue #all),
                on_break: all.clone(),
                depth: 0,
            }
            .visit_block_mut(&mut body);
            Strip.visit_block_mut(&mut body);
            let stmts = &body.stmts;
            quote!(#cond_check #(#stmts)*)
        };
        // The copy at `position`, numbered as `position` says, followed by
        // the jumps back `backs` (inside the block it skips by).
        let copy_at = |this: &mut Self, position: &Num, backs: TokenStream| -> TokenStream {
            let copy_label = position.label(&format!("__staged_c_{id}_"));
            let skip = position.label(&format!("__staged_s_{id}_"));
            let p = position.tokens();
            let mut body = parts.body.clone();
            Retarget {
                label: parts.label.clone(),
                on_continue: syn::parse_quote!(break #copy_label),
                on_break: all.clone(),
                depth: 0,
            }
            .visit_block_mut(&mut body);
            // Its own marked loops, written the same way.
            this.visit_block_mut(&mut body);
            let stmts = &body.stmts;
            quote! {
                #skip: {
                    if #pc != #p { break #skip; }
                    #cond_check
                    #copy_label: { #(#stmts)* }
                    match #pc { #backs _ => {} }
                }
            }
        };
        match self.mode {
            Mode::Rolled => parts.rolled.clone(),
            Mode::Unrolled(lens) => {
                let n = lens.get(over.spec).copied().flatten().unwrap_or(0);
                let groups = (0..n).step_by(GROUP).map(|low| {
                    let high = (low + GROUP).min(n) - 1;
                    let (lo, hi) = (
                        proc_macro2::Literal::usize_unsuffixed(low),
                        proc_macro2::Literal::usize_unsuffixed(high),
                    );
                    // Built from the innermost position out.
                    let mut nest = quote!(continue #all;);
                    for k in (low..=high).rev() {
                        let position = Num::Lit(k);
                        let here = position.label(&format!("__staged_l_{id}_"));
                        let backs: TokenStream = (low..=k)
                            .map(|j| {
                                let target = Num::Lit(j);
                                let there = target.label(&format!("__staged_l_{id}_"));
                                let j = target.tokens();
                                quote!(#j => continue #there,)
                            })
                            .collect();
                        let copy = copy_at(self, &position, backs);
                        nest = quote! {
                            #here: loop {
                                #copy
                                #nest
                            }
                        };
                    }
                    quote!(if #pc >= #lo && #pc <= #hi { #nest })
                });
                quote! {
                    #all: loop {
                        #(#groups)*
                        #generic
                    }
                }
            }
            Mode::Template(salt) => {
                let markers = super::program_markers(salt, id, over.spec);
                let [begin, s1, s2, s3, s4, s5, s6, s7, s8, s9, end] = &markers;
                let position = Num::Hole(index_hole_named(salt, "position", id));
                let target = Num::Hole(index_hole_named(salt, "target", id));
                let low = index_hole_named(salt, "low", id);
                let high = index_hole_named(salt, "high", id);
                let here = position.label(&format!("__staged_l_{id}_"));
                let there = target.label(&format!("__staged_l_{id}_"));
                let t = target.tokens();
                let copy = copy_at(self, &position, quote!(#s3 #t => continue #there, #s4));
                let rolled = &parts.rolled;
                // One of each section, in order, between markers: the
                // runtime cuts them out and repeats them.
                quote! {
                    #begin #all: loop {
                        #s1 if #pc >= #low && #pc <= #high {
                            #s2 #here: loop {
                                #copy
                                #s5 continue #all;
                            #s6 }
                        #s7 }
                        #s8 #generic
                    }
                    #s9 #rolled #end
                }
            }
        }
    }
}
