//! Hands a checked block to the evaluator in staged-build and turns its
//! outcome back into tokens and errors on the user's tokens: a baked value
//! becomes the item's initializer; a failure becomes an error at the
//! initializer, or, for an item marked `#[fallback(lazy)]`, a reason to
//! initialize it at run time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::quote;
use staged_build::chain::Chain;
use staged_build::eval::{self, Diagnostic, EvalConfig, Failure, ItemOutcome, Toolchain};
use syn::spanned::Spanned;

use super::parse::Helper;
use super::source::{Writer, mentions};
use super::types;
use super::valid::Plan;
use crate::errors::Errors;

/// The toolchain that built this macro crate, which is the one compiling
/// the crates that use it.
const TOOLCHAIN: staged_build::toolchain::Recorded =
    include!(concat!(env!("OUT_DIR"), "/toolchain.rs"));

/// What became of one item.
pub(crate) enum Result {
    /// Its value, as tokens of its type.
    Baked(TokenStream),
    /// It falls back to run time, for this reason.
    Lazy(String),
    /// It failed; the error is recorded.
    Failed,
}

/// The outcome of a block.
pub(crate) struct Evaluated {
    pub(crate) results: Vec<Result>,
    /// Files the block includes, for the crate to depend on.
    pub(crate) files: Vec<PathBuf>,
}

/// Evaluates the items of `plan` with `config`; `input` is the whole block,
/// for spans.
pub(crate) fn evaluate(
    plan: &Plan,
    input: TokenStream,
    config: &EvalConfig,
    errors: &mut Errors,
) -> Evaluated {
    let spans = super::parse::spans(input.clone());
    let mut include_errors = Errors::default();
    let mut writer = Writer {
        base: invoking_dir(),
        files: Vec::new(),
        errors: &mut include_errors,
    };
    let helpers = plan
        .helpers
        .iter()
        .map(|h: &Helper| writer.fragment(&h.tokens))
        .collect();
    let mut items = Vec::with_capacity(plan.items.len());
    for (i, planned) in plan.items.iter().enumerate() {
        let init = writer.fragment(&planned.item.init);
        let uses = plan.items[..i]
            .iter()
            .enumerate()
            .filter(|(_, p)| p.item.ident != "_")
            .filter(|(_, p)| mentions(planned.item.init.stream(), &p.item.ident.to_string()))
            .map(|(j, _)| j)
            .collect();
        items.push(eval::Item {
            name: planned.item.ident.to_string(),
            eval_type: types::eval_type(&planned.shape),
            convert: planned.shape.needs_conversion(),
            init,
            fallback: planned.fallback,
            uses,
        });
    }
    let files = writer.files;
    // The macro's own source is part of the key, next to the block's
    // tokens: how tokens are written for the evaluator, and which type it
    // is told, must not be reused from an older version.
    const MACRO: [&str; 3] = [
        include_str!("source.rs"),
        include_str!("types.rs"),
        include_str!("evaluate.rs"),
    ];
    let block = eval::Block {
        key_text: format!("{}\n{input}", MACRO.concat()),
        edition: crate::edition::current().to_owned(),
        helpers,
        items,
        files: files.clone(),
        timeout: plan.timeout,
    };
    if let Err(e) = include_errors.finish(()) {
        // An include that cannot be resolved: the error says so, and the
        // evaluator would only fail on it.
        errors.push(e);
        return Evaluated {
            results: plan.items.iter().map(|_| Result::Failed).collect(),
            files,
        };
    }
    if block.items.is_empty() {
        // Helpers alone produce nothing: no program to build.
        return Evaluated {
            results: Vec::new(),
            files,
        };
    }
    let outcome = match Toolchain::recorded(&TOOLCHAIN)
        .and_then(|toolchain| eval::evaluate(&block, &toolchain, config))
    {
        Ok(outcome) => outcome,
        Err(e) => {
            let e = Chain(&e);
            let results = plan
                .items
                .iter()
                .map(|p| {
                    if p.fallback {
                        Result::Lazy(format!("the build-time evaluator could not run: {e}"))
                    } else {
                        Result::Failed
                    }
                })
                .collect::<Vec<_>>();
            if plan.items.iter().any(|p| !p.fallback) {
                errors.push(syn::Error::new(
                    Span::call_site(),
                    format_args!("`const_init!` cannot evaluate this block: {e}"),
                ));
            }
            return Evaluated { results, files };
        }
    };
    let ctx = Context {
        plan,
        spans: &spans,
    };
    for diagnostic in &outcome.errors {
        errors.push(ctx.error(diagnostic));
    }
    let results = outcome
        .items
        .into_iter()
        .enumerate()
        .map(|(i, item)| ctx.result(i, item, errors))
        .collect();
    Evaluated { results, files }
}

