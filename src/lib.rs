//! Staged specialization: one source, specialized at the latest stage where a
//! value is known.
//!
//! ```
//! use staged::specialize;
//!
//! /// `x` to the power `n`.
//! #[specialize(n = [2, 3, 4], runtime = false)]
//! pub fn power(x: u64, n: u32) -> u64 {
//!     let mut p = 1u64;
//!     for _ in 0..n {
//!         p = p.wrapping_mul(x);
//!     }
//!     p
//! }
//!
//! assert_eq!(power(3, 4), 81); // the variant for n = 4
//! assert_eq!(power(3, 5), 243); // no variant: the generic body
//! assert_eq!(power::generic(3, 4), 81);
//! let square = power::specialized(2).unwrap();
//! assert_eq!(square.origin(), staged::Origin::Static);
//! assert_eq!(square.call(9), 81);
//! ```
//!
//! - **Stage 1, compile time**: `#[specialize(n = [2, 3, 4])]` emits one
//!   variant per listed value and a dispatcher that keeps the function's
//!   signature; a constant argument folds to a direct call.
//! - **Stage 2, build time**: [`const_init!`] runs `static` and `const`
//!   initializers on the build host, as native code with `std`, and emits
//!   their values as literals: tables land in read-only data, with no
//!   start-up cost, also in `#![no_std]` crates.
//! - **Stage 3, run time** (feature `runtime`, on by default): other values are
//!   built by rustc into a library at run time, cached on disk and loaded; until
//!   then, and whenever that fails, the generic body runs.
//!
//! With `default-features = false` this crate is `#![no_std]` and needs no
//! allocator; `#[specialize(..., runtime = false)]` works there.
//!
//! # Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `runtime` | on | stage 3: values known only at run time are specialized by building a cdylib with rustc; implies `std` |
//! | `std` | on | links `std`; implies `alloc` |
//! | `alloc` | on, through `std` | links `alloc`: [`SiteStats::last_error`] and [`SiteStats::warnings`] carry a `String` instead of a `&'static str` |
//!
//! Without `runtime`, every function behaves as with `runtime = false`.
//! [`const_init!`] and the static variants of `#[specialize]` need no feature.
//!
//! # Settings
//!
//! The run-time stage reads its settings once from the environment; the
//! same settings can be set in code with [`runtime::Config`] and
//! [`Config::install`](runtime::Config::install).
//!
//! | setting | variable | `Config` | default |
//! |---|---|---|---|
//! | when values get a variant | `STAGED_MODE` (`background`, `sync`, `off`) | `mode` | `background` |
//! | calls of one value before `background` builds it | `STAGED_THRESHOLD` (1 to 10⁹) | `threshold` | 32 |
//! | milliseconds of generic calls of one value before `background` builds it, if they come before those calls (0: off) | `STAGED_THRESHOLD_MS` (0 to 86 400 000) | `threshold_ms` | 20 |
//! | run-time variants per function | `STAGED_MAX_VARIANTS` (0 to 4096) | `max_variants` | 64 |
//! | the disk cache | `STAGED_CACHE_DIR` | `cache_dir` | `$XDG_CACHE_HOME/staged` (when absolute), else `$HOME/.cache/staged` (`$HOME/Library/Caches/staged` on macOS); with no home directory, `staged-<uid>` in the temporary directory |
//! | its size before the oldest libraries and `const_init!` results go | `STAGED_CACHE_MAX_BYTES` | `cache_max_bytes` | 1 GiB |
//! | the compiler | `STAGED_RUSTC` | `rustc` | the rustc that built the program, recorded at build time |
//! | `-C target-cpu` of run-time builds | `STAGED_TARGET_CPU` | `target_cpu` | `native` |
//! | extra rustc flags (part of the cache key; flags that change answers or the ABI are refused) | `STAGED_RUSTFLAGS` | `rustflags` | none |
//! | time limit of one rustc run | — | `build_timeout` (100 ms to 24 h) | 120 s |
//! | profile of the values built or loaded | `STAGED_PROFILE` | `profile` | none |
//! | read-only stores searched first | `STAGED_BUNDLE` (`:`-separated) | `bundle` | none |
//!
//! A value that cannot be read is ignored and one out of range is clamped;
//! either way every function's `stats().warnings` says so, and the log
//! (target `staged_runtime::config`, level `warn`).
//!
//! [`const_init!`] runs in the compiler and reads `STAGED_CACHE_DIR` (with
//! the same default: one reader, `staged_build::settings`, serves both),
//! `STAGED_CACHE_MAX_BYTES`, `STAGED_EVAL_TIMEOUT`: seconds one block may
//! run, 120 by default, and `STAGED_EVAL_MAX_MEMORY`: bytes of memory one
//! block may use, 1 GiB (1073741824) by default, at least 16 MiB; the
//! value it sends back, rendered, may be as large.
//!
//! # Platforms
//!
//! Linux only, today. The macros run staged-build in the compiler, and
//! staged-build uses Linux interfaces (Landlock, namespaces, seccomp for the
//! `const_init!` sandbox), so on another build host the crate does not
//! compile, `#![no_std]` use included. The run-time stage builds and loads
//! ELF shared objects with `dlopen`. Target features of a library are
//! checked against the CPU on x86_64 and aarch64; on other architectures
//! none are listed, so a library built for an explicit `STAGED_TARGET_CPU`
//! is not checked against this CPU's features (with the default `native`
//! the cache key holds this CPU's `/proc/cpuinfo` description).
//!
//! How the crates fit together, and where each part lives, is described in
//! `ARCHITECTURE.md` at the root of the repository.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
mod staged;
mod stats;

