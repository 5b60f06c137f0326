//! Attacks on what staged promises: never a wrong answer, never a crash or
//! a hang, never code someone else wrote. Each test is an attack that
//! broke an invariant of the design (issue 8), named after it, and failed
//! before its fix:
//!
//! - `trust/store.rs`: the disk cache and the loader (another user owning a
//!   directory above the cache, directories swapped during a build, FIFOs,
//!   closed descriptors, an index naming another value's library);
//! - `trust/answers.rs`: one answer at every stage (overflow checks of the
//!   defining crate, refused flags, captured names, output, the process
//!   state of a variant, target features, settings out of range, fork,
//!   panic payloads, lifetimes, counters);
//! - `trust/isolation.rs`: bodies the isolation rules must refuse (`cfg!`
//!   spelled by a macro, interior-mutable statics below the top of a
//!   module, `Location::caller()` however spelled), each a crate of its own
//!   built with cargo;
//! - `trust/eval.rs`: the `const_init!` evaluator's sandbox;
//! - `trust/cli.rs`: the `staged` command on directories that are not
//!   stores, and on stores that hold a user's files (issue 18);
//! - `trust/heap.rs`: heap memory across the boundary, under a program's
//!   own global allocator (which this whole binary uses);
//! - `trust/processes.rs`: the processes of a build (a wrapper's children
//!   at the time limit, builds of many short processes at once; issue 18).
//!
//! Two attacks need a crate of their own and live with it:
//! `tests/fixtures/hardened` (a hardened profile's overflow checks, driven
//! from `trust/answers.rs`) and `tests/fixtures/renamed` (staged depended
//! on under another name; its own test builds every stage).
//!
//! Scenarios that need their own settings run in a child process (this
//! binary again, see `common/child.rs`), with a time limit; a second local
//! user is created where an attack needs one (the tests run as root in CI).
#![allow(clippy::disallowed_methods)] // scenarios reach the children through the environment

#[path = "trust/answers.rs"]
mod answers;
#[path = "common/child.rs"]
mod child;
#[path = "trust/cli.rs"]
mod cli;
#[path = "trust/eval.rs"]
mod eval;
#[path = "trust/heap.rs"]
mod heap;
#[path = "trust/isolation.rs"]
mod isolation;
#[path = "trust/processes.rs"]
mod processes;
#[path = "trust/scenarios.rs"]
mod scenarios;
#[path = "trust/store.rs"]
mod store;

/// The entry of every child: does what `STAGED_TEST_SCENARIO` names. It is
/// ignored in a normal run, where it would have nothing to do.
#[test]
#[ignore = "run by the other tests in a child process"]
fn child_entry() {
    let scenario = std::env::var(child::SCENARIO)
        .expect("child_entry runs only as a child of the trust tests");
    scenarios::run(&scenario);
}
