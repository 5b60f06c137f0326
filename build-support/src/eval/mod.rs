//! The build-time evaluator behind `const_init!`: turns a block of helper
//! items and initializers into a host program, builds it once with the
//! crate's own rustc (optimized, in a directory of the cache, never under
//! cargo's target directory), runs it hermetically, and returns each item's
//! value as source, or why it has none.
//!
//! ```text
//! Block ──key──► cache hit? ──yes──► Outcome (a hash and a read)
//!                   │ no
//!                   ▼
//!       program.rs: one main.rs for the whole block (helpers, one closure
//!                   per item, harness.rs and bake.rs as modules)
//!                   ▼
//!       rustc --error-format=json  ──errors──► mapped back to the block's
//!                   ▼                          tokens (diagnostics.rs)
//!       run: sandbox.rs (Landlock, namespaces), empty directory, no
//!                   │  environment, stdin closed, time limit on the
//!                   │  process group, output bounded and never parsed
//!                   ▼
//!       output.rs: one record per item, ──► emit.rs: source, blobs stored
//!                  on a descriptor of        in the cache (cache.rs)
//!                  its own
//!                   ▼
//!                Outcome, cached unless something timed out or crashed
//! ```
//!
//! The cache key is the content: the block's tokens as written, the
//! contents of the files it includes, the rustc version, the edition,
//! this engine's own source and the sandbox the host offers. Never a path.

mod cache;
pub mod config;
mod diagnostics;
mod error;
pub mod harness;
mod output;
mod program;
pub mod sandbox;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

// `harness.rs` refers to the renderer as `super::bake`, which is where the
// evaluator program puts it too.
use crate::bake;
use crate::process;
use crate::rustc::{self, Invocation, MISSING_HINT, Rustc};
use crate::store::Hash32;
use crate::toolchain::Recorded;

pub use config::EvalConfig;
pub use error::EvalError;

use cache::Cache;
use program::{Owner, Place, Program};
use sandbox::Sandbox;

/// How much of an evaluator program's stderr a failure carries.
const STDERR_HEAD_BYTES: usize = 8 << 10;

/// How long rustc may take to say its version.
const PROBE_LIMIT: Duration = Duration::from_secs(60);

/// A `const_init!` block, as the macro hands it over.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// The block's tokens as written: the cache key's main part.
    pub key_text: String,
    /// The crate's edition (`"2021"`), for the evaluator program.
    pub edition: String,
    /// Helper items (functions, types, `use`), in order.
    pub helpers: Vec<Fragment>,
    /// The `static` and `const` items, in order.
    pub items: Vec<Item>,
    /// Files read by `include_bytes!`, `include_str!` and `include!` in the
    /// block, by absolute path; their contents are part of the key.
    pub files: Vec<PathBuf>,
    /// The time limit for this block, overriding the configuration.
    pub timeout: Option<Duration>,
}

/// Source text cut from the block, with the position of each of its tokens,
/// so that rustc's errors and panic locations map back to tokens.
#[derive(Clone, Debug, Default)]
pub struct Fragment {
    /// The text.
    pub text: String,
    /// `(byte offset in text, token ordinal)`, by offset. Ordinals number
    /// the block's tokens depth-first, as the macro sees them.
    pub marks: Vec<(usize, usize)>,
}

/// One `static` or `const` item.
#[derive(Clone, Debug, Default)]
pub struct Item {
    /// Its name (`_` for an unnamed `const`).
    pub name: String,
    /// The type its value takes in the evaluator program: the declared type,
    /// with array lengths that are not literals left to inference (`_`).
    pub eval_type: String,
    /// The initializer expression.
    pub init: Fragment,
    /// Whether the initializer's result goes through `BakeAs` (the type holds
    /// a `&'static [T]` or `&'static str`); otherwise it must have the
    /// declared type itself, which lets inference use that type.
    pub convert: bool,
    /// Marked `#[fallback(lazy)]`: a failure is reported, not an error, and
    /// later initializers see it as a `Staged<T>`.
    pub fallback: bool,
    /// The earlier items its initializer mentions.
    pub uses: Vec<usize>,
}

