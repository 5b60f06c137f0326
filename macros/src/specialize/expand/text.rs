//! The one text of a run-time function's isolated module. The macro builds
//! it once, as tokens; the static expansion emits those tokens (with the
//! user's spans), and their rendering is what the runtime compiles for
//! other values, filling only the holes:
//!
//! ```text
//! module   #![no_implicit_prelude] + std/core imports (scope.rs), the argument block
//!          `__Args` (#[repr(C)], one field per parameter that is not
//!          specialized), the layout probes `__LAYOUT`, the generic fn
//! variant  one function per value, the values bound first   holes: name, values
//! entry    the library's `extern "C"` entry (text only)      holes: symbol, name
//! ```
//!
//! The template of a variant is rendered from the same function that makes
//! the static variants, with placeholders where the values go, so the two
//! cannot drift apart.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::{FnArg, ReturnType, Type};

use super::super::module_types::{self, ModuleType};
use super::super::types::erase_lifetimes;
use super::super::unroll;
use super::panics::PanicMap;
use super::parts::Parts;
use super::printer::{Mark, render, render_marked};
use staged_build::store::Hash32;

/// A piece of a template.
enum Piece {
    Text(String),
    Value(usize),
    Name,
    Symbol,
    /// A loop marked `#[staged::unroll]`: its copy and the loop as written.
    Unroll {
        param: usize,
        id: usize,
        copy: Vec<Piece>,
        rolled: Vec<Piece>,
    },
    Index(usize),
    /// A loop marked `#[staged::unroll(pc)]`: its sections, in the order
    /// of `staged_runtime::Program`'s fields.
    Program {
        param: usize,
        id: usize,
        sections: Vec<Vec<Piece>>,
    },
    Position(usize),
    Target(usize),
    Low(usize),
    High(usize),
}

/// A function's part of the one text: its argument block and layout probes
/// (which go in the module text), and the templates of its variants and
/// entries.
pub(crate) struct FnText {
    extras: TokenStream,
    variant: Vec<Piece>,
    /// Where the template's tokens landed in its text.
    variant_marks: Vec<Mark>,
    entry: Vec<Piece>,
}

/// The text of an isolated module, and where its tokens landed.
pub(crate) struct ModuleText {
    pub(crate) text: String,
    pub(crate) marks: Vec<Mark>,
}

impl ModuleText {
    pub(crate) fn of(tokens: &TokenStream) -> Self {
        let (text, marks) = render_marked(tokens);
        Self { text, marks }
    }
}

impl FnText {
    pub(crate) fn new(p: &Parts) -> Self {
        let extras = extras(p);
        // Placeholders no user text can hold: derived from the text itself.
        let salt = {
            let mut text = render(&extras);
            text.push_str(&p.stmts.to_string());
            Hash32::of_bytes(text.as_bytes()).to_string()[..12].to_owned()
        };
        let name_hole = format_ident!("__staged_hole_{}_name", salt);
        let value_holes: Vec<Ident> = (0..p.specs().len())
            .map(|i| format_ident!("__staged_hole_{}_value{}", salt, i))
            .collect();
        let holes: Vec<TokenStream> = value_holes.iter().map(ToTokens::to_token_stream).collect();
        let stmts = unroll::expand(&p.block, p.specs(), unroll::Mode::Template(&salt));
        let (variant_text, variant_marks) = render_marked(&variant(p, &name_hole, &holes, stmts));
        Self {
            extras,
            variant: split(&variant_text, &salt),
            variant_marks,
            entry: entry(p),
        }
    }

    /// The argument block and the layout probes, for the module text.
    pub(crate) fn extras(&self) -> &TokenStream {
        &self.extras
    }

