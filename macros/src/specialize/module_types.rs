//! The types a `#[staged::self_contained]` module declares, as its run-time
//! functions may take and return them: a `#[repr(C)]` struct or enum of the
//! module crosses into a library, whose copy of the declaration (the same
//! text) has the same layout; the loader compares sizes, alignments and
//! field offsets before a variant is used.

use proc_macro2::Ident;
use syn::{Item, Type};

/// A struct or enum declared at the top of the module.
#[derive(Clone)]
pub(crate) struct ModuleType {
    pub(crate) name: Ident,
    /// Declared `#[repr(C)]` (or `#[repr(C, ..)]`).
    pub(crate) repr_c: bool,
    /// It has type or const parameters.
    pub(crate) generic: bool,
    /// The fields of a struct, for the layout probes; `None` for an enum.
    pub(crate) fields: Option<Vec<(syn::Member, Type)>>,
    /// The types of every field (of every variant, for an enum).
    pub(crate) contains: Vec<Type>,
    /// It has lifetime parameters.
    pub(crate) borrows: bool,
    /// Its fields, or its variants and theirs: what a value of it is made
    /// of, for types whose values can be specialized.
    pub(crate) shape: Shape,
}

/// What a value of a module type is made of.
#[derive(Clone)]
pub(crate) enum Shape {
    Struct(syn::Fields),
    Enum(Vec<(Ident, syn::Fields)>),
}

/// The structs and enums among `items`.
pub(crate) fn collect(items: &[Item]) -> Vec<ModuleType> {
    items
        .iter()
        .filter_map(|item| {
            let shape = match item {
                Item::Struct(s) => Shape::Struct(s.fields.clone()),
                Item::Enum(e) => Shape::Enum(
                    e.variants
                        .iter()
                        .map(|v| (v.ident.clone(), v.fields.clone()))
                        .collect(),
                ),
                _ => return None,
            };
            let (name, attrs, generics, fields, contains) = match item {
                Item::Struct(s) => {
                    let fields = s
                        .fields
                        .iter()
                        .enumerate()
                        .map(|(i, f)| {
                            let member = match &f.ident {
                                Some(ident) => syn::Member::Named(ident.clone()),
                                None => syn::Member::Unnamed(syn::Index::from(i)),
                            };
                            (member, f.ty.clone())
                        })
                        .collect();
                    let contains = s.fields.iter().map(|f| f.ty.clone()).collect();
                    (&s.ident, &s.attrs, &s.generics, Some(fields), contains)
                }
                Item::Enum(e) => {
                    let contains = e
                        .variants
                        .iter()
                        .flat_map(|v| v.fields.iter().map(|f| f.ty.clone()))
                        .collect();
                    (&e.ident, &e.attrs, &e.generics, None, contains)
                }
                _ => return None,
            };
            Some(ModuleType {
                name: name.clone(),
                repr_c: attrs.iter().any(is_repr_c),
                generic: generics
                    .params
                    .iter()
                    .any(|p| !matches!(p, syn::GenericParam::Lifetime(_))),
                borrows: generics
                    .params
                    .iter()
                    .any(|p| matches!(p, syn::GenericParam::Lifetime(_))),
                shape,
                fields,
                contains,
            })
        })
        .collect()
}

fn is_repr_c(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("repr") {
        return false;
    }
    let mut c = false;
    let _ = attr.parse_nested_meta(|meta| {
        c |= meta.path.is_ident("C");
        // `repr(align(8))` and the like carry arguments.
        if meta.input.peek(syn::token::Paren) {
            let _ = meta.input.parse::<proc_macro2::Group>();
        }
        Ok(())
    });
    c
}

/// The module type `ty` names (`Row` or `self::Row`), if it is one.
pub(crate) fn named<'a>(ty: &Type, types: &'a [ModuleType]) -> Option<&'a ModuleType> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || p.path.leading_colon.is_some() {
        return None;
    }
    let segments: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
    let last = match segments.as_slice() {
        [only] => only,
        [first, last] if first.ident == "self" => last,
        _ => return None,
    };
    types.iter().find(|t| t.name == last.ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repr_c_structs_and_their_fields() {
        let file: syn::File = syn::parse_quote! {
            #[repr(C)] #[derive(Clone, Copy)] pub struct Row { pub a: u32, b: u64 }
            #[repr(C, align(8))] pub struct Pair(u8, u8);
            pub struct Plain { x: u8 }
            #[repr(u8)] pub enum Kind { A, B }
            #[repr(C)] pub struct Wrap<T> { t: T }
            fn not_a_type() {}
        };
        let types = collect(&file.items);
        let summary: Vec<(String, bool, bool, Option<usize>)> = types
            .iter()
            .map(|t| {
                (
                    t.name.to_string(),
                    t.repr_c,
                    t.generic,
                    t.fields.as_ref().map(Vec::len),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("Row".into(), true, false, Some(2)),
                ("Pair".into(), true, false, Some(2)),
                ("Plain".into(), false, false, Some(1)),
                ("Kind".into(), false, false, None),
                ("Wrap".into(), true, true, Some(1)),
            ]
        );
        let row: Type = syn::parse_quote!(self::Row);
        assert_eq!(named(&row, &types).unwrap().name, "Row");
        let other: Type = syn::parse_quote!(other::Row);
        assert!(named(&other, &types).is_none());
    }
}
