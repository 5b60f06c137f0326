//! The README's demo: a power function whose exponent arrives late.
//!
//! `cargo run --release --example demo -- 13` (the exponent defaults to 13).
//!
//! Exponents listed in `#[specialize]` get a variant at compile time; the
//! demo times the generic loop against them, then shows what happens to an
//! exponent that only arrives at run time.

use std::hint::black_box;
use std::time::Instant;

use staged::specialize;

/// `x` to the power `n`, by repeated multiplication.
#[specialize(n = [2, 3, 4, 8, 16])]
fn power(x: u64, n: u32) -> u64 {
    let mut p = 1u64;
    for _ in 0..n {
        p = p.wrapping_mul(x);
    }
    p
}

const CALLS: u64 = 20_000_000;

/// Runs `f` over `CALLS` inputs, each depending on the last result so that
/// calls cannot overlap, and returns nanoseconds per call.
fn time(f: impl Fn(u64) -> u64) -> f64 {
    let start = Instant::now();
    let mut acc = 0u64;
    for x in 0..CALLS {
        acc = f(black_box(x ^ (acc & 1)));
    }
    black_box(acc);
    start.elapsed().as_secs_f64() * 1e9 / CALLS as f64
}

fn main() {
    let late: u32 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 13,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("usage: demo [EXPONENT]: {e}");
            std::process::exit(2);
        }
    };

    println!("stage 1: exponents listed in #[specialize(n = [2, 3, 4, 8, 16])]");
    let n = black_box(16);
    let generic = time(|x| power::generic(x, n));
    let handle = power::specialized(16).expect("16 is listed");
    let specialized = time(|x| handle.call(x));
    let dispatched = time(|x| power(x, 16));
    println!("  power::generic(x, 16)          {generic:>6.2} ns per call");
    println!(
        "  power::specialized(16).call(x) {specialized:>6.2} ns per call  ({:?}, {:.1}x)",
        handle.origin(),
        ratio(generic, specialized)
    );
    println!(
        "  power(x, 16), constant n       {dispatched:>6.2} ns per call  (the match folds, {:.1}x)",
        ratio(generic, dispatched)
    );

    println!("\nan exponent known only at run time: n = {late}");
    let n = black_box(late);
    let generic = time(|x| power(x, n));
    println!("  power(x, {late})                   {generic:>6.2} ns per call");
    match power::specialized(late) {
        Ok(h) => println!("  variant ready: {:?}", h.origin()),
        Err(e) => println!("  no variant: {e}\n  (the generic body answered every call)"),
    }
    let stats = power::stats();
    println!("  stats: {stats:?}");
    assert_eq!(power(3, late), power::generic(3, late));
}

fn ratio(slow: f64, fast: f64) -> f64 {
    slow / fast.max(1e-3)
}
