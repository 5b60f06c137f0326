//! Programs as values, each against its generic body and the code a person
//! would write for the program, in one run:
//!
//! - `query_3_predicates_2M_rows`: `count` of a 3-predicate plan over 4
//!   columns of 2M rows (`#[staged::unroll]` over the plan);
//! - `stack_machine_loop_3000`: the stack machine of DESIGN.md running a
//!   counted loop of 3000 iterations (`#[staged::unroll(pc)]`);
//! - `straight_program`: straight-line programs of 10, 100 and 1000
//!   instructions on the same machine, generic against the variant;
//! - `bracket_machine`: a bracket-matching interpreter (a tape machine
//!   whose `[` and `]` scan the program for their partner in an inner loop
//!   that moves `pc`) running a 47-op program of nested loops, against the
//!   nested `while` loops a person writes for it;
//! - `build_*`: the cold build of a variant (rustc and load) for plans of
//!   100 and 1000 predicates and programs of 10, 100 and 1000 instructions,
//!   each a value never built before, beside a value of one instruction.
//!
//! `cargo bench -p staged-bench --bench programs`; quote medians as ratios
//! within one run.

#[path = "../../examples/kernels/mod.rs"]
mod kernels;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kernels::programs::*;
use staged::Origin;
use staged::runtime::{Config, Mode};

fn setup() {
    let store = std::env::temp_dir().join(format!("staged-bench-programs-{}", std::process::id()));
    std::fs::create_dir_all(&store).unwrap();
    let _ = std::process::Command::new("chmod")
        .arg("700")
        .arg(&store)
        .status();
    Config::from_env()
        .mode(Mode::Sync)
        .cache_dir(store.join("store"))
        .max_variants(4096)
        .install();
}

fn query(c: &mut Criterion) {
    setup();
    let data = columns(2_000_000);
    let cols: [&[i64]; 4] = [&data[0], &data[1], &data[2], &data[3]];
    let plan = default_plan();
    let h = count::specialized(&plan).unwrap();
    assert!(matches!(h.origin(), Origin::Compiled | Origin::Cached));
    let want = count::generic(&cols, &plan);
    assert_eq!((h.call(&cols), count_default_by_hand(&cols)), (want, want));
    let mut g = c.benchmark_group("query_3_predicates_2M_rows");
    g.sample_size(20);
    g.bench_function("generic", |b| {
        b.iter(|| count::generic(black_box(&cols), black_box(&plan)))
    });
    g.bench_function("variant", |b| b.iter(|| h.call(black_box(&cols))));
    g.bench_function("dispatcher", |b| {
        b.iter(|| count(black_box(&cols), black_box(&plan)))
    });
    g.bench_function("by_hand", |b| {
        b.iter(|| count_default_by_hand(black_box(&cols)))
    });
    g.finish();
}

fn stack_machine(c: &mut Criterion) {
    setup();
    let prog = loop_program();
    let h = run::specialized(&prog).unwrap();
    let x = 3000;
    assert_eq!(h.call(x), loop_by_hand(x));
    assert_eq!(run::generic(&prog, x), loop_by_hand(x));
    let mut g = c.benchmark_group("stack_machine_loop_3000");
    g.bench_function("generic", |b| {
        b.iter(|| run::generic(black_box(&prog), black_box(x)))
    });
    g.bench_function("variant", |b| b.iter(|| h.call(black_box(x))));
    g.bench_function("by_hand", |b| b.iter(|| loop_by_hand(black_box(x))));
    g.finish();
}

/// Straight-line programs of 10, 100 and 1000 instructions: what the
/// variant gains against the program's length.
fn straight(c: &mut Criterion) {
    setup();
    let mut g = c.benchmark_group("straight_program");
    for n in [10usize, 100, 1000] {
        let prog = straight_program(n, 42);
        let h = run::specialized(&prog).unwrap();
        assert_eq!(h.call(5), run::generic(&prog, 5));
        g.bench_function(format!("{n}_ops/generic"), |b| {
            b.iter(|| run::generic(black_box(&prog), black_box(5)))
        });
        g.bench_function(format!("{n}_ops/variant"), |b| {
            b.iter(|| h.call(black_box(5)))
        });
    }
    g.finish();
}

/// A number never used before, for values no build has seen.
fn fresh() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let salt = std::process::id() as u64 * 1_000_003;
    NEXT.fetch_add(1, Ordering::Relaxed) + salt
}

fn builds(c: &mut Criterion) {
    setup();
    // The support library, built once.
    run::specialized(&[Op::Push(1)]).unwrap();
    let mut g = c.benchmark_group("build");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(20));
    for n in [1usize, 10, 100, 1000] {
        g.bench_function(format!("program_{n}_ops"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let prog = straight_program(n, fresh());
                        let start = Instant::now();
                        let h = run::specialized(&prog).unwrap();
                        let took = start.elapsed();
                        assert_eq!(h.call(5), run::generic(&prog, 5));
                        took
                    })
                    .sum()
            })
        });
    }
    for n in [1usize, 100, 1000] {
        g.bench_function(format!("plan_{n}_predicates"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let k = fresh() as i64;
                        let plan: Vec<Pred> = (0..n as i64)
                            .map(|i| Pred::Between {
                                col: (i % 4) as u8,
                                lo: -k - i,
                                hi: k + i,
                            })
                            .collect();
                        let start = Instant::now();
                        count::specialized(&plan).unwrap();
                        start.elapsed()
                    })
                    .sum()
            })
        });
    }
    g.finish();
}

