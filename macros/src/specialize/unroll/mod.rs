//! `#[staged::unroll]`: a `for` loop over a specialized slice or array
//! becomes, in every variant, one copy of its body per element, with the
//! element and its index constants; the generic body keeps the loop.
//!
//! The marker sits on an expression statement, which stable rustc refuses
//! unless the outer attribute removes it first: every body this macro emits
//! has its markers taken out (the generic body, the variants, and the
//! user's item re-emitted next to an error).
//!
//! In a variant, a marked loop
//!
//! ```text
//! for p in plan { BODY }
//! ```
//!
//! becomes a block holding one copy per element,
//!
//! ```text
//! '__staged_unroll_0: {
//!     '__staged_copy_0: { let p = &plan[0usize]; BODY' }
//!     '__staged_copy_0: { let p = &plan[1usize]; BODY' }
//! }
//! ```
//!
//! where `BODY'` is the body with `continue` as `break '__staged_copy_0`
//! and `break` as `break '__staged_unroll_0`. The macro writes the copy
//! once; for a run-time value the template holds it between markers with a
//! hole for the index, and the runtime repeats it (`Piece::Unroll`). Past
//! the copy limit a variant keeps the loop as written.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Attribute, Expr, ExprForLoop, Lifetime};

use super::valid::Spec;
use super::value_type::ValueTy;
use crate::errors::Errors;

mod program;

/// Copies a static variant makes at most (the run-time default of
/// `STAGED_UNROLL_MAX`): past it, the variant keeps its loops.
pub(crate) const STATIC_UNROLL_MAX: u64 = 4096;

/// Whether `attr` is the marker: `#[staged::unroll]`, `#[unroll]` (imported)
/// or under the name the crate gave staged.
pub(crate) fn is_marker(attr: &Attribute) -> bool {
    let path = attr.path();
    let names: Vec<&Ident> = path.segments.iter().map(|s| &s.ident).collect();
    match names.as_slice() {
        [name] => path.leading_colon.is_none() && *name == "unroll",
        [krate, name] => crate::krate::is_staged(krate) && *name == "unroll",
        _ => false,
    }
}

/// How a marked loop walks its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `for p in plan`, `plan.iter()`, `&array`: `&plan[i]`.
    Elements,
    /// `for x in array` by value: `array[i]`.
    Values,
    /// `plan.iter().enumerate()`: `(i, &plan[i])`.
    Enumerate,
    /// `0..plan.len()`: `i`.
    Indices,
}

/// What a checked loop ranges over: the specialized parameter (its index
/// among the specialized ones) and how.
struct Over {
    spec: usize,
    form: Form,
}

/// [`check`], with the parameters by reference, and the jumps hidden in
/// macros.
pub(crate) fn check_refs(func: &syn::ItemFn, specs: &[&Spec], errors: &mut Errors) {
    let block = &*func.block;
    let owned: Vec<Spec> = specs
        .iter()
        .map(|s| Spec {
            position: s.position,
            ident: s.ident.clone(),
            mutability: s.mutability,
            ty: s.ty.clone(),
            value: s.value.clone(),
        })
        .collect();
    check(func, &owned, errors);
    hidden_jumps(block, errors);
}

