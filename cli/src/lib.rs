//! The `staged` command: manage staged's disk cache and value profiles.
//! The binary is [`run`]; this library holds the command so that it is
//! documented and tested in one place.
//!
//! ```text
//! staged cache stats|list|prune|clear [--dir DIR]
//! staged cache prune [--max-size 500M] [--older-than 7d]
//! staged profile show FILE...
//! staged profile merge FILE... [-o OUT]
//! ```
//!
//! The cache commands work only on a store that a program using staged
//! made and tagged (its `CACHEDIR.TAG`); on any other directory they say
//! so and change nothing. `stats`, `list` and `profile show` never write;
//! `prune` and `clear` remove only entries of the shapes staged writes.
//!
//! Exit codes: 0 on success, 1 when the command failed (no cache, a
//! directory that is not a cache, a cache that is not safe to use, a file
//! that cannot be read or written), 2 for a mistake on the command line.

mod args;
mod cache;
mod config;
mod error;
mod output;
mod profile;
mod units;

use std::process::ExitCode;

use clap::Parser;

/// Runs the command with the process's arguments and environment; what
/// `main` returns.
pub fn run() -> ExitCode {
    let args = args::Args::parse();
    let result = match &args.command {
        args::Command::Cache(command) => cache::run(command, &config::Config::from_env()),
        args::Command::Profile(command) => profile::run(command),
    };
    let printed = match result {
        Ok(output) => output.print(),
        Err(e) => return fail(&e),
    };
    match printed {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("staged: cannot write the output: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `e` with its causes, and a hint if it has one.
fn fail(e: &error::CliError) -> ExitCode {
    eprintln!("staged: {}", staged_build::chain::Chain(e));
    if let Some(hint) = e.hint() {
        eprintln!("hint: {hint}");
    }
    ExitCode::FAILURE
}