/// A tape machine whose brackets scan the program for their partner, as a
/// bracket-matching interpreter does: the scans are inner loops that move
/// `pc` themselves.
#[staged::self_contained]
mod tape {
    /// One instruction.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Op {
        /// Adds to the current cell.
        Add(i8),
        /// Moves the head (the tape is 16 cells, round).
        Move(i8),
        /// Jumps past the partner `Close` when the cell is zero.
        Open,
        /// Jumps back to the partner `Open` when the cell is not zero.
        Close,
    }

    /// Runs `prog` with `x` in the first cell; the first eight cells after.
    #[staged::specialize(prog)]
    pub fn run(prog: &[Op], x: u8) -> u64 {
        let mut tape = [0u8; 16];
        tape[0] = x;
        let mut at = 0usize;
        let mut pc = 0usize;
        #[staged::unroll(pc)]
        while pc < prog.len() {
            match prog[pc] {
                Op::Add(d) => tape[at] = tape[at].wrapping_add(d as u8),
                Op::Move(d) => at = at.wrapping_add_signed(d as isize) & 15,
                Op::Open => {
                    let mut depth = u32::from(tape[at] == 0);
                    while depth > 0 && pc + 1 < prog.len() {
                        pc += 1;
                        match prog[pc] {
                            Op::Open => depth += 1,
                            Op::Close => depth -= 1,
                            _ => {}
                        }
                    }
                }
                Op::Close => {
                    let mut depth = u32::from(tape[at] != 0);
                    while depth > 0 && pc > 0 {
                        pc -= 1;
                        match prog[pc] {
                            Op::Open => depth -= 1,
                            Op::Close => depth += 1,
                            _ => {}
                        }
                    }
                }
            }
            pc += 1;
        }
        u64::from_le_bytes([
            tape[0], tape[1], tape[2], tape[3], tape[4], tape[5], tape[6], tape[7],
        ])
    }
}

/// Tape-machine code, one instruction per character of `+-<>[]`.
fn tape_program(text: &str) -> Vec<tape::Op> {
    text.chars()
        .filter_map(|c| match c {
            '+' => Some(tape::Op::Add(1)),
            '-' => Some(tape::Op::Add(-1)),
            '>' => Some(tape::Op::Move(1)),
            '<' => Some(tape::Op::Move(-1)),
            '[' => Some(tape::Op::Open),
            ']' => Some(tape::Op::Close),
            _ => None,
        })
        .collect()
}

/// Copies the first cell to the second through the third, then adds 12
/// times the second to the first, through two nested loops.
const TAPE_PROGRAM: &str = "[->+>+<<]>>[-<<+>>]<[->+++[->++++<]>[-<<<+>>>]<<]";

/// [`TAPE_PROGRAM`] as a person writes it: one `while` per bracket pair.
fn tape_by_hand(x: u8) -> u64 {
    let mut t = [0u8; 16];
    t[0] = x;
    while t[0] != 0 {
        t[0] = t[0].wrapping_sub(1);
        t[1] = t[1].wrapping_add(1);
        t[2] = t[2].wrapping_add(1);
    }
    while t[2] != 0 {
        t[2] = t[2].wrapping_sub(1);
        t[0] = t[0].wrapping_add(1);
    }
    while t[1] != 0 {
        t[1] = t[1].wrapping_sub(1);
        t[2] = t[2].wrapping_add(3);
        while t[2] != 0 {
            t[2] = t[2].wrapping_sub(1);
            t[3] = t[3].wrapping_add(4);
        }
        while t[3] != 0 {
            t[3] = t[3].wrapping_sub(1);
            t[0] = t[0].wrapping_add(1);
        }
    }
    u64::from_le_bytes([t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]])
}

fn bracket_machine(c: &mut Criterion) {
    setup();
    let prog = tape_program(TAPE_PROGRAM);
    let h = tape::run::specialized(&prog).unwrap();
    for x in 0..=255u8 {
        let want = tape::run::generic(&prog, x);
        assert_eq!((h.call(x), tape_by_hand(x)), (want, want), "x = {x}");
    }
    let mut g = c.benchmark_group("bracket_machine");
    // Every input in turn: the loops run from 0 to 255 times.
    g.bench_function("generic", |b| {
        b.iter(|| (0..=255u8).fold(0, |a, x| a ^ tape::run::generic(black_box(&prog), x)))
    });
    g.bench_function("variant", |b| {
        b.iter(|| (0..=255u8).fold(0, |a, x| a ^ h.call(black_box(x))))
    });
    g.bench_function("by_hand", |b| {
        b.iter(|| (0..=255u8).fold(0, |a, x| a ^ tape_by_hand(black_box(x))))
    });
    g.finish();
}

criterion_group!(
    benches,
    query,
    stack_machine,
    straight,
    bracket_machine,
    builds
);
criterion_main!(benches);
