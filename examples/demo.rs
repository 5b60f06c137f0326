//! The README's demo: values that arrive at run time, specialized then.
//!
//! `cargo run --release --example demo -- 13 "a between 100 900, b mod 7 3, c lt 500"`
//! (the exponent defaults to 13, the query plan to that one).
//!
//! 1. The original experiment: a power function whose exponent arrives at
//!    run time. The generic loop, the build of the variant (or its load from
//!    the disk cache: run the demo twice), the variant, and a second process
//!    loading it from the disk cache.
//! 2. A divisor read at run time: division becomes multiply-and-shift.
//! 3. The case staged exists for: a query plan that arrives on the command
//!    line, as data (`&[Pred]`), run by one filter function over four
//!    columns of 2M rows. Its variant has one copy of the test per
//!    predicate (`#[staged::unroll]`), constants in place: the code a
//!    person would write for that query, beside which it is timed.
//! 4. A bytecode with a loop, run by the stack machine of DESIGN.md: its
//!    variant (`#[staged::unroll(pc)]`) is the program's own loop, beside
//!    the same loop written by hand.
#![allow(clippy::disallowed_methods)] // the child process is told so through the environment

mod kernels;

use kernels::programs;

use std::hint::black_box;
use std::time::Instant;

use staged::{Origin, specialize};

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

const CHILD: &str = "STAGED_DEMO_CHILD";

/// Nanoseconds per call of `f`, each call depending on the last result so
/// that calls cannot overlap.
fn per_call(f: impl Fn(u64) -> u64) -> f64 {
    const CALLS: u64 = 10_000_000;
    let start = Instant::now();
    let mut acc = 0u64;
    for x in 0..CALLS {
        acc = f(black_box(x ^ (acc & 1)));
    }
    black_box(acc);
    start.elapsed().as_secs_f64() * 1e9 / CALLS as f64
}

/// Median milliseconds of `f` over 11 runs.
fn ms<T>(mut f: impl FnMut() -> T) -> f64 {
    let mut runs: Vec<f64> = (0..11)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[5]
}

fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Static => "a static variant, compiled in",
        Origin::Compiled => "built by rustc just now",
        Origin::Cached => "loaded from the disk cache",
        Origin::Bundled => "loaded from a bundle",
        _ => "",
    }
}

const DEFAULT_PLAN: &str = "a between 100 900, b mod 7 3, c lt 500";