/// The compiler that builds evaluator programs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Toolchain {
    /// The rustc binary.
    pub rustc: PathBuf,
    /// Its `rustc -vV`, part of the cache key.
    pub version: String,
    /// The wrapper to run it through ([`rustc::wrapper`]), if any.
    pub wrapper: Option<PathBuf>,
    /// The C compiler to link with (empty: rustc's own choice).
    pub linker: String,
}

impl Toolchain {
    /// `rustc`, linking with `linker`.
    pub fn new(rustc: Rustc, linker: &str) -> Self {
        Self {
            rustc: rustc.path,
            version: rustc.version,
            wrapper: rustc.wrapper,
            linker: linker.to_owned(),
        }
    }

    /// The toolchain `recorded` when the macros were built, its rustc
    /// found as the run-time stage finds it ([`rustc::resolve`]).
    ///
    /// # Errors
    ///
    /// [`EvalError::Compiler`] when that rustc is missing, does not answer,
    /// or is of another version.
    pub fn recorded(recorded: &Recorded) -> Result<Self, EvalError> {
        let rustc = rustc::resolve(recorded, None, PROBE_LIMIT)?;
        Ok(Self::new(rustc, recorded.linker))
    }
}

/// What evaluating a block gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// One per item, in order.
    pub items: Vec<ItemOutcome>,
    /// Errors that stopped the whole block (a helper or an item without a
    /// fallback does not compile); then every item is [`Failure::NotRun`].
    pub errors: Vec<Diagnostic>,
    /// Whether this came from the cache.
    pub cached: bool,
    /// How long evaluating (or reading the cache) took.
    pub elapsed: Duration,
}

/// One item's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Its value, as an expression of its declared type (using `core` and
    /// `staged::__const_init` only).
    Baked(String),
    /// Why it has no value.
    Failed(Failure),
}

/// Why an item has no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Its initializer panicked.
    Panicked {
        /// The panic message.
        message: String,
        /// The token where it panicked, if that is in the block.
        token: Option<usize>,
    },
    /// Its initializer uses an item that has no value (which failed, or
    /// was not evaluated itself).
    UsesFailed {
        /// The item it uses.
        item: usize,
    },
    /// Its initializer does not compile on the build host (only reported
    /// for items with a fallback; otherwise these are [`Outcome::errors`]).
    DoesNotCompile {
        /// rustc's errors.
        errors: Vec<Diagnostic>,
    },
    /// It ran past the time limit.
    TimedOut {
        /// The limit.
        limit: Duration,
    },
    /// Its value, rendered, is larger than the evaluator accepts
    /// ([`EvalConfig::record_limit`]).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// It needed more memory than the evaluator may use
    /// ([`EvalConfig::max_memory`]): an allocation failed.
    OutOfMemory {
        /// The limit, in bytes.
        limit: u64,
        /// The size of the allocation that failed, in bytes.
        requested: u64,
    },
    /// The evaluator program died while evaluating it.
    Crashed {
        /// How it ended.
        status: String,
        /// The first lines of its stderr.
        stderr: String,
    },
    /// It was not evaluated, because of the block's [`Outcome::errors`].
    NotRun,
}

/// An error of rustc's, placed in the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// rustc's message, with its notes.
    pub message: String,
    /// The first and last token it points at, if they are in the block.
    pub tokens: Option<(usize, usize)>,
    /// The item whose code it is in, if it is in an item.
    pub item: Option<usize>,
}

