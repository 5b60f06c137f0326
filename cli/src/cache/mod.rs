//! `staged cache stats|list|prune|clear`: the disk cache through
//! staged-build's store, which does the work (and the checks); this module
//! opens it and says what it found.

mod list;
mod remove;
mod stats;
pub mod table;

use std::path::{Path, PathBuf};

use staged_build::store::Store;

use crate::args::CacheCommand;
use crate::config::Config;
use crate::error::CliError;
use crate::output::Output;

/// Runs one `staged cache` command.
///
/// # Errors
///
/// When there is no cache, or it cannot be opened (not ours alone).
pub fn run(command: &CacheCommand, config: &Config) -> Result<Output, CliError> {
    let mut output = Output {
        warnings: config.warnings.clone(),
        ..Output::default()
    };
    output.text = match command {
        CacheCommand::Stats(dir) => {
            let store = open(dir.dir.as_deref(), config, Access::Read)?;
            stats::render(&store, config.max_bytes)
        }
        CacheCommand::List(dir) => list::render(&open(dir.dir.as_deref(), config, Access::Read)?),
        CacheCommand::Prune(args) => {
            let store = open(args.dir.dir.as_deref(), config, Access::Write)?;
            let max_size = match (args.max_size, args.older_than) {
                (None, None) => Some(config.max_bytes),
                (max_size, _) => max_size,
            };
            remove::prune(&store, max_size, args.older_than)?
        }
        CacheCommand::Clear(dir) => {
            remove::clear(&open(dir.dir.as_deref(), config, Access::Write)?)?
        }
    };
    Ok(output)
}

/// What a command does to the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Only looks: nothing is created, written or removed, and a cache
    /// owned by root is fine.
    Read,
    /// Removes entries, only those staged wrote.
    Write,
}

/// Opens the cache at `dir`, else the one the programs use. Only a store
/// tagged by staged is opened, and nothing is created there: a command
/// pointed at another directory (a home, a project, `/`) changes nothing.
fn open(dir: Option<&Path>, config: &Config, access: Access) -> Result<Store, CliError> {
    let dir: PathBuf = dir
        .map(Path::to_owned)
        .or_else(|| config.cache_dir.clone())
        .ok_or(CliError::NoCacheDir)?;
    if !dir.try_exists().unwrap_or(true) {
        return Err(CliError::NoCache(dir));
    }
    let store = match access {
        Access::Read => Store::open_tagged_read_only(&dir),
        Access::Write => Store::open_tagged(&dir),
    };
    store.map_err(|source| CliError::Store { dir, source })
}
