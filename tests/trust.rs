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
//!   module), each a crate of its own built with cargo;
//! - `trust/eval.rs`: the `const_init!` evaluator's sandbox.
//!
//! Scenarios that need their own settings run in a child process (this
//! binary again, see `common/child.rs`), with a time limit; a second local
//! user is created where an attack needs one (the tests run as root in CI).
#![allow(clippy::disallowed_methods)] // scenarios reach the children through the environment

#[path = "trust/answers.rs"]
mod answers;
#[path = "common/child.rs"]
mod child;
#[path = "trust/eval.rs"]
mod eval;
#[path = "trust/isolation.rs"]
mod isolation;
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