/// Checks every marked loop of `block` against the specialized parameters
/// `specs`, each mistake on its token.
pub(crate) fn check(func: &syn::ItemFn, specs: &[Spec], errors: &mut Errors) {
    let block = &*func.block;
    struct Checker<'a> {
        specs: &'a [Spec],
        func: &'a syn::ItemFn,
        errors: &'a mut Errors,
        /// The specialized parameters some marked loop ranges over.
        used: Vec<usize>,
        /// Program loops entered.
        programs: usize,
    }
    impl<'ast> Visit<'ast> for Checker<'_> {
        fn visit_expr(&mut self, expr: &'ast Expr) {
            let attrs = expr_attrs(expr);
            for attr in attrs.iter().filter(|a| is_marker(a)) {
                match (expr, &attr.meta) {
                    (Expr::ForLoop(f), syn::Meta::Path(_)) => match over(f, self.specs) {
                        Ok(over) => self.used.push(over.spec),
                        Err(e) => self.errors.push(e),
                    },
                    (Expr::ForLoop(_), meta) => self.errors.at(
                        meta,
                        "`#[staged::unroll]` takes no arguments on a `for` loop; `#[staged::unroll(pc)]` is for a `while` or `loop` that reads a program at the index `pc`",
                    ),
                    (Expr::While(_) | Expr::Loop(_), syn::Meta::List(list)) => {
                        match syn::parse2::<Ident>(list.tokens.clone()) {
                            Err(_) => self.errors.at(
                                &list.tokens,
                                "`#[staged::unroll(pc)]` names one local variable: the index the loop reads the program at",
                            ),
                            Ok(_) if self.programs > 0 => self.errors.at(
                                attr,
                                "`#[staged::unroll(pc)]` cannot be nested in another loop marked so",
                            ),
                            Ok(_) if matches!(expr, Expr::While(w) if matches!(*w.cond, Expr::Let(_))) => {
                                self.errors.at(
                                    attr,
                                    "`#[staged::unroll(pc)]` unrolls a `while` with a condition or a `loop`; write this `while let` as a `loop` with a `match`",
                                )
                            }
                            Ok(pc) => match program::check(expr, &pc, self.specs, self.func) {
                                Ok(p) => self.used.push(p.spec),
                                Err(e) => self.errors.push(e),
                            },
                        }
                    }
                    (Expr::While(_) | Expr::Loop(_), _) => self.errors.at(
                        attr,
                        "`#[staged::unroll]` unrolls a `for` loop over a specialized slice or array; for a `while` or `loop` that reads a program at a local index `pc`, write `#[staged::unroll(pc)]`",
                    ),
                    _ => self.errors.at(
                        attr,
                        "`#[staged::unroll]` goes on a `for` loop over a specialized slice or array, as in `#[staged::unroll] for p in plan { .. }`",
                    ),
                }
            }
            let program = matches!(expr, Expr::While(_) | Expr::Loop(_))
                && attrs
                    .iter()
                    .any(|a| is_marker(a) && matches!(a.meta, syn::Meta::List(_)));
            self.programs += usize::from(program);
            syn::visit::visit_expr(self, expr);
            self.programs -= usize::from(program);
        }
        fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
            // `let` statements and items carry attributes of their own.
            if let syn::Stmt::Local(local) = stmt {
                for attr in local.attrs.iter().filter(|a| is_marker(a)) {
                    self.errors.at(
                        attr,
                        "`#[staged::unroll]` goes on a `for` loop over a specialized slice or array, not on a `let`",
                    );
                }
            }
            syn::visit::visit_stmt(self, stmt);
        }
    }
    let mut checker = Checker {
        specs,
        func,
        errors,
        used: Vec::new(),
        programs: 0,
    };
    checker.visit_block(block);
    let Checker { used, errors, .. } = checker;
    for spec in used.iter().map(|&i| &specs[i]) {
        if let Some(m) = &spec.mutability {
            errors.at(
                m,
                format_args!(
                    "`{}` is unrolled by `#[staged::unroll]`, which needs it as the function received it; remove `mut`",
                    spec.ident
                ),
            );
        }
        if let Some(rebinding) = rebinding(block, &spec.ident) {
            errors.at(
                rebinding,
                format_args!(
                    "`{0}` is bound again here, so a loop marked `#[staged::unroll]` over `{0}` might not range over the specialized value; give this binding another name",
                    spec.ident
                ),
            );
        }
    }
}

