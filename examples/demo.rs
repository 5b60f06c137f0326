//! The README's demo: values that arrive at run time, specialized then.
//!
//! `cargo run --release --example demo -- 13` (the exponent defaults to 13).
//!
//! 1. The original experiment: a power function whose exponent arrives at
//!    run time. The generic loop, the build of the variant (or its load from
//!    the disk cache: run the demo twice), the variant, and a second process
//!    loading it from the disk cache.
//! 2. A divisor read at run time: division becomes multiply-and-shift.
//! 3. A query parsed at run time: its operators and constants fold into the
//!    filter, which then vectorizes.
//! 4. The same query over the program's own rows, with a kernel that calls
//!    helpers: a `#[staged::self_contained]` module travels into the build.
#![allow(clippy::disallowed_methods)] // the child process is told so through the environment

mod kernels;

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

/// A table's rows and a filter over them, kept together so that the
/// filter's run-time variants can use the module's helpers and row type.
#[staged::self_contained]
mod table {
    /// Comparison operators of a query.
    pub const LT: u8 = 0;
    /// `>`.
    pub const GT: u8 = 1;
    /// `==`.
    pub const EQ: u8 = 2;

    /// A row of the table.
    #[repr(C)]
    #[derive(Clone, Copy, Debug)]
    pub struct Row {
        pub a: u32,
        pub b: u32,
        pub price: u32,
    }

    fn test(x: u32, op: u8, k: u32) -> bool {
        match op {
            LT => x < k,
            GT => x > k,
            _ => x == k,
        }
    }

    /// The total price of the rows where `a op_a k_a and b op_b k_b`.
    #[staged::specialize(op_a, k_a, op_b, k_b)]
    pub fn total(rows: &[Row], op_a: u8, k_a: u32, op_b: u8, k_b: u32) -> u64 {
        rows.iter()
            .filter(|r| test(r.a, op_a, k_a) && test(r.b, op_b, k_b))
            .map(|r| u64::from(r.price))
            .sum()
    }
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

fn main() {
    let n: u32 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 13,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("usage: demo [EXPONENT]: {e}");
            std::process::exit(2);
        }
    };
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

    let query = "a > 500000000 and b < 3000000000";
    let ((op_a, k_a), (op_b, k_b)) = parse(query);
    println!("\n3. count the rows of 1M where `{query}`, parsed at run time");
    let a: Vec<u32> = xs.iter().map(|&x| x as u32).collect();
    let b: Vec<u32> = xs.iter().map(|&x| (x >> 32) as u32).collect();
    let h = kernels::count_where_rt::specialized(op_a, k_a, op_b, k_b).expect("a variant");
    let matches = kernels::count_where_rt::generic(&a, &b, op_a, k_a, op_b, k_b);
    assert_eq!(h.call(&a, &b), matches);
    let generic = ms(|| kernels::count_where_rt::generic(&a, &b, op_a, k_a, op_b, k_b));
    let variant = ms(|| h.call(&a, &b));
    println!("   generic (interprets the operators) {generic:>6.3} ms");
    println!(
        "   the variant (operators folded)     {variant:>6.3} ms  {:.1}x, {matches} rows",
        generic / variant
    );

    println!("\n4. the same query over 1M rows of the program's own type, through a helper");
    let rows: Vec<table::Row> = xs
        .iter()
        .map(|&x| table::Row {
            a: x as u32,
            b: (x >> 32) as u32,
            price: (x % 1000) as u32,
        })
        .collect();
    let op = |o: u8| match o {
        kernels::LT => table::LT,
        kernels::GT => table::GT,
        _ => table::EQ,
    };
    let (op_a, op_b) = (op(op_a), op(op_b));
    let h = table::total::specialized(op_a, k_a, op_b, k_b).expect("a variant");
    let sum = table::total::generic(&rows, op_a, k_a, op_b, k_b);
    assert_eq!(h.call(&rows), sum);
    let generic = ms(|| table::total::generic(&rows, op_a, k_a, op_b, k_b));
    let variant = ms(|| h.call(&rows));
    println!("   generic (calls the helper)         {generic:>6.3} ms");
    println!(
        "   the variant (module built with it) {variant:>6.3} ms  {:.1}x, total {sum}",
        generic / variant
    );
    println!("\nstats of power: {:?}", power::stats());
}

/// `a OP k and b OP k`, with `<`, `>` or `==`.
fn parse(query: &str) -> ((u8, u32), (u8, u32)) {
    let term = |t: &str| {
        let parts: Vec<&str> = t.split_whitespace().collect();
        let op = match parts[1] {
            "<" => kernels::LT,
            ">" => kernels::GT,
            _ => kernels::EQ,
        };
        (op, parts[2].parse().expect("a number"))
    };
    let (left, right) = query.split_once(" and ").expect("two terms");
    (term(left), term(right))
}