    /// One variant per static value, as the template makes them.
    pub(crate) fn static_variants(&self, p: &Parts) -> TokenStream {
        let variants = p
            .home
            .variants
            .iter()
            .zip(&p.plan.combos)
            .map(|(name, combo)| {
                let values: Vec<TokenStream> = p
                    .specs()
                    .iter()
                    .zip(combo)
                    .map(|(spec, l)| super::parts::value_expr(spec, l))
                    .collect();
                variant(p, name, &values, p.variant_stmts(combo))
            });
        quote!(#(#variants)*)
    }

    /// The places a panic of the function's text is reported at.
    pub(crate) fn panic_map(&self, module: &ModuleText) -> PanicMap {
        PanicMap::new(&module.marks, &self.variant_marks)
    }

    /// The `FnSource` of the function, whose module is `module`, and whose
    /// companion module holds `map`'s trampoline.
    pub(crate) fn fn_source(&self, p: &Parts, module: &ModuleText, map: &PanicMap) -> TokenStream {
        let krate = crate::krate::path();
        let module_text = module.text.as_str();
        let name = p.name.to_string();
        let variant = pieces(&self.variant);
        let entry = pieces(&self.entry);
        let edition = crate::edition::current();
        // The function's own source, by which profiles name it.
        let fingerprint = super::super::promote::fingerprint(&p.plan.func);
        let crate_name = super::super::promote::crate_name();
        let overflow_checks = match crate::build_flags::current().overflow_checks {
            Some(on) => quote!(#on),
            None => quote!(::core::cfg!(debug_assertions)),
        };
        let (inner, layout) = (&p.home.inner, &p.home.layout);
        let layout_path = format!("__staged::{layout}");
        let marks = map.fields();
        quote! {
            #krate::__private::FnSource {
                name: #name,
                krate: #crate_name,
                // The static sits in the companion module, named after
                // the function.
                path: ::core::module_path!(),
                module: #module_text,
                variant: &[#(#variant),*],
                entry: &[#(#entry),*],
                layout: &#inner::#layout,
                layout_path: #layout_path,
                edition: #edition,
                debug_assertions: ::core::cfg!(debug_assertions),
                overflow_checks: #overflow_checks,
                fingerprint: #fingerprint,
                #marks
            }
        }
    }
}

/// The isolated module of a function on its own: the header, its argument
/// block and probes, and its generic function; and the module's text.
pub(crate) fn alone_module(p: &Parts, text: &FnText) -> (TokenStream, ModuleText) {
    let header = super::scope::header(TokenStream::new(), &[]);
    let extras = text.extras();
    let generic_fn = p.generic_fn(quote!(pub), p.name);
    let module = quote! {
        #header
        #extras
        #generic_fn
    };
    let rendered = ModuleText::of(&module);
    (module, rendered)
}

fn pieces(pieces: &[Piece]) -> Vec<TokenStream> {
    let krate = crate::krate::path();
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(t) => quote!(#krate::__private::Piece::Text(#t)),
            Piece::Value(i) => quote!(#krate::__private::Piece::Value(#i)),
            Piece::Name => quote!(#krate::__private::Piece::Name),
            Piece::Symbol => quote!(#krate::__private::Piece::Symbol),
            Piece::Index(id) => quote!(#krate::__private::Piece::Index(#id)),
            Piece::Position(id) => quote!(#krate::__private::Piece::Position(#id)),
            Piece::Target(id) => quote!(#krate::__private::Piece::Target(#id)),
            Piece::Low(id) => quote!(#krate::__private::Piece::Low(#id)),
            Piece::High(id) => quote!(#krate::__private::Piece::High(#id)),
            Piece::Program {
                param,
                id,
                sections,
            } => {
                let sections: Vec<Vec<TokenStream>> =
                    sections.iter().map(|s| self::pieces(s)).collect();
                let [
                    head,
                    group_open,
                    open,
                    back,
                    close_position,
                    group_mid,
                    close_loop,
                    group_close,
                    tail,
                    rolled,
                ] = <[Vec<TokenStream>; 10]>::try_from(sections)
                    .expect("a program has ten sections");
                quote!(#krate::__private::Piece::Program(&#krate::__private::Program {
                    param: #param,
                    id: #id,
                    head: &[#(#head),*],
                    group_open: &[#(#group_open),*],
                    open: &[#(#open),*],
                    back: &[#(#back),*],
                    close_position: &[#(#close_position),*],
                    group_mid: &[#(#group_mid),*],
                    close_loop: &[#(#close_loop),*],
                    group_close: &[#(#group_close),*],
                    tail: &[#(#tail),*],
                    rolled: &[#(#rolled),*],
                }))
            }
            Piece::Unroll {
                param,
                id,
                copy,
                rolled,
            } => {
                let copy = self::pieces(copy);
                let rolled = self::pieces(rolled);
                quote!(#krate::__private::Piece::Unroll {
                    param: #param,
                    id: #id,
                    copy: &[#(#copy),*],
                    rolled: &[#(#rolled),*],
                })
            }
        })
        .collect()
}

/// Cuts `text` at its holes, the identifiers `__staged_hole_<salt>_…`:
/// `name`, `value<i>`, `index<id>`, and the three markers around an
/// unrolled loop (`unroll<id>_<param>_begin`, `_mid`, `_end`), whose
/// pieces nest.
fn split(text: &str, salt: &str) -> Vec<Piece> {
    let prefix = format!("__staged_hole_{salt}_");
    let mut rest = text;
    let (pieces, _) = split_until(&mut rest, &prefix, None);
    pieces
}

/// What a hole says.
enum Hole {
    Name,
    Value(usize),
    Index(usize),
    Begin(usize, usize),
    Mid(usize),
    End(usize),
    Position(usize),
    Target(usize),
    Low(usize),
    High(usize),
    ProgramBegin(usize, usize),
    /// A separator between a program loop's sections.
    ProgramNext(usize),
    ProgramEnd(usize),
}

fn hole(name: &str) -> Option<Hole> {
    if name == "name" {
        return Some(Hole::Name);
    }
    if let Some(i) = name.strip_prefix("value") {
        return i.parse().ok().map(Hole::Value);
    }
    for (kind, make) in [
        ("index", Hole::Index as fn(usize) -> Hole),
        ("position", Hole::Position),
        ("target", Hole::Target),
        ("low", Hole::Low),
        ("high", Hole::High),
    ] {
        if let Some(id) = name.strip_prefix(kind).and_then(|i| i.parse().ok()) {
            return Some(make(id));
        }
    }
    if let Some(rest) = name.strip_prefix("program") {
        let mut parts = rest.split('_');
        let id = parts.next()?.parse().ok()?;
        return match parts.next()? {
            "end" => Some(Hole::ProgramEnd(id)),
            s if s.starts_with('s') => s[1..].parse::<usize>().ok().map(|_| Hole::ProgramNext(id)),
            param => {
                let param = param.parse().ok()?;
                (parts.next()? == "begin").then_some(Hole::ProgramBegin(id, param))
            }
        };
    }
    let rest = name.strip_prefix("unroll")?;
    let mut parts = rest.split('_');
    let id = parts.next()?.parse().ok()?;
    let param = parts.next()?.parse().ok()?;
    match parts.next()? {
        "begin" => Some(Hole::Begin(id, param)),
        "mid" => Some(Hole::Mid(id)),
        "end" => Some(Hole::End(id)),
        _ => None,
    }
}

/// The pieces of `rest` up to the marker of loop `inside` that ends them
/// (its `mid` or `end`), which is returned and skipped.
fn split_until(rest: &mut &str, prefix: &str, inside: Option<usize>) -> (Vec<Piece>, Option<Hole>) {
    let mut out = Vec::new();
    loop {
        let Some(at) = rest.find(prefix) else {
            out.push(Piece::Text((*rest).to_owned()));
            *rest = "";
            return (out, None);
        };
        out.push(Piece::Text(rest[..at].to_owned()));
        let after = &rest[at + prefix.len()..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        *rest = &after[len..];
        match hole(name) {
            Some(Hole::Name) => out.push(Piece::Name),
            Some(Hole::Value(i)) => out.push(Piece::Value(i)),
            Some(Hole::Index(id)) => out.push(Piece::Index(id)),
            Some(Hole::Begin(id, param)) => {
                let (copy, _) = split_until(rest, prefix, Some(id));
                let (rolled, _) = split_until(rest, prefix, Some(id));
                out.push(Piece::Unroll {
                    param,
                    id,
                    copy,
                    rolled,
                });
            }
            Some(Hole::Position(id)) => out.push(Piece::Position(id)),
            Some(Hole::Target(id)) => out.push(Piece::Target(id)),
            Some(Hole::Low(id)) => out.push(Piece::Low(id)),
            Some(Hole::High(id)) => out.push(Piece::High(id)),
            Some(Hole::ProgramBegin(id, param)) => {
                let sections = (0..10)
                    .map(|_| split_until(rest, prefix, Some(id)).0)
                    .collect();
                out.push(Piece::Program {
                    param,
                    id,
                    sections,
                });
            }
            Some(
                end
                @ (Hole::Mid(id) | Hole::End(id) | Hole::ProgramNext(id) | Hole::ProgramEnd(id)),
            ) if Some(id) == inside => {
                return (out, Some(end));
            }
            // Not ours: kept as text (it cannot occur, as the salt comes
            // from the text).
            _ => out.push(Piece::Text(format!("{prefix}{name}"))),
        }
    }
}

/// The argument block and the layout probes of a function.
fn extras(p: &Parts) -> TokenStream {
    let args = args_block(p);
    let (probes, count) = layout_probes(p);
    let layout = &p.home.layout;
    quote! {
        #args
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        pub const #layout: [usize; #count] = [#(#probes),*];
    }
}

/// A lifetime for each elided one of the parameters that are not
/// specialized, and the lifetimes the block must declare.
fn field_types(p: &Parts) -> (Vec<(Ident, Type)>, Vec<syn::Lifetime>) {
    let mut lifetimes: Vec<syn::Lifetime> = Vec::new();
    let mut fields = Vec::new();
    for (i, (input, name)) in p.rest.iter().enumerate() {
        let FnArg::Typed(t) = input else { continue };
        let named = syn::Lifetime::new(&format!("'__staged_l{i}"), Span::call_site());
        let ty = super::super::types::name_elided(&t.ty, &named);
        for l in lifetimes_in(&ty) {
            if l.ident != "static" && !lifetimes.contains(&l) {
                lifetimes.push(l);
            }
        }
        fields.push((name.clone(), ty));
    }
    (fields, lifetimes)
}

fn lifetimes_in(ty: &Type) -> Vec<syn::Lifetime> {
    struct Collect(Vec<syn::Lifetime>);
    impl<'ast> syn::visit::Visit<'ast> for Collect {
        fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
            self.0.push(l.clone());
        }
    }
    let mut c = Collect(Vec::new());
    syn::visit::Visit::visit_type(&mut c, ty);
    c.0
}

/// `#[repr(C)] pub struct __Args<'a, ..> { pub x: u64, .. }`: the arguments
/// that cross into a library, in a block whose layout both sides compute
/// from this one declaration.
fn args_block(p: &Parts) -> TokenStream {
    let (fields, lifetimes) = field_types(p);
    let names = fields.iter().map(|(n, _)| n);
    let types = fields.iter().map(|(_, t)| t);
    let args = &p.home.args;
    quote! {
        #[doc(hidden)]
        #[repr(C)]
        #[allow(non_camel_case_types)]
        pub struct #args<#(#lifetimes),*> {
            #(pub #names: #types,)*
        }
    }
}

/// The block's type with every lifetime `'static`, for the probes.
fn args_static(p: &Parts) -> TokenStream {
    let (_, lifetimes) = field_types(p);
    let statics = lifetimes.iter().map(|_| quote!('static));
    let args = &p.home.args;
    quote!(#args<#(#statics),*>)
}

/// Sizes, alignments and field offsets of the argument block, its fields
/// and the result, recursively through tuples, arrays and references: what
/// the caller and the library must agree on.
fn layout_probes(p: &Parts) -> (Vec<TokenStream>, usize) {
    let fixed = syn::Lifetime::new("'static", Span::call_site());
    let mut out = Vec::new();
    let args = args_static(p);
    out.push(quote!(::core::mem::size_of::<#args>()));
    out.push(quote!(::core::mem::align_of::<#args>()));
    let (fields, _) = field_types(p);
    for (name, _) in &fields {
        out.push(quote!(::core::mem::offset_of!(#args, #name)));
    }
    let types = p.plan.module_types.as_deref().unwrap_or(&[]);
    let mut seen = Vec::new();
    for (_, ty) in &fields {
        probe(&erase_lifetimes(ty, &fixed), types, &mut seen, &mut out);
    }
    let unit: Type = syn::parse_quote!(());
    let ret = match &p.func.sig.output {
        ReturnType::Default => unit,
        ReturnType::Type(_, ty) => erase_lifetimes(ty, &fixed),
    };
    probe(&ret, types, &mut seen, &mut out);
    let count = out.len();
    (out, count)
}

/// The probes of `ty`: its size and alignment, and recursively those of
/// what it holds, with the offset of each field of a tuple or of a struct
/// of the module (`seen` keeps a struct that holds a reference to itself
/// from being probed forever).
fn probe(ty: &Type, types: &[ModuleType], seen: &mut Vec<String>, out: &mut Vec<TokenStream>) {
    match ty {
        Type::Group(g) => return probe(&g.elem, types, seen, out),
        Type::Paren(p) => return probe(&p.elem, types, seen, out),
        _ => {}
    }
    out.push(quote!(::core::mem::size_of::<#ty>()));
    out.push(quote!(::core::mem::align_of::<#ty>()));
    match ty {
        Type::Tuple(t) => {
            for (i, elem) in t.elems.iter().enumerate() {
                let index = syn::Index::from(i);
                out.push(quote!(::core::mem::offset_of!(#ty, #index)));
                probe(elem, types, seen, out);
            }
        }
        Type::Array(a) => probe(&a.elem, types, seen, out),
        Type::Reference(r) => match &*r.elem {
            Type::Slice(s) => probe(&s.elem, types, seen, out),
            Type::Path(path) if path.path.is_ident("str") => {}
            elem => probe(elem, types, seen, out),
        },
        _ => {
            let Some(t) = module_types::named(ty, types) else {
                // `Vec<Row>`, `Option<(u8, u64)>`, `Box<[u32]>`: what they
                // hold, too.
                for arg in type_arguments(ty) {
                    match arg {
                        Type::Slice(s) => probe(&s.elem, types, seen, out),
                        Type::Path(path) if path.path.is_ident("str") => {}
                        arg => probe(arg, types, seen, out),
                    }
                }
                return;
            };
            let name = t.name.to_string();
            let Some(fields) = &t.fields else { return };
            if seen.contains(&name) {
                return;
            }
            seen.push(name);
            let fixed = syn::Lifetime::new("'static", Span::call_site());
            for (member, field) in fields {
                out.push(quote!(::core::mem::offset_of!(#ty, #member)));
                probe(&erase_lifetimes(field, &fixed), types, seen, out);
            }
        }
    }
}

/// The type arguments of a path type (`T` and `E` of `Result<T, E>`).
fn type_arguments(ty: &Type) -> Vec<&Type> {
    let Type::Path(p) = ty else { return Vec::new() };
    let Some(last) = p.path.segments.last() else {
        return Vec::new();
    };
    match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One variant: the function's body with `values` bound to the specialized
/// parameters, under `name`.
fn variant(
    p: &Parts,
    name: &impl ToTokens,
    values: &[TokenStream],
    stmts: TokenStream,
) -> TokenStream {
    let sig = &p.func.sig;
    let (asyncness, safety) = (&sig.asyncness, &sig.safety);
    let generics = &sig.generics;
    let where_clause = &generics.where_clause;
    let output = p.variant_output();
    let inputs = p.rest.iter().map(|(input, _)| input);
    let body_attrs = &p.body_attrs;
    let bindings = p
        .specs()
        .iter()
        .zip(values)
        .map(|(spec, value)| super::parts::binding(spec, value));
    quote! {
        #(#body_attrs)*
        #[doc(hidden)]
        #[inline]
        #[allow(unused_variables, unused_mut, unused_assignments, unused_labels, clippy::all)]
        pub #asyncness #safety fn #name #generics (#(#inputs),*) #output #where_clause {
            #(#bindings)*
            #stmts
        }
    }
}

/// The `extern "C"` entry of one variant, as text (it is only compiled in
/// the library): it moves the argument block out of the host's memory,
/// calls the variant inside the library's `catch_unwind` and writes the
/// result or reports the panic.
fn entry(p: &Parts) -> Vec<Piece> {
    let args: Vec<String> = p.rest.iter().map(|(_, n)| format!("__a.{n}")).collect();
    let block = &p.home.args;
    let (call_head, call_tail, unsafe_note) = if p.is_unsafe() {
        (
            "unsafe { ",
            " }",
            "\n    // SAFETY (of the call): the caller of the dispatcher upheld the\n    // contract of this `unsafe fn`, which the variant shares.",
        )
    } else {
        ("", "", "")
    };
    vec![
        Piece::Text("#[unsafe(no_mangle)]\npub unsafe extern \"C\" fn ".to_owned()),
        Piece::Symbol,
        Piece::Text(format!(
            "(args: *mut u8, out: *mut u8, slot: *const __StagedPanicSlot) -> u32 {{\n    \
             // SAFETY: the host passes an `__Args` block it built from the same\n    \
             // declaration (the loader compared the layout probes before this\n    \
             // library was loaded) and gives up ownership of it.\n    \
             let __a: __staged::{block} = unsafe {{ ::core::ptr::read(args.cast()) }};{unsafe_note}\n    \
             // SAFETY: `out` has room for the result and `slot` is the host's,\n    \
             // as above.\n    \
             unsafe {{ __staged_run(out.cast(), slot, move || {call_head}__staged::"
        )),
        Piece::Name,
        Piece::Text(format!("({}){call_tail}) }}\n}}\n", args.join(", "))),
    ]
}