#[doc(hidden)]
pub mod __private;

/// What the expansion of `const_init!` calls; not a public API.
#[doc(hidden)]
pub use staged::support as __const_init;

pub use error::Error;

/// Settings of the run-time stage (feature `runtime`): the same settings as
/// the `STAGED_*` environment variables, as a typed builder.
///
/// ```no_run
/// use staged::runtime::{Config, Mode};
///
/// Config::from_env().mode(Mode::Sync).max_variants(16).install();
/// ```
///
/// [`Error`](staged_runtime::Error) is why a run-time variant could not be
/// had (the cause of [`staged::Error::Runtime`](crate::Error::Runtime)); a
/// failed disk-cache operation is its [`StoreError`](staged_runtime::StoreError)
/// source, a failed rustc run its [`ProcessError`](staged_runtime::ProcessError).
///
/// # Deployment
///
/// Hosts without a toolchain, and processes too short for a background
/// build, get run-time values at an earlier stage:
///
/// - **Profiles**: with `STAGED_PROFILE=<file>` (or [`Config::profile`](runtime::Config::profile))
///   every run-time value built or loaded is appended to a text file, one
///   line per value: crate, function path, fingerprint of its source, calls,
///   and the value(s) as the literal renderer writes them (`7u32`). The
///   calls before a variant was ready are written when it is, those it
///   served when the process exits, or when the program calls
///   [`runtime::flush_profile`] (a program that ends otherwise, by `_exit`
///   or a signal, calls it before). Processes may share the file; lines are
///   never torn, and duplicate lines add up. The format is described in
///   `staged_build::profile`.
/// - **Promotion**: `staged_build::promote_profile("staged.profile")` in
///   `build.rs` turns the recorded values of functions whose source is
///   unchanged into static variants, hottest first, at most 16 per function
///   (`staged_build::promote::Promotion::max_per_function`), exactly as if
///   listed; entries of a changed function, or values that do not fit, are
///   skipped with a compiler warning naming them.
/// - **Bundles**: `STAGED_BUNDLE=<dir>[:<dir>…]` (or [`Config::bundle`](runtime::Config::bundle))
///   names read-only caches made by a training run
///   (`STAGED_CACHE_DIR=bundle STAGED_TARGET_CPU=x86-64-v3 STAGED_MODE=sync
///   ./app`), searched before the cache and before building. A bundle is
///   never written; it and every directory above it must be owned by root
///   or the user and writable by no one else, and a library in it is used
///   only on a CPU with every target feature it was built with.
/// - **Short processes**: in background mode a value whose variant is in the
///   cache or a bundle is used from its first call (the store's keys are
///   listed once per process, so values it does not hold cost no disk
///   access); a
///   build still running, or queued, when the process exits (by returning
///   from `main` or `exit`) finishes on its own, and the next process that
///   wants the value adopts it, with every check a fresh build gets. No
///   more builds run on a cache at once than the machine has cores,
///   whichever processes started them: a background build that finds them
///   all running leaves its value to a later process (`stats()` says so),
///   and a caller waiting for its variant waits for one to end.
/// - **The cache's size**: libraries and `const_init!` results together are
///   kept under `STAGED_CACHE_MAX_BYTES` (1 GiB by default), oldest first;
///   the `staged` command (`cargo install --path cli`) lists, prunes and
///   clears it, and shows and merges profiles.
/// - **The cache directory** is made a cache only when it is new or empty
///   (or a cache an earlier staged made), and is then tagged with a
///   `CACHEDIR.TAG` file, which backup tools honour; a directory holding
///   anything else is refused (run-time variants are off, `stats()` says
///   why) and left as it is. The `staged` command works only on a tagged
///   cache and removes only entries staged wrote.
#[cfg(feature = "runtime")]
pub mod runtime {
    pub use staged_runtime::{
        CommandLine, Config, Error, Mode, ProcessError, StoreError, flush_profile,
    };
}
pub use staged::Staged;
/// Specializes a function on the values of some of its parameters, at the
/// latest stage where each value is known.
///
/// ```
/// use staged::specialize;
///
/// /// Sum of `x / d` over `xs`.
/// #[specialize(d = [1, 10, 1000], runtime = false)]
/// pub fn sum_div(xs: &[u64], d: u64) -> u64 {
///     xs.iter().map(|x| x / d).sum()
/// }
///
/// assert_eq!(sum_div(&[20, 30], 10), 5); // the variant for d = 10
/// assert_eq!(sum_div(&[20, 30], 7), 6); // no variant: the generic body
/// ```
///
/// # Arguments
///
/// - `n = [2, 3, 4]`: a variant per value, chosen by a `match` that folds away
///   when the argument is a constant; `n = 0..=8` / `0..8` for integer ranges;
///   `a = [..], b = [..]`: the product of the lists (at most 256 variants).
/// - `n` alone: no static variants, run time only.
/// - `runtime = false`: no run-time stage; other values run the generic body.
///   The only choice without the `runtime` feature, which also holds for
///   every function when that feature is off.
///
/// Specializable parameter types: every integer type, `bool`, `char`, `f32`
/// and `f64` (matched by bit pattern, so `-0.0` and each NaN are their own
/// values) and `&str`; and structured values, for programs and plans:
/// arrays `[T; N]`, slices `&[T]`, tuples and `Option<T>` of those, and the
/// structs and enums of a [`self_contained`] module made of them (no
/// references inside). A structured value is keyed by its whole value
/// (floats by their bits; no derives needed), listed as the user writes it
/// (`taps = [[1.0, 2.0, 1.0]]`, `plan = [[Pred::Less { col: 2, than: 500 }]]`),
/// and bound in each variant as a constant of its type, written by the
/// literal renderer; one whose source would pass `STAGED_VALUE_MAX_BYTES`
/// (1 MiB) runs the generic body, with the reason in `stats()`. A
/// dispatched call hashes the value: for calls per row, hold a handle
/// (`count::specialized(&plan)`). [`unroll`] makes one copy of a loop's body
/// per element or per position of such a value.
///
/// # What it emits
///
/// The function keeps its signature, visibility, docs and attributes, and
/// gains a companion module of the same name:
///
/// - `name::generic(..)`: the unspecialized body;
/// - `name::specialized(values) -> Result<name::Specialized, staged::Error>`:
///   a handle on the static variant, or on a variant built now at run time;
///   `Specialized::call(&self, rest)` is one indirect call, and
///   `Specialized::origin()` says where the code came from;
/// - `name::prepare(values)`: many values built in one rustc run;
/// - `name::stats() -> staged::SiteStats`.
///
/// Methods and associated functions (only with `runtime = false`) get their
/// variants as arms of their own body instead, since an `impl` block cannot
/// hold a module: they have no companion items. (The macro reads the file
/// to tell an associated function that does not mention `Self` from a free
/// one.)
///
/// # Run time
///
/// With the `runtime` feature (on by default) a value without a static
/// variant is built by the rustc that built the program into a library, which
/// is verified, loaded and kept in the disk cache; see the `STAGED_*`
/// variables and [`runtime::Config`]. The body is built there on its own, so
/// it may use its parameters, `core`, `std` and the items it declares: a path
/// through `crate`, `super` or `self`, another crate's macro, a macro whose
/// answer depends on the file (`include_str!`, `env!`, `line!`), a
/// `Location::caller()` (a path ending in `caller`: see below), or a `cfg`
/// the run-time build does not share (`feature`, `test`, `target_feature`)
/// is a compile error that suggests `runtime = false`. So is a `cfg` whose
/// predicate a body's own `macro_rules!` macro puts together (from its
/// fragments, or from a `cfg` handed to it) and a macro called by the name
/// a fragment holds (`$m!`): what they become is not known before they
/// expand. So are generic functions, methods,
/// `async fn` and parameter or return types other than primitives, arrays,
/// tuples, references, slices, `&str`, the heap types `Vec<T>`, `String`,
/// `Box<T>` and `Option<T>`/`Result<T, E>` of those.
///
/// A run-time variant is compiled from the very text the macro emitted for
/// the static variants, with the value written in by the literal renderer,
/// and with the overflow-check and debug-assertion settings of the crate
/// that defines the function; it answers like the generic body for every
/// input and panics where it panics. Answers are equal bit for bit except
/// where Rust itself leaves them unspecified, and where two builds of one
/// expression may then differ: the payload bits of a NaN produced by
/// arithmetic (`+ - * /`, `min`, `max`, ...; a NaN stays a NaN) and the sign
/// of a zero from `min`/`max` of `0.0` and `-0.0`. A function made by a `macro_rules!`
/// macro whose hygiene keeps two same-named variables apart is refused for
/// run time (text would make them one).
///
/// # What a run-time variant does not share with the program
///
/// A run-time variant lives in a library with its own copy of `std`. The
/// differences a body can observe are these, and only these:
///
/// - **Output**: `print!`, `println!`, `eprint!` and `eprintln!` go through
///   the program's own stdout and stderr, in order with its other output.
///   Writing to `std::io::stdout()` directly goes through the library's own
///   buffered handle: flushed at each newline and when the process exits,
///   not when the program flushes its stdout.
/// - **Threads**: `std::thread::current()` does not know the thread:
///   `name()` is `None`, and `id()` is the library's own, numbered in the
///   order threads first ask for it there, so it may equal the id the
///   program gave another thread.
/// - **Statics and thread-locals declared in the body**: each copy of the
///   body (the generic one, each static and each run-time variant) has its
///   own.
/// - **Statics of a `#[staged::self_contained]` module**: a variant's own
///   copies hold the same values at other addresses (which is why statics
///   with interior mutability are refused there).
/// - **Types of a module**: they are the library's. `std::any::type_name`
///   names them after its crate (`staged_variant::__staged::Row` where the
///   program says `my_crate::kernels::__staged::Row`), and their `TypeId`s
///   differ from the program's; those of `core`'s and `std`'s types do not.
/// - **Panics**: caught in the library and raised again in the caller, at
///   the caller's location, so the program's panic hook runs once (and not
///   at all for `std::panic::resume_unwind`, as in the generic body); a `&str`
///   or `String` payload keeps its type and text, any other payload arrives
///   as the `String` `"Box<dyn Any>"` (what the hook prints for it anyway).
///   The library's own panic hook is silent.
/// - **The panic hook**: `std::panic::set_hook`, `take_hook` and
///   `update_hook` are a compile error in a run-time body or module: in a
///   variant they would reach the library's own hook (which staged uses to
///   tell where a variant panicked), not the program's. Set the hook in the
///   program.
/// - **`Location`**: in a variant, `std::panic::Location::caller()` would
///   name the library's generated source instead of the user's file and
///   line, so it is a compile error in a run-time body or module however
///   it is spelled: `use … as`, a glob or a type alias can give `Location`
///   any name, so every path ending in `::caller` is refused, and so is
///   `caller` where a body's own `macro_rules!` macro could put it after
///   `::`. Panics need no `Location`: they are raised again at the user's
///   place.
/// - **Allocator**: none of its own: the library allocates and frees
///   through the program's global allocator (its `#[global_allocator]`, if
///   it has one), so a `Vec`, `String` or `Box` made on one side may grow
///   or drop on the other.
/// - **Exit**: `std::process::exit` in a body runs the library's exit path,
///   which does not flush the program's buffered stdout.
///
/// The environment, the working directory, open files and
/// `std::env::args()` are the process's own and read alike.
pub use staged_macros::specialize;

