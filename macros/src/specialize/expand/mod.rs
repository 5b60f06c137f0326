//! Turns a checked [`Plan`] into code. This folder is the only home of
//! `quote!` for `#[specialize]`.
//!
//! - `parts.rs`: the pieces every shape uses (variant functions, calls, the
//!   dispatcher's `match`);
//! - `free.rs`: free functions, with their companion module;
//! - `reroot.rs`: relative paths moved into the companion module;
//! - `assoc.rs`: methods, whose variants are arms of their own body;
//! - `text.rs`: the one text of a run-time function's module, for the
//!   static expansion and run-time builds alike;
//! - `scope.rs`: what every module of that text sees (the prelude, `std`,
//!   `core`, the output macros), nested ones too;
//! - `printer.rs`: tokens written as that text.

mod assoc;
mod encode;
mod free;
mod panics;
mod parts;
mod printer;
mod reroot;
mod scope;
mod text;

pub(crate) use text::ModuleText;

use proc_macro2::TokenStream;

use super::valid::{Plan, Shape};
use parts::Parts;

/// The code for `plan`.
pub(crate) fn expand(plan: &Plan) -> TokenStream {
    // A free function with a run-time stage is the text of its own module.
    let isolated = plan.runtime && matches!(plan.shape, Shape::Free);
    let parts = Parts::new(plan, isolated);
    match plan.shape {
        Shape::Assoc => assoc::expand(&parts),
        Shape::Free => free::expand(&parts),
    }
}

/// The variants of `plan` as arms of its own body (a method's shape).
pub(crate) fn expand_assoc(plan: &Plan) -> TokenStream {
    assoc::expand(&Parts::new(plan, false))
}

/// A function of a `#[staged::self_contained]` module: its copies go in the
/// module's shared isolated module, its dispatcher and companion module
/// next to it.
pub(crate) struct Member<'a> {
    parts: Parts<'a>,
    text: Option<text::FnText>,
}

impl<'a> Member<'a> {
    pub(crate) fn new(plan: &'a Plan) -> Self {
        // The module's text holds every function of the module.
        let parts = Parts::new(plan, true);
        let text = plan.runtime.then(|| text::FnText::new(&parts));
        Self { parts, text }
    }

    /// Its generic function, as an item of the module text.
    pub(crate) fn generic_fn(&self) -> TokenStream {
        self.parts.generic_fn(quote::quote!(pub), self.parts.name)
    }

    /// Its argument block and layout probes (with a run-time stage).
    pub(crate) fn extras(&self) -> TokenStream {
        self.text
            .as_ref()
            .map(|t| t.extras().clone())
            .unwrap_or_default()
    }

    /// The module types its run-time values are made of, added to `out`.
    pub(crate) fn value_types(&self, out: &mut Vec<std::rc::Rc<super::value_type::ModuleValue>>) {
        if self.text.is_some() {
            for spec in self.parts.specs() {
                spec.value.module_types(out);
            }
        }
    }

    /// `Encode` of a module type, for run-time values made of it.
    pub(crate) fn encode_impl(m: &super::value_type::ModuleValue) -> TokenStream {
        encode::encode_impl(m)
    }

    /// Its static variants.
    pub(crate) fn variants(&self) -> TokenStream {
        match &self.text {
            Some(text) => text.static_variants(&self.parts),
            None => {
                let p = &self.parts;
                let fns = p
                    .home
                    .variants
                    .iter()
                    .zip(&p.plan.combos)
                    .map(|(v, combo)| p.variant_fn(quote::quote!(pub), v, combo));
                quote::quote!(#(#fns)*)
            }
        }
    }

    /// Its dispatcher and companion module, for the module whose text is
    /// `module_text`.
    pub(crate) fn outside(&self, module_text: &ModuleText) -> TokenStream {
        let source = self.text.as_ref().map(|t| (t, module_text));
        free::outside(&self.parts, source, TokenStream::new())
    }
}

/// The header of a module's text, with `inner` attributes of its own,
/// for a module whose own items are `own`.
pub(crate) fn header(inner: TokenStream, own: &[syn::Item]) -> TokenStream {
    scope::header(inner, own)
}

/// `item`, at the top of a module's text, with the imports of their place
/// at the top of the modules nested in it.
pub(crate) fn in_text(item: &syn::Item) -> syn::Item {
    let mut item = item.clone();
    scope::in_modules_of_item(&mut item);
    item
}

/// The output macros a module text imports, in the host.
pub(crate) fn io_module() -> TokenStream {
    free::io_module()
}

/// `tokens` as text, the way the one text writes them.
pub(crate) fn render(tokens: &TokenStream) -> String {
    printer::render(tokens)
}

/// `tokens` as the one text.
pub(crate) fn module_text(tokens: &TokenStream) -> ModuleText {
    ModuleText::of(tokens)
}