/// Evaluates `block` with `toolchain`, or reads its outcome from the cache.
///
/// # Errors
///
/// [`EvalError`] when the evaluator cannot be run at all: no cache
/// directory, an unsafe or unwritable cache, an included file that cannot
/// be read, no rustc. Failures of the block's own code are not errors but
/// part of the [`Outcome`].
pub fn evaluate(
    block: &Block,
    toolchain: &Toolchain,
    config: &EvalConfig,
) -> Result<Outcome, EvalError> {
    let started = Instant::now();
    let key = key(block, toolchain)?;
    let cache = Cache::open(config)?;
    if let Some(outcome) = cache.get(&key)? {
        return Ok(Outcome {
            cached: true,
            elapsed: started.elapsed(),
            ..outcome
        });
    }
    // Expansions of the same block (rustc, an editor, a second crate) build
    // it once: the others wait here, then find it in the cache.
    let limit = block.timeout.unwrap_or(config.timeout);
    let _lock = cache.lock(&key, config.build_timeout + limit + Duration::from_secs(5))?;
    if let Some(outcome) = cache.get(&key)? {
        return Ok(Outcome {
            cached: true,
            elapsed: started.elapsed(),
            ..outcome
        });
    }
    let (mut outcome, cacheable) =
        Evaluation::new(block, toolchain, config, &cache, limit).run()?;
    if cacheable {
        cache.put(&key, &outcome)?;
    }
    outcome.elapsed = started.elapsed();
    Ok(outcome)
}

/// The block's identity: everything that can change its outcome.
fn key(block: &Block, toolchain: &Toolchain) -> Result<Hash32, EvalError> {
    // The engine's own source: a change to how programs are generated or
    // values rendered must not reuse old entries.
    const ENGINE: [&str; 9] = [
        include_str!("../bake.rs"),
        include_str!("../emit.rs"),
        include_str!("mod.rs"),
        include_str!("program.rs"),
        include_str!("harness.rs"),
        include_str!("output.rs"),
        include_str!("cache.rs"),
        include_str!("diagnostics.rs"),
        include_str!("sandbox.rs"),
    ];
    let mut contents = Vec::with_capacity(block.files.len());
    for path in &block.files {
        let bytes = std::fs::read(path).map_err(|cause| EvalError::file(path, cause))?;
        contents.push(*blake3::hash(&bytes).as_bytes());
    }
    let sandbox = sandbox::key_part();
    let mut parts: Vec<&[u8]> = vec![b"staged-eval v1"];
    parts.extend(ENGINE.iter().map(|s| s.as_bytes()));
    parts.push(sandbox.as_bytes());
    parts.push(toolchain.version.as_bytes());
    parts.push(block.edition.as_bytes());
    parts.push(block.key_text.as_bytes());
    parts.extend(contents.iter().map(|c| c.as_slice()));
    Ok(Hash32::of_parts(parts))
}

/// One evaluation of a block that was not in the cache.
struct Evaluation<'a> {
    block: &'a Block,
    toolchain: &'a Toolchain,
    config: &'a EvalConfig,
    cache: &'a Cache,
    limit: Duration,
    results: Vec<Option<ItemOutcome>>,
    /// Items left out of the program: their fallback lets them fail to
    /// compile, and items using them fail with them.
    excluded: Vec<bool>,
}

impl<'a> Evaluation<'a> {
    fn new(
        block: &'a Block,
        toolchain: &'a Toolchain,
        config: &'a EvalConfig,
        cache: &'a Cache,
        limit: Duration,
    ) -> Self {
        let n = block.items.len();
        Self {
            block,
            toolchain,
            config,
            cache,
            limit,
            results: vec![None; n],
            excluded: vec![false; n],
        }
    }

    /// The outcome, and whether it may be cached (it may not when a time
    /// limit or a crash decided part of it: another run could differ).
    fn run(mut self) -> Result<(Outcome, bool), EvalError> {
        let dir = self.cache.build_dir()?;
        let (program, exe) = loop {
            let program = program::generate(self.block, &self.excluded);
            let source = dir.path().join(harness::SOURCE_FILE);
            std::fs::write(&source, &program.text).map_err(|e| EvalError::file(&source, e))?;
            let exe = dir.path().join("evaluator");
            match self.compile(&source, &exe)? {
                Ok(()) => break (program, exe),
                Err(errors) => {
                    let errors: Vec<Diagnostic> =
                        errors.iter().map(|e| place(&program, e)).collect();
                    if !self.exclude_fallbacks(&errors) {
                        return Ok((self.block_failed(errors), true));
                    }
                }
            }
        };
        let cacheable = self.run_program(&program, &exe, dir.path())?;
        let items = self
            .results
            .into_iter()
            .map(|r| r.unwrap_or(ItemOutcome::Failed(Failure::NotRun)))
            .collect();
        let outcome = Outcome {
            items,
            errors: Vec::new(),
            cached: false,
            elapsed: Duration::ZERO,
        };
        Ok((outcome, cacheable))
    }