/// Makes an inline module the unit that travels into run-time builds, so
/// that its `#[specialize]` functions may use the module's helpers,
/// constants and types at every stage.
///
/// ```
/// #[staged::self_contained]
/// pub mod kernels {
///     pub const SCALE: u64 = 0x9E37_79B9_7F4A_7C15;
///
///     #[repr(C)]
///     #[derive(Clone, Copy, Debug, PartialEq)]
///     pub struct Row {
///         pub a: u32,
///         pub b: u32,
///     }
///
///     impl Row {
///         pub fn key(&self) -> u64 {
///             ((self.a as u64) << 32) | self.b as u64
///         }
///     }
///
///     fn mix(x: u64, k: u64) -> u64 {
///         (x ^ k).wrapping_mul(SCALE).rotate_left(17)
///     }
///
///     #[staged::specialize(k)]
///     pub fn hash_rows(rows: &[Row], k: u64) -> u64 {
///         rows.iter().fold(0u64, |h, r| h.wrapping_add(mix(r.key(), k)))
///     }
/// }
/// pub use kernels::{Row, hash_rows};
///
/// let rows = [Row { a: 1, b: 2 }, Row { a: 3, b: 4 }];
/// assert_eq!(hash_rows(&rows, 42), hash_rows::generic(&rows, 42));
/// ```
///
/// - **Items**: `fn` (generic ones too, as helpers), `const`, `static`
///   without interior mutability, `struct`, `enum`, `type`, `trait`,
///   `impl`, inline `mod` and `use` of `core`, `std` and the module's own
///   items (`self::…`); attributes and derives of `core`. Anything else (an
///   `extern crate`, a macro invocation, a `static mut`, a module in its own
///   file) is a compile error on it. Items keep their visibility. The rule
///   for `static`s holds at every depth, in nested modules and in the bodies
///   of helpers and methods too (the program and each run-time library hold
///   a copy of their own); only a `#[specialize]` function's own body keeps
///   its statics, one set per copy of the body, as for a function on its own.
/// - **Rules**: those of a run-time body, for the module as a whole: no
///   `crate::` or `super::` path out of it, no other crate's macro, no
///   `cfg` the run-time build does not share, no `Location::caller()`.
/// - **Types**: the module's `#[repr(C)]` structs and enums whose fields
///   cross (primitives, arrays, tuples, `Vec`, `String`, `Box`, `Option`,
///   other such types of the module) may appear in the parameters and
///   results of its run-time functions, by value, by reference, in slices,
///   arrays and the heap types; their sizes, alignments and field offsets
///   are compared before a variant is used.
/// - **`#[specialize]` functions** sit at the top of the module and get
///   their companion modules there (`kernels::hash_rows::specialized`).
///   Inside the module, such a function's name calls its generic body;
///   callers outside it get the dispatcher.
/// - **Cost**: the whole module is compiled into each run-time library;
///   what the variant does not use is left out of it by the linker.
pub use staged_macros::self_contained;