/// What the marked loop `f` ranges over, or why it cannot be unrolled.
fn over(f: &ExprForLoop, specs: &[Spec]) -> syn::Result<Over> {
    let expr = unwrap(&f.expr);
    let not_specialized = |name: &Ident| {
        let listed: Vec<String> = specs
            .iter()
            .filter(|s| s.value.element().is_some())
            .map(|s| format!("`{}`", s.ident))
            .collect();
        let which = if listed.is_empty() {
            "the function specializes no slice or array".to_owned()
        } else {
            format!(
                "its specialized slices and arrays are {}",
                listed.join(", ")
            )
        };
        syn::Error::new_spanned(
            name,
            format!(
                "`#[staged::unroll]` needs a loop over a specialized slice or array; `{name}` is not one ({which})"
            ),
        )
    };
    let spec_of = |name: &Ident| -> syn::Result<usize> {
        let i = specs
            .iter()
            .position(|s| s.ident == *name)
            .ok_or_else(|| not_specialized(name))?;
        if specs[i].value.element().is_none() {
            return Err(not_specialized(name));
        }
        Ok(i)
    };
    let shapes = "write the loop as `for p in plan`, `for p in plan.iter()`, `for (i, p) in plan.iter().enumerate()` or `for i in 0..plan.len()`";
    let unsupported = || {
        syn::Error::new_spanned(
            &f.expr,
            format!("`#[staged::unroll]` cannot tell what this loop ranges over; {shapes}"),
        )
    };
    match expr {
        Expr::Path(_) => {
            let name = ident(expr).ok_or_else(unsupported)?;
            let i = spec_of(name)?;
            let form = match specs[i].value {
                ValueTy::Array(..) => Form::Values,
                _ => Form::Elements,
            };
            Ok(Over { spec: i, form })
        }
        Expr::Reference(r) if r.mutability.is_none() => {
            let name = ident(&r.expr).ok_or_else(unsupported)?;
            let i = spec_of(name)?;
            match specs[i].value {
                ValueTy::Array(..) => Ok(Over {
                    spec: i,
                    form: Form::Elements,
                }),
                _ => Err(syn::Error::new_spanned(
                    &f.expr,
                    format!("`{name}` is a slice: loop over `{name}` itself"),
                )),
            }
        }
        Expr::MethodCall(call) if call.method == "iter" && call.args.is_empty() => {
            let name = ident(&call.receiver).ok_or_else(unsupported)?;
            Ok(Over {
                spec: spec_of(name)?,
                form: Form::Elements,
            })
        }
        Expr::MethodCall(call) if call.method == "enumerate" && call.args.is_empty() => {
            match unwrap(&call.receiver) {
                Expr::MethodCall(inner) if inner.method == "iter" && inner.args.is_empty() => {
                    let name = ident(&inner.receiver).ok_or_else(unsupported)?;
                    Ok(Over {
                        spec: spec_of(name)?,
                        form: Form::Enumerate,
                    })
                }
                _ => Err(unsupported()),
            }
        }
        Expr::Range(range) if matches!(range.limits, syn::RangeLimits::HalfOpen(_)) => {
            let starts_at_zero = matches!(
                range.start.as_deref().map(unwrap),
                Some(Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }))
                    if i.base10_parse::<u128>().ok() == Some(0)
            );
            let end = match range.end.as_deref().map(unwrap) {
                Some(Expr::MethodCall(call)) if call.method == "len" && call.args.is_empty() => {
                    ident(&call.receiver)
                }
                _ => None,
            };
            match (starts_at_zero, end) {
                (true, Some(name)) => Ok(Over {
                    spec: spec_of(name)?,
                    form: Form::Indices,
                }),
                _ => Err(unsupported()),
            }
        }
        _ => Err(unsupported()),
    }
}

pub(super) fn unwrap(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unwrap(&p.expr),
        Expr::Group(g) => unwrap(&g.expr),
        other => other,
    }
}

/// The name `expr` is, if it is a plain name.
fn ident(expr: &Expr) -> Option<&Ident> {
    match unwrap(expr) {
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => p.path.get_ident(),
        _ => None,
    }
}

/// The first pattern of `block` that binds `name`.
fn rebinding(block: &syn::Block, name: &Ident) -> Option<Ident> {
    struct Finder<'n> {
        name: &'n Ident,
        found: Option<Ident>,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            if p.ident == *self.name && self.found.is_none() {
                self.found = Some(p.ident.clone());
            }
            syn::visit::visit_pat_ident(self, p);
        }
    }
    let mut finder = Finder { name, found: None };
    finder.visit_block(block);
    finder.found
}

/// The attributes of an expression that can carry the marker.
fn expr_attrs(expr: &Expr) -> &[Attribute] {
    match expr {
        Expr::ForLoop(e) => &e.attrs,
        Expr::While(e) => &e.attrs,
        Expr::Loop(e) => &e.attrs,
        Expr::Block(e) => &e.attrs,
        Expr::If(e) => &e.attrs,
        Expr::Match(e) => &e.attrs,
        Expr::Call(e) => &e.attrs,
        Expr::MethodCall(e) => &e.attrs,
        Expr::Assign(e) => &e.attrs,
        Expr::Binary(e) => &e.attrs,
        Expr::Macro(e) => &e.attrs,
        Expr::Path(e) => &e.attrs,
        _ => &[],
    }
}