    /// rustc's errors, if the program does not compile.
    fn compile(
        &self,
        source: &std::path::Path,
        exe: &std::path::Path,
    ) -> Result<Result<(), Vec<diagnostics::RustcError>>, EvalError> {
        let mut cmd = rustc::command(&self.toolchain.rustc, self.toolchain.wrapper.as_deref());
        Invocation::new("bin", "staged_eval", &self.block.edition, 2)
            .linker(&self.toolchain.linker)
            .arg("--error-format=json")
            .apply(&mut cmd, source, exe);
        cmd.env_clear()
            .envs(self.config.rustc_env.iter().map(|(k, v)| (k, v)))
            .current_dir(source.parent().unwrap_or(source));
        let ended = process::run_to_end(&mut cmd, self.config.build_timeout, MISSING_HINT)?;
        if ended.success() {
            return Ok(Ok(()));
        }
        let errors = diagnostics::errors(&ended.stderr);
        if errors.is_empty() {
            return Err(EvalError::Rustc {
                status: ended.describe(),
                stderr: stderr_head(&ended.stderr),
            });
        }
        Ok(Err(errors))
    }

    /// Leaves out the items with a fallback that `errors` are in, and the
    /// items that use them; `false` if an error is elsewhere (a helper, an
    /// item without a fallback), so the block cannot be evaluated.
    fn exclude_fallbacks(&mut self, errors: &[Diagnostic]) -> bool {
        let items = &self.block.items;
        let blamed: Vec<usize> = errors.iter().filter_map(|e| e.item).collect();
        let all_in_fallbacks = errors.iter().all(|e| {
            e.item
                .is_some_and(|i| items[i].fallback && !self.excluded[i])
        });
        if !all_in_fallbacks {
            return false;
        }
        for i in blamed {
            self.excluded[i] = true;
            let own: Vec<Diagnostic> = errors
                .iter()
                .filter(|e| e.item == Some(i))
                .cloned()
                .collect();
            self.results[i] = Some(ItemOutcome::Failed(Failure::DoesNotCompile { errors: own }));
        }
        for (i, item) in items.iter().enumerate() {
            if self.excluded[i] {
                continue;
            }
            if let Some(&dep) = item.uses.iter().find(|&&d| self.excluded[d]) {
                self.excluded[i] = true;
                self.results[i] = Some(ItemOutcome::Failed(Failure::UsesFailed { item: dep }));
            }
        }
        true
    }

    fn block_failed(&self, errors: Vec<Diagnostic>) -> Outcome {
        Outcome {
            items: vec![ItemOutcome::Failed(Failure::NotRun); self.block.items.len()],
            errors,
            cached: false,
            elapsed: Duration::ZERO,
        }
    }

