//! `Encode` for the structs and enums of a `#[staged::self_contained]`
//! module that specialized values are made of: how the runtime keys a
//! value of them (its words, floats by their bits, an enum's variant
//! first) and writes it into a variant (its literal, `self::Pred::ModEq {
//! col: 1u8, .. }`). The user's types need no derives. The impls sit in the
//! module's isolated module, next to the static variants (they see private
//! fields there), and are not part of the text run-time libraries compile.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::super::value_type::{Fields, ModuleKind, ModuleValue};

/// The `Encode` impl of the module type `m`.
pub(crate) fn encode_impl(m: &ModuleValue) -> TokenStream {
    let krate = crate::krate::path();
    let name = &m.name;
    let (encode_arms, literal_arms): (Vec<TokenStream>, Vec<TokenStream>) = match &m.kind {
        ModuleKind::Struct(fields) => {
            let path = quote!(#name);
            let text = format!("self::{name}");
            vec![arm(&path, &text, fields, None)].into_iter().unzip()
        }
        ModuleKind::Enum(variants) => variants
            .iter()
            .enumerate()
            .map(|(i, (variant, fields))| {
                let path = quote!(#name::#variant);
                let text = format!("self::{name}::{variant}");
                arm(&path, &text, fields, Some(i as u64))
            })
            .unzip(),
    };
    // An enum without variants has no values: its matches are empty.
    quote! {
        #[automatically_derived]
        #[allow(unused_variables, unreachable_code, clippy::all)]
        impl #krate::__private::Encode for #name {
            fn encode<__S: #krate::__private::Sink>(&self, __sink: &mut __S) {
                match self {
                    #(#encode_arms)*
                }
            }

            fn write_literal(&self, __out: &mut ::std::string::String) {
                match self {
                    #(#literal_arms)*
                }
            }
        }
    }
}

/// The arms of `encode` and `write_literal` for one struct or variant at
/// `path`, written `text`, with `fields`; `index` the variant's.
fn arm(
    path: &TokenStream,
    text: &str,
    fields: &Fields,
    index: Option<u64>,
) -> (TokenStream, TokenStream) {
    let krate = crate::krate::path();
    let types = fields.types();
    let names: Vec<_> = (0..types.len())
        .map(|i| format_ident!("__staged_f{}", i))
        .collect();
    let pattern = match fields {
        Fields::Unit => quote!(#path),
        Fields::Tuple(_) => quote!(#path(#(#names),*)),
        Fields::Named(f) => {
            let members = f.iter().map(|(f, _)| f);
            quote!(#path { #(#members: #names),* })
        }
    };
    let tag = index.map(|i| quote!(#krate::__private::Sink::word(__sink, #i);));
    let encode = quote! {
        #pattern => {
            #tag
            #(#krate::__private::Encode::encode(#names, __sink);)*
        }
    };
    // The text around each field, fixed by the type's declaration.
    let (open, separators, close): (String, Vec<String>, String) = match fields {
        Fields::Unit => (text.to_owned(), Vec::new(), String::new()),
        Fields::Tuple(_) => (
            format!("{text}("),
            (1..types.len()).map(|_| ", ".to_owned()).collect(),
            ")".to_owned(),
        ),
        Fields::Named(f) => {
            let labels: Vec<String> = f.iter().map(|(field, _)| format!("{field}: ")).collect();
            let open = format!("{text} {{ {}", labels.first().cloned().unwrap_or_default());
            let separators = labels.iter().skip(1).map(|l| format!(", {l}")).collect();
            (open, separators, " }".to_owned())
        }
    };
    let fields_text = names.iter().enumerate().map(|(i, n)| {
        let separator = i
            .checked_sub(1)
            .and_then(|j| separators.get(j))
            .map(|s| quote!(__out.push_str(#s);));
        quote! {
            #separator
            #krate::__private::Encode::write_literal(#n, __out);
        }
    });
    let literal = quote! {
        #pattern => {
            __out.push_str(#open);
            #(#fields_text)*
            __out.push_str(#close);
        }
    };
    (encode, literal)
}