fn expr_attrs_mut(expr: &mut Expr) -> Option<&mut Vec<Attribute>> {
    Some(match expr {
        Expr::ForLoop(e) => &mut e.attrs,
        Expr::While(e) => &mut e.attrs,
        Expr::Loop(e) => &mut e.attrs,
        Expr::Block(e) => &mut e.attrs,
        Expr::If(e) => &mut e.attrs,
        Expr::Match(e) => &mut e.attrs,
        Expr::Call(e) => &mut e.attrs,
        Expr::MethodCall(e) => &mut e.attrs,
        Expr::Assign(e) => &mut e.attrs,
        Expr::Binary(e) => &mut e.attrs,
        Expr::Macro(e) => &mut e.attrs,
        Expr::Path(e) => &mut e.attrs,
        _ => return None,
    })
}

/// Takes every marker out of whatever `node` holds.
pub(super) struct Strip;

impl VisitMut for Strip {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Some(attrs) = expr_attrs_mut(expr) {
            attrs.retain(|a| !is_marker(a));
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        local.attrs.retain(|a| !is_marker(a));
        syn::visit_mut::visit_local_mut(self, local);
    }
}

/// `block` without markers: the generic body.
pub(crate) fn strip(block: &syn::Block) -> syn::Block {
    let mut block = block.clone();
    Strip.visit_block_mut(&mut block);
    block
}

/// `item` (the user's, re-emitted next to an error) without markers, so
/// that it still compiles on stable; as it is when it does not parse.
pub(crate) fn strip_item(item: TokenStream) -> TokenStream {
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(mut parsed) => {
            Strip.visit_item_mut(&mut parsed);
            parsed.into_token_stream()
        }
        Err(_) => item,
    }
}

/// How a variant's marked loops are written.
#[derive(Clone, Copy)]
pub(crate) enum Mode<'a> {
    /// As written (markers taken out).
    Rolled,
    /// One copy per element, for values whose lengths are known: each
    /// specialized parameter's, `None` for those that are not slices or
    /// arrays.
    Unrolled(&'a [Option<usize>]),
    /// The template of run-time variants: the copy and the loop between
    /// markers made with `salt`, for the runtime to choose and repeat.
    Template(&'a str),
}

/// The markers of a template's unrolled loop `id` over parameter `spec`:
/// before the copy, between it and the loop as written, after that.
pub(crate) fn region_markers(salt: &str, id: usize, spec: usize) -> [Ident; 3] {
    ["begin", "mid", "end"]
        .map(|at| format_ident!("__staged_hole_{}_unroll{}_{}_{}", salt, id, spec, at))
}

/// The index hole of loop `id` in a template.
pub(crate) fn index_hole(salt: &str, id: usize) -> Ident {
    index_hole_named(salt, "index", id)
}

/// A hole of loop `id` in a template: `index`, and for a program loop
/// `position`, `target`, `low` and `high`.
pub(crate) fn index_hole_named(salt: &str, kind: &str, id: usize) -> Ident {
    format_ident!("__staged_hole_{}_{}{}", salt, kind, id)
}

/// The markers around the sections of a template's program loop `id` over
/// parameter `spec`: `begin`, nine separators `s1`..`s9`, `end`.
pub(crate) fn program_markers(salt: &str, id: usize, spec: usize) -> [Ident; 11] {
    std::array::from_fn(|i| match i {
        0 => format_ident!("__staged_hole_{}_program{}_{}_begin", salt, id, spec),
        10 => format_ident!("__staged_hole_{}_program{}_end", salt, id),
        n => format_ident!("__staged_hole_{}_program{}_s{}", salt, id, n),
    })
}

/// How many copies of loop bodies the marked loops of `block` make for
/// values of lengths `lens`.
pub(crate) fn copies(block: &syn::Block, specs: &[Spec], lens: &[Option<usize>]) -> u64 {
    struct Count<'a> {
        specs: &'a [Spec],
        lens: &'a [Option<usize>],
        total: u64,
        /// Copies of the loops around the one being looked at.
        outer: u64,
    }
    impl<'ast> Visit<'ast> for Count<'_> {
        fn visit_expr(&mut self, expr: &'ast Expr) {
            let (Expr::While(_) | Expr::Loop(_)) = expr else {
                return syn::visit::visit_expr(self, expr);
            };
            let Some(pc) = program_marker(expr_attrs(expr)) else {
                return syn::visit::visit_expr(self, expr);
            };
            let n = program::read_at_pub(expr, &pc, self.specs)
                .and_then(|spec| self.lens.get(spec).copied().flatten())
                .unwrap_or(0) as u64;
            let copies = self.outer.saturating_mul(n);
            self.total = self.total.saturating_add(copies);
            let outer = std::mem::replace(&mut self.outer, copies);
            syn::visit::visit_expr(self, expr);
            self.outer = outer;
        }
        fn visit_expr_for_loop(&mut self, f: &'ast ExprForLoop) {
            if !f.attrs.iter().any(is_marker) {
                return syn::visit::visit_expr_for_loop(self, f);
            }
            let n = over(f, self.specs)
                .ok()
                .and_then(|o| self.lens.get(o.spec).copied().flatten())
                .unwrap_or(0) as u64;
            let copies = self.outer.saturating_mul(n);
            self.total = self.total.saturating_add(copies);
            let outer = std::mem::replace(&mut self.outer, copies);
            self.visit_block(&f.body);
            self.outer = outer;
        }
    }
    let mut count = Count {
        specs,
        lens,
        total: 0,
        outer: 1,
    };
    count.visit_block(block);
    count.total
}