    /// Runs the program until every item was reported, rerunning it without
    /// an item that timed out, crashed it, ran out of memory or sent too
    /// much. Returns whether the outcome may be cached.
    fn run_program(
        &mut self,
        program: &Program,
        exe: &std::path::Path,
        dir: &std::path::Path,
    ) -> Result<bool, EvalError> {
        let workdir = dir.join("work");
        std::fs::create_dir_all(&workdir).map_err(|e| EvalError::file(&workdir, e))?;
        let sandbox = Sandbox::prepare(exe, &workdir, self.toolchain)?;
        let mut skip: Vec<usize> = Vec::new();
        let mut cacheable = true;
        loop {
            let mut cmd = Command::new(exe);
            cmd.args(skip.iter().map(usize::to_string))
                .env_clear()
                .current_dir(&workdir);
            let report = sandbox.install(&mut cmd)?;
            // Records come on a descriptor of their own; what the program
            // prints is kept for messages, bounded, and never parsed. Its
            // memory is limited to what the initializers may use and what
            // the harness reserves.
            let memory = self
                .config
                .max_memory
                .saturating_add(harness::RESERVED_BYTES);
            let ended = process::Job::new(&mut cmd, self.limit, MISSING_HINT)
                .records(harness::RECORD_FD, self.config.record_limit)
                .capture_limit(self.config.output_limit)
                .memory_limit(memory)
                .run_to_end()?;
            let applied = report.finish();
            let overflowed = ended.records_over_limit;
            let run = output::parse(&ended.records);
            for (index, baked) in run.baked {
                let expr = self
                    .cache
                    .value_expr(&self.block.items[index].name, &baked)?;
                self.results[index] = Some(ItemOutcome::Baked(expr));
            }
            for panic in run.panics {
                let token =
                    program.offset_of(panic.line, panic.column).and_then(|at| {
                        match program.locate(at) {
                            Place::Token(ordinal, _) => Some(ordinal),
                            _ => None,
                        }
                    });
                self.results[panic.item] = Some(ItemOutcome::Failed(Failure::Panicked {
                    message: applied.explain(panic.message),
                    token,
                }));
            }
            for (item, used) in run.uses_failed {
                self.results[item] = Some(ItemOutcome::Failed(Failure::UsesFailed { item: used }));
            }
            if run.done && ended.success() {
                return Ok(cacheable);
            }
            // The item that was running when the program stopped is the
            // culprit (when the records overflowed, the one whose record
            // was cut, or whose start was lost past the limit); the others
            // get another run without it.
            let culprit = run
                .unfinished
                .or_else(|| overflowed.then(|| self.next_unreported(&skip)).flatten());
            let crashed = || EvalError::Crashed {
                status: ended.describe(),
                stderr: stderr_head(&ended.stderr),
            };
            // A culprit skipped already cannot have run: the records lie.
            let Some(culprit) = culprit.filter(|c| !skip.contains(c)) else {
                return Err(crashed());
            };
            cacheable = false;
            let failure = match (ended.status, run.out_of_memory) {
                _ if overflowed => Failure::TooLarge {
                    limit: self.config.record_limit,
                },
                (None, _) => Failure::TimedOut { limit: self.limit },
                // It died right after an allocation of its failed.
                (Some(_), Some((item, requested))) if item == culprit => Failure::OutOfMemory {
                    limit: self.config.max_memory,
                    requested,
                },
                (Some(_), _) => Failure::Crashed {
                    status: ended.describe(),
                    stderr: stderr_head(&ended.stderr),
                },
            };
            self.results[culprit] = Some(ItemOutcome::Failed(failure));
            skip.push(culprit);
        }
    }

    /// The first item of the program that has no result yet and is not
    /// skipped.
    fn next_unreported(&self, skip: &[usize]) -> Option<usize> {
        (0..self.block.items.len())
            .find(|&i| !self.excluded[i] && self.results[i].is_none() && !skip.contains(&i))
    }
}

/// The first lines of a program's stderr, at most a few kilobytes of them
/// (an initializer may print lines of any length).
fn stderr_head(stderr: &[u8]) -> String {
    process::head(&stderr[..stderr.len().min(STDERR_HEAD_BYTES)])
}

/// Where in the block a rustc error is.
fn place(program: &Program, error: &diagnostics::RustcError) -> Diagnostic {
    let mut diagnostic = Diagnostic {
        message: error.message.clone(),
        tokens: None,
        item: None,
    };
    let Some((start, end)) = error.span else {
        return diagnostic;
    };
    match program.locate(start) {
        Place::Token(first, owner) => {
            let last = match program.locate(end.saturating_sub(1).max(start)) {
                Place::Token(last, o) if o == owner => last,
                _ => first,
            };
            diagnostic.tokens = Some((first, last));
            if let Owner::Item(i) = owner {
                diagnostic.item = Some(i);
            }
        }
        Place::Glue(i) => diagnostic.item = Some(i),
        Place::Elsewhere => {}
    }
    diagnostic
}
