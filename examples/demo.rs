//! The README's demo: a power function whose exponent arrives at run time.
//!
//! `cargo run --release --example demo -- 13` (the exponent defaults to 13).
//!
//! It times the generic loop, builds the variant for that exponent (or loads
//! it from the disk cache: run the demo twice), and times the variant, the
//! way a user checks that specializing pays.

use std::hint::black_box;
use std::time::Instant;

use staged::specialize;

/// `x` to the power `n`, by repeated multiplication. Exponents 2, 3 and 4
/// get variants at compile time; any other one at run time.
#[specialize(n = [2, 3, 4])]
fn power(x: u64, n: u32) -> u64 {
    let mut p = 1u64;
    for _ in 0..n {
        p = p.wrapping_mul(x);
    }
    p
}

const CALLS: u64 = 20_000_000;

/// Nanoseconds per call of `f` over `CALLS` inputs, each depending on the
/// last result so that calls cannot overlap.
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
    let n: u32 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 13,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("usage: demo [EXPONENT]: {e}");
            std::process::exit(2);
        }
    };
    println!("power(x, n) with n = {n}, known only now\n");

    let generic = time(|x| power::generic(x, black_box(n)));
    println!("  generic body                {generic:>6.2} ns per call");

    let start = Instant::now();
    let variant = power::specialized(n);
    let latency = start.elapsed();
    let handle = match variant {
        Ok(h) => h,
        Err(e) => {
            println!(
                "  no variant ({e});\n  every call ran the generic body, with the same answers"
            );
            return;
        }
    };
    let how = match handle.origin() {
        staged::Origin::Static => "a static variant, compiled in",
        staged::Origin::Compiled => "built by rustc now",
        staged::Origin::Cached => "loaded from the disk cache",
        _ => "other",
    };
    println!(
        "  specialized({n})             {:>6.1} ms    {:?}: {how}",
        latency.as_secs_f64() * 1e3,
        handle.origin()
    );

    let specialized = time(|x| handle.call(x));
    println!(
        "  variant, through the handle {specialized:>6.2} ns per call  {:.1}x the generic body",
        generic / specialized
    );
    let dispatched = time(|x| power(x, black_box(n)));
    println!(
        "  power(x, {n}), the dispatcher {dispatched:>6.2} ns per call  {:.1}x",
        generic / dispatched
    );
    let calls_to_pay = latency.as_secs_f64() * 1e9 / (generic - specialized).max(1e-3);
    println!("\n  the build pays for itself after {calls_to_pay:.0} calls");
    for x in [0, 1, 3, u64::MAX] {
        assert_eq!(power(x, n), power::generic(x, n));
    }
    println!("  stats: {:?}", power::stats());
    if handle.origin() == staged::Origin::Compiled {
        println!("\n  run it again: the next process loads the variant from the disk cache");
    }
}
