//! The types a specialized parameter may have: the scalars of `types.rs`,
//! and structured values made of them (a program, a plan, a list of
//! coefficients): arrays `[T; N]`, slices `&[T]`, tuples, `Option<T>`, and
//! the structs and enums of a `#[staged::self_contained]` module whose
//! fields are such values (no references inside them).

use std::rc::Rc;

use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::Type;

use super::module_types::{self, ModuleType, Shape};
use super::types::{Scalar, display};

/// The type of a specialized parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ValueTy {
    Scalar(Scalar),
    Array(Box<ValueTy>, usize),
    /// `&[T]`.
    Slice(Box<ValueTy>),
    Tuple(Vec<ValueTy>),
    Option(Box<ValueTy>),
    Module(Rc<ModuleValue>),
}

/// A struct or enum of the module, as a value type.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ModuleValue {
    pub(crate) name: Ident,
    pub(crate) kind: ModuleKind,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ModuleKind {
    Struct(Fields),
    Enum(Vec<(Ident, Fields)>),
}

/// The fields of a struct or of an enum's variant.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fields {
    Unit,
    Tuple(Vec<ValueTy>),
    Named(Vec<(Ident, ValueTy)>),
}

impl Fields {
    pub(crate) fn types(&self) -> Vec<&ValueTy> {
        match self {
            Fields::Unit => Vec::new(),
            Fields::Tuple(t) => t.iter().collect(),
            Fields::Named(n) => n.iter().map(|(_, t)| t).collect(),
        }
    }
}

/// Why a type cannot be specialized: the type (or the part of it) at
/// fault, and what to say.
pub(crate) struct Refused<'t> {
    pub(crate) ty: &'t Type,
    pub(crate) why: String,
}

const VALUE_TYPES: &str = "integers, `bool`, `char`, `f32`, `f64`, `&str`, and arrays, slices (`&[T]`), tuples and `Option`s of them, and the structs and enums of a `#[staged::self_contained]` module made of them";