/// Marks a `for` loop over a specialized slice or array, in the body of a
/// `#[specialize]` function, to be unrolled in every variant: one copy of
/// the body per element, with the element and its index constants. The
/// generic body keeps the loop.
///
/// ```
/// #[staged::specialize(taps = [[1.0, 2.0, 1.0]], runtime = false)]
/// pub fn fir(xs: &[f64], taps: &[f64], out: &mut [f64]) {
///     for i in 0..out.len() {
///         let mut acc = 0.0;
///         #[staged::unroll]
///         for (j, t) in taps.iter().enumerate() {
///             acc += xs[i + j] * t;
///         }
///         out[i] = acc;
///     }
/// }
///
/// let mut out = [0.0; 2];
/// fir(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 1.0], &mut out); // the variant
/// assert_eq!(out, [8.0, 12.0]);
/// ```
///
/// The loop may be `for p in plan`, `for p in plan.iter()`,
/// `for (i, p) in plan.iter().enumerate()`, `for i in 0..plan.len()`, and
/// for an array by value `for x in array` (its elements must be `Copy`) or
/// `for x in &array`, where the value is a specialized parameter the body
/// does not bind again. `continue` and `break` keep their meaning.
///
/// `#[staged::unroll(pc)]` on a `while` or a `loop` that reads a
/// specialized program at the local index `pc` (`prog[pc]`) makes every
/// variant split on `pc`: one copy of the body per position of the
/// program, with `prog[pc]` a constant in each, so an interpreter becomes
/// the code of its program. Falling through to the next position stays
/// straight; a jump back to a position within 64 of the same group is a
/// direct branch (the program's loop is a loop of the variant); other jumps
/// go through a dispatch. The answer is the generic body's for every
/// program and input: jumps out of range, endless loops, `continue`,
/// `break` (with a value, in a `loop`), and bodies that move `pc`
/// themselves.
///
/// ```
/// #[staged::specialize(prog = [[3, 1, 2]], runtime = false)]
/// pub fn sum_skipping(prog: &[u8]) -> u32 {
///     let (mut pc, mut total) = (0usize, 0u32);
///     #[staged::unroll(pc)]
///     while pc < prog.len() {
///         total += u32::from(prog[pc]);
///         pc += 1 + usize::from(prog[pc] % 2); // odd values skip the next
///     }
///     total
/// }
///
/// assert_eq!(sum_skipping(&[3, 1, 2]), 5); // the variant
/// assert_eq!(sum_skipping(&[2, 2]), 4); // the generic body
/// ```
///
/// A variant that would make more than `STAGED_UNROLL_MAX` copies in all
/// (4096 by default; static variants always use 4096) keeps its loops, with
/// the value still a constant, and `stats().notes` says so. The marker is
/// an error anywhere else.
pub use staged_macros::unroll;