/// The statements of a variant's body: `block` with its marked loops
/// written as `mode` says.
pub(crate) fn expand(block: &syn::Block, specs: &[Spec], mode: Mode) -> TokenStream {
    let mut block = block.clone();
    let mut expander = Expander {
        specs,
        mode,
        next_id: 0,
    };
    expander.visit_block_mut(&mut block);
    block.stmts.iter().map(ToTokens::to_token_stream).collect()
}

pub(super) struct Expander<'a> {
    specs: &'a [Spec],
    mode: Mode<'a>,
    next_id: usize,
}

impl VisitMut for Expander<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::ForLoop(f) = expr
            && f.attrs.iter().any(is_marker)
            && let Ok(over) = over(f, self.specs)
        {
            let id = self.next_id;
            self.next_id += 1;
            let tokens = self.unroll(f, &over, id);
            *expr = Expr::Verbatim(tokens);
            return;
        }
        if let Some(pc) = program_marker(expr_attrs(expr))
            && let Some(spec) = program::read_at_pub(expr, &pc, self.specs)
        {
            let id = self.next_id;
            self.next_id += 1;
            let rolled = {
                let mut e = expr.clone();
                Strip.visit_expr_mut(&mut e);
                e.into_token_stream()
            };
            let (cond, body, label) = match &*expr {
                Expr::While(w) => (
                    Some(&*w.cond),
                    &w.body,
                    w.label.as_ref().map(|l| l.name.clone()),
                ),
                Expr::Loop(l) => (None, &l.body, l.label.as_ref().map(|l| l.name.clone())),
                _ => unreachable!("program loops are while and loop"),
            };
            let parts = program::Parts {
                id,
                pc: &pc,
                cond,
                body,
                label,
                rolled,
            };
            let over = program::ProgramLoop { spec };
            let tokens = self.program(&parts, &over);
            *expr = Expr::Verbatim(tokens);
            return;
        }
        if let Some(attrs) = expr_attrs_mut(expr) {
            attrs.retain(|a| !is_marker(a));
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

impl Expander<'_> {
    /// The loop `f`, marked, over `over`, with number `id`.
    fn unroll(&mut self, f: &ExprForLoop, over: &Over, id: usize) -> TokenStream {
        let unroll_label = Lifetime::new(&format!("'__staged_unroll_{id}"), Span::call_site());
        let copy_label = Lifetime::new(&format!("'__staged_copy_{id}"), Span::call_site());
        let rolled = {
            // As an expression, so that the loop's own marker goes too.
            let mut e = Expr::ForLoop(f.clone());
            Strip.visit_expr_mut(&mut e);
            e.into_token_stream()
        };
        // The copy's body: `continue` and `break` retargeted, then its own
        // marked loops written the same way (numbered after this one).
        let mut body = f.body.clone();
        Retarget {
            label: f.label.as_ref().map(|l| l.name.clone()),
            on_continue: syn::parse_quote!(break #copy_label),
            on_break: unroll_label.clone(),
            depth: 0,
        }
        .visit_block_mut(&mut body);
        let placeholder = format_ident!("__staged_index_of_copy_{}", id);
        self.visit_block_mut(&mut body);
        let stmts = &body.stmts;
        let pat = &f.pat;
        let spec = &self.specs[over.spec].ident;
        let element = match over.form {
            Form::Elements => quote!(&#spec[#placeholder]),
            Form::Values => quote!(#spec[#placeholder]),
            Form::Enumerate => quote!((#placeholder, &#spec[#placeholder])),
            Form::Indices => quote!(#placeholder),
        };
        let copy = quote! {
            #copy_label: {
                let #pat = #element;
                #(#stmts)*
            }
        };
        let copies = match self.mode {
            Mode::Rolled => rolled,
            Mode::Unrolled(lens) => {
                let n = lens.get(over.spec).copied().flatten().unwrap_or(0);
                let copies = (0..n).map(|i| {
                    let index = proc_macro2::Literal::usize_suffixed(i);
                    replace_ident(copy.clone(), &placeholder, &quote!(#index))
                });
                quote!(#(#copies)*)
            }
            Mode::Template(salt) => {
                let [begin, mid, end] = region_markers(salt, id, over.spec);
                let hole = index_hole(salt, id);
                let copy = replace_ident(copy, &placeholder, &quote!(#hole));
                quote!(#begin #copy #mid #rolled #end)
            }
        };
        quote!(#unroll_label: { #copies })
    }
}

/// `tokens` with every `ident` replaced by `with`.
fn replace_ident(tokens: TokenStream, ident: &Ident, with: &TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|t| match t {
            TokenTree::Ident(i) if i == *ident => with.clone().into_iter().collect::<Vec<_>>(),
            TokenTree::Group(g) => {
                let mut group =
                    proc_macro2::Group::new(g.delimiter(), replace_ident(g.stream(), ident, with));
                group.set_span(g.span());
                vec![TokenTree::Group(group)]
            }
            other => vec![other],
        })
        .collect()
}

/// Points `continue` and `break` of an unrolled loop's body elsewhere:
/// `continue` becomes `on_continue` (the end of the copy), `break` a break
/// of `on_break`. Loops inside the body keep theirs (unless labelled with
/// the unrolled loop's label); closures, async blocks and items are left
/// alone.
pub(super) struct Retarget {
    pub(super) label: Option<Lifetime>,
    pub(super) on_continue: Expr,
    pub(super) on_break: Lifetime,
    /// Loops entered inside the body.
    pub(super) depth: usize,
}

impl Retarget {
    fn ours(&self, label: &Option<Lifetime>) -> bool {
        match label {
            None => self.depth == 0,
            Some(l) => self
                .label
                .as_ref()
                .is_some_and(|ours| ours.ident == l.ident),
        }
    }
}

impl VisitMut for Retarget {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Continue(c) if self.ours(&c.label) => {
                *expr = self.on_continue.clone();
            }
            Expr::Break(b) if self.ours(&b.label) => {
                b.label = Some(self.on_break.clone());
                if let Some(value) = &mut b.expr {
                    self.visit_expr_mut(value);
                }
            }
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.depth += 1;
                syn::visit_mut::visit_expr_mut(self, expr);
                self.depth -= 1;
            }
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            _ => syn::visit_mut::visit_expr_mut(self, expr),
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// A `break` or `continue` written inside a macro's tokens in the body of
/// a marked loop, which the unrolling cannot see.
pub(crate) fn hidden_jumps(block: &syn::Block, errors: &mut Errors) {
    struct Finder<'e> {
        errors: &'e mut Errors,
        in_marked: usize,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_expr_for_loop(&mut self, f: &'ast ExprForLoop) {
            let marked = f.attrs.iter().any(is_marker);
            self.in_marked += usize::from(marked);
            syn::visit::visit_expr_for_loop(self, f);
            self.in_marked -= usize::from(marked);
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if self.in_marked > 0
                && let Some(jump) = find_jump(m.tokens.clone())
            {
                self.errors.at(
                    jump.clone(),
                    format_args!(
                        "`#[staged::unroll]` cannot see `{jump}` inside the macro `{}!`, which the unrolled loop must retarget; write it outside the macro",
                        m.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default()
                    ),
                );
            }
        }
    }
    fn find_jump(tokens: TokenStream) -> Option<Ident> {
        tokens.into_iter().find_map(|t| match t {
            TokenTree::Ident(i) if i == "break" || i == "continue" => Some(i),
            TokenTree::Group(g) => find_jump(g.stream()),
            _ => None,
        })
    }
    Finder {
        errors,
        in_marked: 0,
    }
    .visit_block(block);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::specialize::expand::render;

    fn spec(name: &str, ty: &str) -> Spec {
        let ty: syn::Type = syn::parse_str(ty).unwrap();
        Spec {
            position: 0,
            ident: Ident::new(name, Span::call_site()),
            mutability: None,
            value: ValueTy::of(&ty, &[]).ok().unwrap(),
            ty,
        }
    }

    fn body(s: &str) -> syn::Block {
        syn::parse_str(s).unwrap()
    }

    #[test]
    fn each_element_gets_a_copy_with_jumps_retargeted() {
        let specs = [spec("plan", "&[u8]")];
        let b = body(
            "{ let mut n = 0; #[staged::unroll] for p in plan { if *p == 0 { continue; } if *p == 9 { break; } for q in 0..3 { if q == 1 { continue; } } n += *p; } n }",
        );
        let text = render(&expand(&b, &specs, Mode::Unrolled(&[Some(2)])));
        assert!(text.contains("'__staged_copy_0 : {"), "{text}");
        assert_eq!(text.matches("let p = & plan [0usize]").count(), 1, "{text}");
        assert_eq!(text.matches("let p = & plan [1usize]").count(), 1, "{text}");
        assert_eq!(text.matches("break '__staged_copy_0").count(), 2, "{text}");
        assert_eq!(
            text.matches("break '__staged_unroll_0").count(),
            2,
            "{text}"
        );
        // The inner loop keeps its own `continue`.
        assert_eq!(text.matches("continue").count(), 2, "{text}");
        let rolled = render(&expand(&b, &specs, Mode::Rolled));
        assert!(rolled.contains("for p in plan"), "{rolled}");
        assert!(!rolled.contains("staged :: unroll"), "{rolled}");
        // The template's loop as written carries no marker either.
        let template = render(&expand(&b, &specs, Mode::Template("s")));
        assert!(!template.contains("staged :: unroll"), "{template}");
    }

    #[test]
    fn forms_of_loops_give_their_elements() {
        let specs = [spec("plan", "&[u8]"), spec("taps", "[f64; 2]")];
        for (loop_, element) in [
            (
                "for (i, p) in plan.iter().enumerate() {}",
                "let (i , p) = (1usize , & plan [1usize])",
            ),
            ("for i in 0..plan.len() {}", "let i = 1usize"),
            ("for t in taps {}", "let t = taps [1usize]"),
            ("for t in &taps {}", "let t = & taps [1usize]"),
            ("for t in taps.iter() {}", "let t = & taps [1usize]"),
        ] {
            let b = body(&format!("{{ #[staged::unroll] {loop_} }}"));
            let text = render(&expand(&b, &specs, Mode::Unrolled(&[Some(2), Some(2)])));
            assert!(text.contains(element), "{loop_}: {text}");
        }
    }

    #[test]
    fn nested_loops_count_their_copies() {
        let specs = [spec("a", "&[u8]"), spec("b", "[u8; 3]")];
        let b = body("{ #[staged::unroll] for x in a { #[staged::unroll] for y in b.iter() {} } }");
        assert_eq!(copies(&b, &specs, &[Some(4), Some(3)]), 4 + 4 * 3);
        let text = render(&expand(&b, &specs, Mode::Template("s")));
        for marker in [
            "__staged_hole_s_unroll0_0_begin",
            "__staged_hole_s_unroll1_1_begin",
            "__staged_hole_s_index1",
        ] {
            assert!(text.contains(marker), "{marker}: {text}");
        }
    }

    #[test]
    fn mistakes_are_refused() {
        let specs = [spec("plan", "&[u8]"), spec("k", "u8")];
        let check_one = |s: &str| {
            let mut errors = Errors::default();
            let func: syn::ItemFn = syn::parse_str(&format!("fn f() {s}")).unwrap();
            check(&func, &specs, &mut errors);
            errors.finish(()).err().map(|e| e.to_string())
        };
        assert!(check_one("{ #[staged::unroll] for p in plan {} }").is_none());
        assert!(
            check_one("{ #[staged::unroll] for p in other {} }")
                .unwrap()
                .contains("`other` is not one")
        );
        assert!(
            check_one("{ #[staged::unroll] for p in k {} }")
                .unwrap()
                .contains("`k` is not one")
        );
        assert!(
            check_one("{ #[staged::unroll] for p in plan.iter().rev() {} }")
                .unwrap()
                .contains("cannot tell")
        );
        assert!(
            check_one("{ #[staged::unroll] while true {} }")
                .unwrap()
                .contains("`while`")
        );
        assert!(
            check_one("{ let plan = &plan[1..]; #[staged::unroll] for p in plan {} }")
                .unwrap()
                .contains("bound again")
        );
        let program = |s: &str| check_one(&format!("{{ let mut pc = 0usize; {s} }}"));
        assert!(
            program("#[staged::unroll(pc)] while pc < plan.len() { pc += 1 + plan[pc] as usize; }")
                .is_none()
        );
        assert!(program("#[staged::unroll(pc)] loop { if plan[pc] == 0 { break; } }").is_none());
        assert!(
            check_one("{ #[staged::unroll(pc)] while true {} }")
                .unwrap()
                .contains("not a local")
        );
        assert!(
            program("#[staged::unroll(pc)] while pc < 3 { pc += 1; }")
                .unwrap()
                .contains("never reads")
        );
        assert!(
            program("#[staged::unroll(pc, x)] loop {}")
                .unwrap()
                .contains("one local")
        );
        assert!(
            program("#[staged::unroll(pc)] for p in plan {}")
                .unwrap()
                .contains("no arguments")
        );
    }
}

/// The program loop of a template, cut into sections by the runtime, and
/// a static variant of it.
#[cfg(test)]
mod program_tests {
    use super::*;
    use crate::specialize::expand::render;

    #[test]
    fn a_program_loop_nests_one_loop_per_position() {
        let ty: syn::Type = syn::parse_str("&[u8]").unwrap();
        let specs = [Spec {
            position: 0,
            ident: Ident::new("prog", Span::call_site()),
            mutability: None,
            value: ValueTy::of(&ty, &[]).ok().unwrap(),
            ty,
        }];
        let b: syn::Block = syn::parse_str(
            "{ let mut pc = 0usize; #[staged::unroll(pc)] while pc < prog.len() { if prog[pc] == 0 { pc += 2; continue; } pc += 1; } pc }",
        )
        .unwrap();
        let text = render(&expand(&b, &specs, Mode::Unrolled(&[Some(3)]))).replace('\n', " ");
        for expected in [
            "'__staged_pc_0 : loop",
            "if pc >= 0 && pc <= 2",
            "'__staged_l_0_2 : loop",
            "if pc != 1 { break '__staged_s_0_1 ; }",
            "break '__staged_c_0_1",
            "1 => continue '__staged_l_0_1 ,",
        ] {
            assert!(text.contains(expected), "{expected}: {text}");
        }
        assert_eq!(copies(&b, &specs, &[Some(3)]), 3);
        let template = render(&expand(&b, &specs, Mode::Template("t")));
        for marker in [
            "__staged_hole_t_program0_0_begin",
            "__staged_hole_t_program0_s9",
            "__staged_hole_t_program0_end",
            "'__staged_l_0___staged_hole_t_position0",
        ] {
            assert!(template.contains(marker), "{marker}: {template}");
        }
    }
}

/// The index a program marker names: `pc` of `#[staged::unroll(pc)]`.
fn program_marker(attrs: &[Attribute]) -> Option<Ident> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::List(list) if is_marker(a) => syn::parse2::<Ident>(list.tokens.clone()).ok(),
        _ => None,
    })
}