impl ValueTy {
    /// The value type `ty` is, with `module` the types of the
    /// self-contained module the function is in.
    pub(crate) fn of<'t>(ty: &'t Type, module: &[ModuleType]) -> Result<Self, Refused<'t>> {
        Self::resolve(ty, module, false, &mut Vec::new())
    }

    /// Whether this is a scalar: such values keep the dispatcher's `match`.
    pub(crate) fn scalar(&self) -> Option<Scalar> {
        match self {
            Self::Scalar(s) => Some(*s),
            _ => None,
        }
    }

    /// `inside` a module type, references are refused: a field is a value.
    fn resolve<'t>(
        ty: &'t Type,
        module: &[ModuleType],
        inside: bool,
        resolving: &mut Vec<String>,
    ) -> Result<Self, Refused<'t>> {
        let refuse = |why: String| Err(Refused { ty, why });
        match ty {
            Type::Group(g) => return Self::resolve(&g.elem, module, inside, resolving),
            Type::Paren(p) => return Self::resolve(&p.elem, module, inside, resolving),
            _ => {}
        }
        if let Some(scalar) = Scalar::of(ty) {
            if inside && scalar == Scalar::Str {
                return refuse(
                    "a reference: a value of a module type holds its data (use an array of `u8` or `char`)".to_owned(),
                );
            }
            return Ok(Self::Scalar(scalar));
        }
        match ty {
            Type::Reference(r) if r.mutability.is_none() => match &*r.elem {
                Type::Slice(s) if !inside => Ok(Self::Slice(Box::new(Self::resolve(
                    &s.elem, module, inside, resolving,
                )?))),
                Type::Slice(_) => refuse(
                    "a reference: a value of a module type holds its data (use an array)"
                        .to_owned(),
                ),
                _ => refuse(format!(
                    "of references, only `&str` and slices `&[T]` are; specializable types are {VALUE_TYPES}"
                )),
            },
            Type::Array(a) => {
                let n = match &a.len {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(n),
                        ..
                    }) => n.base10_parse::<usize>().ok(),
                    _ => None,
                };
                let Some(n) = n else {
                    return refuse(format!(
                        "the array type `{}` has no literal length; write its length as a number",
                        display(ty)
                    ));
                };
                Ok(Self::Array(
                    Box::new(Self::resolve(&a.elem, module, inside, resolving)?),
                    n,
                ))
            }
            Type::Tuple(t) if !t.elems.is_empty() => Ok(Self::Tuple(
                t.elems
                    .iter()
                    .map(|e| Self::resolve(e, module, inside, resolving))
                    .collect::<Result<_, _>>()?,
            )),
            _ => {
                if let Some(inner) = option_of(ty) {
                    return Ok(Self::Option(Box::new(Self::resolve(
                        inner, module, inside, resolving,
                    )?)));
                }
                match module_types::named(ty, module) {
                    Some(t) => Self::module(ty, t, module, resolving),
                    None => refuse(format!("specializable types are {VALUE_TYPES}")),
                }
            }
        }
    }

    fn module<'t>(
        ty: &'t Type,
        t: &ModuleType,
        module: &[ModuleType],
        resolving: &mut Vec<String>,
    ) -> Result<Self, Refused<'t>> {
        let name = t.name.to_string();
        let refuse = |why: String| Err(Refused { ty, why });
        if t.generic || t.borrows {
            return refuse(format!(
                "`{name}` has parameters; a specialized value's type is a struct or enum of the module without type, const or lifetime parameters"
            ));
        }
        if resolving.contains(&name) {
            return refuse(format!(
                "`{name}` holds itself; a specialized value is made of plain values"
            ));
        }
        resolving.push(name.clone());
        // A field that cannot be a value refuses the type; the message
        // names the field's type.
        let fields = |f: &syn::Fields, resolving: &mut Vec<String>| -> Result<Fields, String> {
            let mut resolve = |field: &syn::Field| {
                Self::resolve(&field.ty, module, true, resolving).map_err(|r| {
                    if r.why.starts_with('`') {
                        // A type inside it, which says why itself.
                        r.why
                    } else if r.why.starts_with("a reference") {
                        format!(
                            "`{name}` has a field of type `{}`, {}",
                            display(r.ty),
                            r.why
                        )
                    } else {
                        format!(
                            "`{name}` has a field of type `{}`, which is not a value type",
                            display(r.ty)
                        )
                    }
                })
            };
            Ok(match f {
                syn::Fields::Unit => Fields::Unit,
                syn::Fields::Unnamed(u) => Fields::Tuple(
                    u.unnamed
                        .iter()
                        .map(&mut resolve)
                        .collect::<Result<_, _>>()?,
                ),
                syn::Fields::Named(n) => Fields::Named(
                    n.named
                        .iter()
                        .map(|f| Ok((f.ident.clone().expect("a named field"), resolve(f)?)))
                        .collect::<Result<_, String>>()?,
                ),
            })
        };
        let kind = match &t.shape {
            Shape::Struct(f) => fields(f, resolving).map(ModuleKind::Struct),
            Shape::Enum(variants) => variants
                .iter()
                .map(|(v, f)| Ok((v.clone(), fields(f, resolving)?)))
                .collect::<Result<_, String>>()
                .map(ModuleKind::Enum),
        };
        resolving.pop();
        match kind {
            Ok(kind) => Ok(Self::Module(Rc::new(ModuleValue {
                name: t.name.clone(),
                kind,
            }))),
            Err(why) => refuse(why),
        }
    }

    /// The type written so that no name in a body can capture it, with
    /// `'static` references, for the constant a variant binds:
    /// `&'static [self::Pred]`, `[::core::primitive::f64; 3]`.
    pub(crate) fn canonical(&self) -> TokenStream {
        match self {
            Self::Scalar(s) => s.canonical(),
            Self::Array(elem, n) => {
                let elem = elem.canonical();
                let n = proc_macro2::Literal::usize_unsuffixed(*n);
                quote!([#elem; #n])
            }
            Self::Slice(elem) => {
                let elem = elem.canonical();
                quote!(&'static [#elem])
            }
            Self::Tuple(elems) => {
                let elems = elems.iter().map(Self::canonical);
                quote!((#(#elems,)*))
            }
            Self::Option(elem) => {
                let elem = elem.canonical();
                quote!(::core::option::Option<#elem>)
            }
            Self::Module(m) => {
                let name = &m.name;
                quote!(self::#name)
            }
        }
    }

    /// The element type of a slice or an array.
    pub(crate) fn element(&self) -> Option<&ValueTy> {
        match self {
            Self::Array(e, _) | Self::Slice(e) => Some(e),
            _ => None,
        }
    }

    /// Every module type this type is made of, once each.
    pub(crate) fn module_types(&self, out: &mut Vec<Rc<ModuleValue>>) {
        match self {
            Self::Scalar(_) => {}
            Self::Array(e, _) | Self::Slice(e) | Self::Option(e) => e.module_types(out),
            Self::Tuple(elems) => elems.iter().for_each(|e| e.module_types(out)),
            Self::Module(m) => {
                if out.iter().any(|o| o.name == m.name) {
                    return;
                }
                out.push(m.clone());
                let kinds: Vec<&Fields> = match &m.kind {
                    ModuleKind::Struct(f) => vec![f],
                    ModuleKind::Enum(v) => v.iter().map(|(_, f)| f).collect(),
                };
                for f in kinds {
                    f.types().into_iter().for_each(|t| t.module_types(out));
                }
            }
        }
    }

    /// How the type reads in messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Scalar(s) => s.describe().to_owned(),
            Self::Array(e, n) => format!("[{}; {n}]", e.describe()),
            Self::Slice(e) => format!("&[{}]", e.describe()),
            Self::Tuple(elems) => {
                let parts: Vec<String> = elems.iter().map(Self::describe).collect();
                if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            }
            Self::Option(e) => format!("Option<{}>", e.describe()),
            Self::Module(m) => m.name.to_string(),
        }
    }
}

/// `T` of `Option<T>`, by its names in the prelude, `core` and `std`.
fn option_of(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let names: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let known = match names
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["Option"] => p.path.leading_colon.is_none(),
        ["std" | "core", "option", "Option"] => true,
        _ => false,
    };
    if !known {
        return None;
    }
    match &p.path.segments.last()?.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first()? {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module() -> Vec<ModuleType> {
        let file: syn::File = syn::parse_quote! {
            pub enum Op { Push(i64), Add, Jump { to: u32 } }
            pub struct Pred { pub col: u8, pub range: (i64, i64), pub name: [char; 4] }
            pub struct Holds { pub ops: [Op; 2], pub pred: Option<Pred> }
            pub struct Named<'a> { pub s: &'a str }
            pub struct Text { pub s: &'static str }
            pub struct Wrap<T> { pub t: T }
            pub struct Loop { pub next: Option<[Loop; 1]> }
        };
        module_types::collect(&file.items)
    }

    fn of(s: &str) -> Result<String, String> {
        let ty: Type = syn::parse_str(s).unwrap();
        ValueTy::of(&ty, &module())
            .map(|t| t.describe())
            .map_err(|r| r.why)
    }

    #[test]
    fn structured_types_are_values() {
        for (ty, reads) in [
            ("&[u8]", "&[u8]"),
            ("[f64; 3]", "[f64; 3]"),
            ("(u8, &str)", "(u8, &str)"),
            ("Option<(bool, char)>", "Option<(bool, char)>"),
            ("&'a [Op]", "&[Op]"),
            ("Holds", "Holds"),
            ("&[&[i32]]", "&[&[i32]]"),
            ("core::option::Option<u8>", "Option<u8>"),
        ] {
            assert_eq!(of(ty).as_deref(), Ok(reads), "{ty}");
        }
    }

    #[test]
    fn what_is_not_a_value_says_why() {
        assert!(
            of("&mut [u8]")
                .unwrap_err()
                .contains("specializable types are")
        );
        assert!(of("[u8; N]").unwrap_err().contains("literal length"));
        assert!(
            of("Vec<u8>")
                .unwrap_err()
                .contains("specializable types are")
        );
        assert!(of("Named").unwrap_err().contains("has parameters"));
        assert!(of("Wrap").unwrap_err().contains("has parameters"));
        assert!(
            of("Text").unwrap_err().contains("a reference"),
            "{:?}",
            of("Text")
        );
        assert!(
            of("Loop").unwrap_err().contains("holds itself"),
            "{:?}",
            of("Loop")
        );
        assert!(of("&Op").unwrap_err().contains("reference"));
        assert!(of("()").is_err());
    }

    #[test]
    fn canonical_types_name_nothing_a_body_could_shadow() {
        let ty: Type = syn::parse_str("&[(Op, [f32; 2], Option<&str>)]").unwrap();
        let t = ValueTy::of(&ty, &module()).ok().unwrap();
        assert_eq!(
            crate::specialize::expand::render(&t.canonical()).replace('\n', " "),
            "& 'static [(self :: Op , [:: core :: primitive :: f32 ; 2] , :: core :: option :: Option < & 'static :: core :: primitive :: str > ,)]"
        );
    }
}
