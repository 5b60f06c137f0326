//! `const_init!`: parse (`parse.rs`), check (`valid.rs` with `types.rs`),
//! evaluate on the build host (`evaluate.rs` with `source.rs`, driving
//! staged-build's evaluator), emit (`expand.rs`).

mod evaluate;
mod expand;
mod parse;
mod source;
mod types;
mod valid;

use proc_macro2::TokenStream;
use staged_build::eval::EvalConfig;

use crate::errors::Errors;

/// Expands `const_init! { input }`: the items, next to every error found.
/// Items that fail still get declared (with a placeholder value), so the
/// rest of the crate type-checks against them.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let parsed = match syn::parse2::<parse::Input>(input.clone()) {
        Ok(parsed) => parsed,
        Err(error) => return error.into_compile_error(),
    };
    let mut errors = Errors::default();
    let plan = valid::check(parsed, &mut errors);
    let output = match errors.finish(()) {
        Ok(()) => {
            let mut errors = Errors::default();
            let config = EvalConfig::from_env();
            let evaluated = evaluate::evaluate(&plan, input, &config, &mut errors);
            let tokens = expand::expand(&plan, &evaluated, &config.warnings);
            errors
                .finish(())
                .map(|()| tokens.clone())
                .map_err(|e| (e, tokens))
        }
        Err(error) => Err((error, expand::placeholders(&plan))),
    };
    match output {
        Ok(tokens) => tokens,
        Err((error, tokens)) => {
            let mut all = error.into_compile_error();
            all.extend(tokens);
            all
        }
    }
}
