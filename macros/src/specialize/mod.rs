//! `#[specialize]`: parse (`args.rs`), check (`valid.rs`), emit (`expand/`).

mod args;
mod enclosing;
mod expand;
mod hygiene;
mod isolation;
mod module_types;
mod names;
mod paths;
mod promote;
mod structured;
mod types;
mod unroll;
mod valid;
mod value;
mod value_type;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Item;

use crate::errors::Errors;

pub(crate) use expand::{Member, header, in_text, io_module, module_text};
pub(crate) use module_types::{ModuleType, collect as module_types};
pub(crate) use valid::{Plan, is_specialize};

/// Whether the facade's `runtime` feature, and so stage 3, is on.
pub(crate) const STAGE3: bool = cfg!(feature = "runtime");

/// Checks a `#[specialize]` function of a `#[staged::self_contained]` module,
/// whose attribute is `attr` (already taken off `func`); `types` are the
/// module's structs and enums. `assoc` for a function of an `impl` block.
pub(crate) fn plan_in_module(
    attr: &syn::Attribute,
    func: syn::ItemFn,
    types: &[ModuleType],
) -> syn::Result<Plan> {
    let args = match &attr.meta {
        syn::Meta::List(list) => syn::parse2::<args::Args>(list.tokens.clone())?,
        _ => syn::parse2::<args::Args>(TokenStream::new())?,
    };
    let ctx = valid::Context {
        module: Some(types),
    };
    valid::check(args, func, STAGE3, ctx)
}

/// The isolation rules of a run-time body, for the items of a
/// `#[staged::self_contained]` module.
pub(crate) fn isolation_in_module(tokens: TokenStream, errors: &mut Errors) {
    isolation::check_in(tokens, isolation::Scope::Module, errors);
}

/// The expansion of a method's `#[specialize]`: its variants as arms of its
/// own body, which refer to nothing outside it.
pub(crate) fn expand_in_body(plan: &Plan) -> TokenStream {
    expand::expand_assoc(plan)
}

/// Expands `#[specialize(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = errors.take(syn::parse2::<args::Args>(args));
    let func = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => Some(func),
        parsed => {
            not_a_function(parsed.ok(), item, &mut errors);
            None
        }
    };
    let plan = match (args, func) {
        (Some(args), Some(func)) => {
            errors.take(valid::check(args, func, STAGE3, valid::Context::default()))
        }
        // The item is not a function: only the keys can be checked.
        (Some(args), None) => {
            args.rejected.into_iter().for_each(|e| errors.push(e));
            None
        }
        // The attribute did not parse, and says why.
        (None, _) => None,
    };
    errors.finish(())?;
    Ok(plan.map(|plan| expand::expand(&plan)).unwrap_or_default())
}

/// The user's item unchanged, next to the errors, so that the rest of their
/// crate still type-checks against the function.
pub(crate) fn fallback(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut out = error.into_compile_error();
    // Without its `#[staged::unroll]` markers, which stable rustc refuses.
    out.extend(unroll::strip_item(item));
    out
}

/// `item` without `#[staged::unroll]` markers, for a module re-emitted next
/// to its errors.
pub(crate) fn strip_markers(item: TokenStream) -> TokenStream {
    unroll::strip_item(item)
}

/// Records why `#[specialize]` cannot apply to `item`, which parsed as
/// `parsed` if it is an item at all.
fn not_a_function(parsed: Option<Item>, item: TokenStream, errors: &mut Errors) {
    // A trait method without a default body is a function without being an
    // item of its own.
    if let Ok(decl) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
        errors.at(
            decl.sig.fn_token,
            "`#[specialize]` applies to functions with a body; this declaration has none",
        );
    } else if let Some(other) = parsed {
        let (keyword, what) = describe_item(&other);
        errors.at(
            keyword,
            format_args!("`#[specialize]` applies to functions, not to {what}"),
        );
    } else {
        errors.at(first_token(item), "`#[specialize]` applies to functions");
    }
}

/// The keyword that makes `item` what it is, for the error's span, and how
/// the item reads in the message.
fn describe_item(item: &Item) -> (TokenStream, &'static str) {
    let (keyword, what) = match item {
        Item::Struct(i) => (i.struct_token.to_token_stream(), "a `struct`"),
        Item::Enum(i) => (i.enum_token.to_token_stream(), "an `enum`"),
        Item::Union(i) => (i.union_token.to_token_stream(), "a `union`"),
        Item::Trait(i) => (i.trait_token.to_token_stream(), "a `trait`"),
        Item::TraitAlias(i) => (i.trait_token.to_token_stream(), "a trait alias"),
        Item::Impl(i) => (i.impl_token.to_token_stream(), "an `impl` block"),
        Item::Mod(i) => (i.mod_token.to_token_stream(), "a module"),
        Item::Const(i) => (i.const_token.to_token_stream(), "a `const`"),
        Item::Static(i) => (i.static_token.to_token_stream(), "a `static`"),
        Item::Type(i) => (i.type_token.to_token_stream(), "a type alias"),
        Item::Use(i) => (i.use_token.to_token_stream(), "a `use` declaration"),
        Item::ExternCrate(i) => (i.crate_token.to_token_stream(), "an `extern crate`"),
        Item::ForeignMod(i) => (i.abi.to_token_stream(), "an `extern` block"),
        Item::Macro(i) => (i.mac.path.to_token_stream(), "a macro invocation"),
        other => (first_token(other.to_token_stream()), "this item"),
    };
    (keyword, what)
}

/// The first token of `tokens`, for an error that should point at an item
/// without underlining all of it.
fn first_token(tokens: TokenStream) -> TokenStream {
    let mut tokens = tokens.into_iter().peekable();
    match tokens.next() {
        // Skip an outer attribute `#[...]` to reach the item's keyword.
        Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '#' => {
            tokens.next();
            first_token(tokens.collect())
        }
        Some(t) => t.into_token_stream(),
        None => TokenStream::new(),
    }
}

/// `#[staged::unroll]` where no `#[specialize]` took it out: an error on it,
/// and the item as written.
pub(crate) fn misplaced_unroll(args: TokenStream, item: TokenStream) -> TokenStream {
    let _ = args;
    let first = item.clone().into_iter().next();
    let error = syn::Error::new(
        first.map_or_else(proc_macro2::Span::call_site, |t| t.span()),
        "`#[staged::unroll]` works in the body of a `#[specialize]` function, on a loop over a specialized value",
    )
    .into_compile_error();
    // On an expression (where stable rustc reports the attribute too), one
    // expression: the error, then the loop.
    if syn::parse2::<Item>(item.clone()).is_err() {
        return quote::quote!({ #error #item });
    }
    let mut out = error;
    out.extend(item);
    out
}
