//! The command line, as clap reads it. Sizes and ages are parsed here, so
//! that a bad one is a usage error (exit code 2) naming the option.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::units;

const CACHE_HELP: &str = "\
The cache is the directory the programs use: STAGED_CACHE_DIR, else
$XDG_CACHE_HOME/staged, else ~/.cache/staged. It holds run-time libraries
(obj/), the index saying which function and value each serves (idx/), locks
(lock/), build directories (tmp/), const_init! results (eval/) and the
support library every run-time library links, one per toolchain (support/).
A program tags the cache with a CACHEDIR.TAG file when it makes it (backup
tools skip such a directory). These commands work only on a tagged cache,
never create anything, and remove only entries staged wrote: stats and list
change nothing, and a file of yours in the cache stays.

Libraries and const_init! results together are capped at
STAGED_CACHE_MAX_BYTES (a number of bytes; default 1073741824, 1 GiB);
`staged cache stats` says when the cache is over it, and
`staged cache prune` without options brings it under.

Sizes: 1024, 500M, 2G (K, M, G, T are powers of 1024; KB, MB, GB, TB of
1000). Ages: 30m, 12h, 7d (s, m, h, d, w).";

/// Manage staged's disk cache and value profiles.
#[derive(Debug, Parser)]
#[command(name = "staged", version, after_help = CACHE_HELP)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The command's areas.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect and prune the disk cache of run-time libraries and
    /// const_init! results
    #[command(subcommand, after_help = CACHE_HELP)]
    Cache(CacheCommand),
    /// Show and merge value profiles (the files STAGED_PROFILE writes)
    #[command(subcommand)]
    Profile(ProfileCommand),
}

/// `staged cache ...`
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Count, size and age of every kind of entry, and the total
    #[command(after_help = CACHE_HELP)]
    Stats(DirArg),
    /// Every entry: each library with the function and value(s) it serves,
    /// then the other kinds
    #[command(after_help = CACHE_HELP)]
    List(DirArg),
    /// Remove the oldest entries, leaving what other processes are using;
    /// without options, down to STAGED_CACHE_MAX_BYTES
    #[command(after_help = CACHE_HELP)]
    Prune(PruneArgs),
    /// Remove everything but what other processes are using
    #[command(after_help = CACHE_HELP)]
    Clear(DirArg),
}

/// Which cache.
#[derive(Debug, clap::Args)]
pub struct DirArg {
    /// The cache directory [default: the one the programs use]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `staged cache prune`
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Which cache.
    #[command(flatten)]
    pub dir: DirArg,
    /// Remove the oldest libraries and const_init! results until they take
    /// at most SIZE (500M, 2G, 1024)
    #[arg(long, value_name = "SIZE", value_parser = units::parse_size)]
    pub max_size: Option<u64>,
    /// Remove entries not modified for AGE (30m, 12h, 7d)
    #[arg(long, value_name = "AGE", value_parser = units::parse_age)]
    pub older_than: Option<Duration>,
}

/// `staged profile ...`
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// The merged profiles, one block per function, values hottest first
    Show {
        /// Profile files
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// The merged profiles as a profile (counts of the same value add up)
    Merge {
        /// Profile files
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Write to OUT (replaced whole, so it may be one of the inputs)
        /// instead of stdout
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Args;

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }
}