/// The folder of the file that invokes the macro. rustc names files
/// relative to its working directory (the workspace root under cargo).
fn invoking_dir() -> Option<PathBuf> {
    if !proc_macro::is_available() {
        return None;
    }
    let file = proc_macro::Span::call_site().local_file()?;
    let file = if file.is_relative() {
        std::env::current_dir().ok()?.join(file)
    } else {
        file
    };
    file.parent().map(Path::to_owned)
}

struct Context<'a> {
    plan: &'a Plan,
    spans: &'a [Span],
}

impl Context<'_> {
    fn span(&self, ordinal: usize) -> Span {
        self.spans
            .get(ordinal)
            .copied()
            .unwrap_or_else(Span::call_site)
    }

    /// An error spanning the tokens of `diagnostic`, or its item's
    /// initializer.
    fn error(&self, diagnostic: &Diagnostic) -> syn::Error {
        let message = self.explain(diagnostic);
        match (diagnostic.tokens, diagnostic.item) {
            (Some((first, last)), _) => {
                let first = Ident::new("first", self.span(first));
                let last = Ident::new("last", self.span(last));
                syn::Error::new_spanned(quote!(#first #last), message)
            }
            (None, Some(item)) => {
                syn::Error::new_spanned(&self.plan.items[item].item.expr, message)
            }
            (None, None) => syn::Error::new(Span::call_site(), message),
        }
    }

    /// rustc's message, with a hint for names the evaluator cannot see:
    /// helpers do not see the block's items, initializers see only the
    /// items above them, and nothing sees the rest of the crate.
    fn explain(&self, diagnostic: &Diagnostic) -> String {
        let message = &diagnostic.message;
        let missing = message
            .strip_prefix("cannot find ")
            .and_then(|rest| rest.split('`').nth(1));
        if let Some(name) = missing.filter(|_| !message.contains("similar name")) {
            let item = self.plan.items.iter().position(|p| p.item.ident == name);
            let note = match (item, diagnostic.item) {
                (Some(_), None) => format!(
                    "helpers do not see the block's items; pass `{name}` to the helper as an argument"
                ),
                (Some(_), Some(_)) => format!(
                    "`{name}` is defined further down; an initializer sees the items above it"
                ),
                (None, _) => format!(
                    "the evaluator sees `std` and this block only; define `{name}` in the block"
                ),
            };
            return format!("{message}\n= note: {note}");
        }
        if message.contains("BakeAs<") && message.contains("annotations needed") {
            return format!(
                "{message}\n= note: an item holding a `&'static [T]` or a `&'static str` converts what its initializer returns, so that type must be known: write `collect::<Vec<_>>()`, `String::from(..)`"
            );
        }
        message.to_owned()
    }

    fn result(&self, i: usize, outcome: ItemOutcome, errors: &mut Errors) -> Result {
        let planned = &self.plan.items[i];
        let name = planned.item.ident.to_string();
        let expr = &planned.item.expr;
        let failure = match outcome {
            ItemOutcome::Baked(text) => match text.parse::<TokenStream>() {
                Ok(tokens) => return Result::Baked(respan(tokens, expr.span())),
                Err(e) => {
                    errors.at(
                        expr,
                        format_args!("the baked value of `{name}` does not parse: {e}"),
                    );
                    return Result::Failed;
                }
            },
            ItemOutcome::Failed(failure) => failure,
        };
        let (reason, error) = match failure {
            Failure::UsesFailed { item: used } => {
                let used = &self.plan.items[used];
                let used_name = &used.item.ident;
                let reason = format!("it uses `{used_name}`, which is initialized at run time");
                // An item without a fallback that failed has its own error.
                let error = used.fallback.then(|| format!(
                    "`{name}` uses `{used_name}`, which could not be evaluated at build time and is initialized at run time; mark `{name}` `#[fallback(lazy)]` too"
                ));
                (reason, error)
            }
            Failure::Panicked { message, token } => {
                if !planned.fallback {
                    errors.at(
                        expr,
                        format_args!("evaluating `{name}` on the build host panicked: {message}"),
                    );
                    if let Some(token) = token.filter(|t| !self.in_init(i, *t)) {
                        errors.push(syn::Error::new(
                            self.span(token),
                            format_args!("this panicked while evaluating `{name}`"),
                        ));
                    }
                }
                (
                    format!("its initializer panicked on the build host: {message}"),
                    None,
                )
            }
            Failure::DoesNotCompile { errors: found } => {
                let first = found
                    .first()
                    .map_or("", |d| d.message.lines().next().unwrap_or(""));
                (
                    format!("its initializer does not compile on the build host: {first}"),
                    Some(format!(
                        "`{name}` does not compile on the build host: {first}"
                    )),
                )
            }
            Failure::TimedOut { limit } => (
                format!(
                    "evaluating it on the build host took longer than {}",
                    seconds(limit)
                ),
                Some(format!(
                    "evaluating `{name}` on the build host took longer than {}, the limit; raise it with `#![eval_timeout = <seconds>]` in the block or with STAGED_EVAL_TIMEOUT",
                    seconds(limit)
                )),
            ),
            Failure::TooLarge { limit } => (
                format!(
                    "its value, rendered, is larger than the {} the build-time evaluator accepts",
                    bytes(limit as u64)
                ),
                Some(format!(
                    "the value of `{name}`, rendered, is larger than the {} the build-time evaluator accepts; raise the limit with STAGED_EVAL_MAX_MEMORY (bytes), compute the value in build.rs, or at run time with `#[fallback(lazy)]`",
                    bytes(limit as u64)
                )),
            ),
            Failure::OutOfMemory { limit, requested } => (
                format!(
                    "evaluating it on the build host used more than {} of memory (an allocation of {} failed)",
                    bytes(limit),
                    bytes(requested)
                ),
                Some(format!(
                    "evaluating `{name}` on the build host used more than {} of memory, the limit (an allocation of {} failed); raise it with STAGED_EVAL_MAX_MEMORY (bytes)",
                    bytes(limit),
                    bytes(requested)
                )),
            ),
            Failure::Crashed { status, stderr } => (
                format!("the evaluator crashed evaluating it ({status})"),
                Some(format!(
                    "the build-time evaluator crashed evaluating `{name}` ({status}){}{stderr}",
                    if stderr.is_empty() { "" } else { ":\n" }
                )),
            ),
            // The block's errors are reported; nothing to add, and no
            // reason to fall back.
            Failure::NotRun => return Result::Failed,
        };
        if planned.fallback {
            return Result::Lazy(reason);
        }
        if let Some(message) = error {
            errors.at(expr, message);
        }
        Result::Failed
    }

    /// Whether token `ordinal` is in item `i`'s initializer.
    fn in_init(&self, i: usize, ordinal: usize) -> bool {
        let init = &self.plan.items[i].item.init;
        (init.first..init.first + super::parse::count(&init.trees)).contains(&ordinal)
    }
}

/// A size in bytes, for messages: exact units where they fit (`1 GiB`),
/// else one decimal of the largest (`1.5 GiB`), and bytes below a KiB.
fn bytes(n: u64) -> String {
    const UNITS: [(u32, &str); 4] = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
    for (shift, unit) in UNITS {
        let size = 1u64 << shift;
        if n >= size {
            return if n.is_multiple_of(size) {
                format!("{} {unit}", n >> shift)
            } else {
                format!("{:.1} {unit}", n as f64 / size as f64)
            };
        }
    }
    format!("{n} bytes")
}

fn seconds(limit: Duration) -> String {
    if limit.subsec_millis() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{:.1} s", limit.as_secs_f64())
    }
}

/// `tokens` with every span set to `span`, so that a type error in a baked
/// value points at the initializer it came from.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(g) => {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                TokenTree::Group(group)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(1 << 30), "1 GiB");
        assert_eq!(bytes(256 << 20), "256 MiB");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
        assert_eq!(bytes(64 << 10), "64 KiB");
        assert_eq!(bytes(1000), "1000 bytes");
    }
}