/// Evaluates `static` and `const` initializers on the build host and emits
/// their values as literals of the declared types.
///
/// ```
/// staged::const_init! {
///     // Helpers: visible to every initializer, not emitted.
///     fn crc_entry(i: u32) -> u32 {
///         let mut c = i;
///         for _ in 0..8 {
///             c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
///         }
///         c
///     }
///
///     /// CRC-32 lookup table, in read-only data.
///     pub static CRC32: [u32; 256] = std::array::from_fn(|i| crc_entry(i as u32));
///
///     /// A `Vec` on the build host, a `&'static [u32]` in the crate.
///     pub static PRIMES: &[u32] = (2u32..100)
///         .filter(|&n| (2..n).all(|d| n % d != 0))
///         .collect::<Vec<_>>();
///
///     /// Later initializers see earlier values.
///     pub const PRIME_SUM: u32 = PRIMES.iter().sum();
///
///     /// Needs the environment, which the build sandbox hides: computed on
///     /// first access at run time instead (and the build says so in a
///     /// warning), with the same type either way.
///     #[fallback(lazy)]
///     pub static HOME: &str = std::env::var("HOME").unwrap_or_default();
/// }
///
/// assert_eq!(CRC32[1], 0x7707_3096);
/// assert_eq!(PRIMES[..4], [2, 3, 5, 7]);
/// assert_eq!(PRIME_SUM, 1060);
/// let _: &staged::Staged<&str> = &HOME;
/// ```
///
/// - **Items**: `static` and `const` items are evaluated and emitted with
///   their attributes, docs and visibility; `fn`, `struct`, `enum`, `impl`,
///   `use`, `type`, `trait`, `mod` and `macro_rules!` items are helpers for
///   the initializers and are not emitted. Helpers do not see the items;
///   an initializer sees the items above it.
/// - **Types**: integers (with 128-bit; `usize`/`isize` values are checked
///   per `target_pointer_width`), `bool`, `char`, `f32`/`f64` (bit-exact),
///   arrays, tuples, `Option`, `&'static [T]` (from a `Vec<T>`, an array or
///   a slice) and `&'static str` (from a `String`), nested. Numeric arrays of
///   more than 256 numbers are emitted as one byte string per target
///   endianness, and outputs over 64 KiB go through a cache file and
///   `include_bytes!`, so a million-entry table compiles in well under a
///   second.
/// - **Files**: `include_bytes!`, `include_str!` and `include!` resolve next
///   to the invoking file, and the crate rebuilds when the file changes.
/// - **Sandbox**: each block is one program, built once by the crate's own
///   rustc and run in an empty directory with no environment, stdin closed,
///   a time limit: `STAGED_EVAL_TIMEOUT` seconds (120 by default), or
///   `#![eval_timeout = <seconds>]` at the top of the block, and a memory
///   limit: `STAGED_EVAL_MAX_MEMORY` bytes (1 GiB by default), which also
///   bounds the values it sends back, rendered.
/// - **Errors**: a panic, a compile error of the host program, a time-out,
///   an allocation past the memory limit or a value past it is a compile
///   error on the initializer (or on the exact token rustc points at),
///   unless the item is marked `#[fallback(lazy)]`: its type is then
///   [`Staged<T>`] either way, baked when evaluation succeeds, else
///   initialized on first access at run time.
/// - **Cache**: results are stored by content (the block's tokens, the
///   included files, the rustc version) under `STAGED_CACHE_DIR` (default
///   `~/.cache/staged`), so re-expanding an unchanged block takes
///   milliseconds.
///
/// For data that needs other crates (a parser among build-dependencies),
/// compute it in `build.rs` and write it with `staged_build::baked_file`,
/// which uses the same renderer.
pub use staged_macros::const_init;
pub use stats::{Origin, SiteStats};