fn main() {
    let usage = |e: &dyn std::fmt::Display| -> ! {
        eprintln!("usage: demo [EXPONENT] [PLAN, as in \"{DEFAULT_PLAN}\"]: {e}");
        std::process::exit(2);
    };
    let n: u32 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 13,
        Some(Ok(n)) => n,
        Some(Err(e)) => usage(&e),
    };
    let plan_text = std::env::args()
        .nth(2)
        .unwrap_or_else(|| DEFAULT_PLAN.to_owned());
    let plan = programs::parse_plan(&plan_text).unwrap_or_else(|e| usage(&e));
    if std::env::var(CHILD).is_ok() {
        let start = Instant::now();
        let h = power::specialized(n);
        let took = start.elapsed().as_secs_f64() * 1e3;
        match h {
            Ok(h) => println!("{took:>7.2} ms     {}", origin(h.origin())),
            Err(e) => println!("no variant: {e}"),
        }
        return;
    }

    println!("1. power(x, n) with n = {n}, known only now");
    let generic = per_call(|x| power::generic(x, black_box(n)));
    println!("   generic loop                  {generic:>7.2} ns per call");
    let start = Instant::now();
    let handle = match power::specialized(n) {
        Ok(h) => h,
        Err(e) => {
            println!(
                "   no variant ({e})\n   every call ran the generic body, with the same answers"
            );
            return;
        }
    };
    let latency = start.elapsed().as_secs_f64() * 1e3;
    println!(
        "   specialized({n})              {latency:>7.1} ms     {}",
        origin(handle.origin())
    );
    let variant = per_call(|x| handle.call(x));
    let dispatched = per_call(|x| power(x, black_box(n)));
    println!(
        "   the variant                   {variant:>7.2} ns per call  {:.1}x",
        generic / variant
    );
    println!(
        "   power(x, {n}), dispatched       {dispatched:>7.2} ns per call  {:.1}x",
        generic / dispatched
    );
    let second = std::process::Command::new(std::env::current_exe().expect("this program"))
        .arg(n.to_string())
        .env(CHILD, "1")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|e| format!("could not start: {e}"));
    println!("   in a second process           {second}");

    let xs = kernels::data(1 << 20);
    let h = kernels::power_sum_rt::specialized(n).expect("a variant");
    assert_eq!(h.call(&xs), kernels::power_sum_rt::generic(&xs, n));
    let (generic, variant) = (
        ms(|| kernels::power_sum_rt::generic(&xs, n)),
        ms(|| h.call(&xs)),
    );
    println!(
        "   over a slice of 1M (the variant vectorizes): {generic:.2} ms -> {variant:.2} ms, {:.1}x",
        generic / variant
    );

    let d: u64 = black_box(7);
    println!("\n2. sum of x / d over 1M u64, d = {d} read at run time");
    let h = kernels::div_sum_rt::specialized(d).expect("a variant");
    assert_eq!(h.call(&xs), kernels::div_sum_rt::generic(&xs, d));
    let (generic, variant) = (
        ms(|| kernels::div_sum_rt::generic(&xs, d)),
        ms(|| h.call(&xs)),
    );
    println!("   generic (a divide per element)  {generic:>6.2} ms");
    println!(
        "   the variant (multiply-and-shift) {variant:>5.2} ms  {:.1}x",
        generic / variant
    );

    println!("\n3. a query plan, given as data: `{plan_text}`");
    let data = programs::columns(2_000_000);
    let cols: [&[i64]; 4] = [&data[0], &data[1], &data[2], &data[3]];
    let start = Instant::now();
    let h = programs::count::specialized(&plan).expect("a variant");
    let latency = start.elapsed().as_secs_f64() * 1e3;
    let rows = programs::count::generic(&cols, &plan);
    assert_eq!(h.call(&cols), rows);
    let generic = ms(|| programs::count::generic(&cols, &plan));
    let variant = ms(|| h.call(&cols));
    println!(
        "   specialized(&plan)                 {latency:>7.1} ms     {}",
        origin(h.origin())
    );
    println!("   generic (walks the plan per row)   {generic:>7.2} ms");
    println!(
        "   the variant (one test per predicate) {variant:>5.2} ms  {:.1}x, {rows} rows of 2M",
        generic / variant
    );
    if plan == programs::default_plan() {
        let by_hand = ms(|| programs::count_default_by_hand(&cols));
        println!(
            "   written by hand for this plan      {by_hand:>7.2} ms  (the variant takes {:.2}x its time)",
            variant / by_hand
        );
    }

    let x: i64 = black_box(3000);
    let prog = programs::loop_program();
    println!(
        "\n4. a bytecode with a loop ({} instructions: acc = acc * 3 + 1, {x} times), run by a stack machine",
        prog.len()
    );
    let start = Instant::now();
    let h = programs::run::specialized(&prog).expect("a variant");
    let latency = start.elapsed().as_secs_f64() * 1e3;
    assert_eq!(h.call(x), programs::loop_by_hand(x));
    assert_eq!(programs::run::generic(&prog, x), programs::loop_by_hand(x));
    let us = |f: &dyn Fn() -> i64| {
        let mut runs: Vec<f64> = (0..101)
            .map(|_| {
                let start = Instant::now();
                black_box(f());
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        runs.sort_by(f64::total_cmp);
        runs[50]
    };
    let generic = us(&|| programs::run::generic(black_box(&prog), black_box(x)));
    let variant = us(&|| h.call(black_box(x)));
    let by_hand = us(&|| programs::loop_by_hand(black_box(x)));
    println!(
        "   specialized(&prog)                 {latency:>7.1} ms     {}",
        origin(h.origin())
    );
    println!("   generic (an interpreter loop)      {generic:>7.2} µs");
    println!(
        "   the variant (the program's loop)   {variant:>7.2} µs  {:.1}x",
        generic / variant
    );
    println!(
        "   written by hand                    {by_hand:>7.2} µs  (the variant takes {:.2}x its time)",
        variant / by_hand
    );
    println!("\nstats of power: {:?}", power::stats());
}
