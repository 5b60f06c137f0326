//! Interpreters specialized on their program with `#[staged::unroll(pc)]`:
//! for random programs (jumps back and forward, in and out of range,
//! endless loops cut by fuel, a body that moves `pc` itself in an inner
//! scan, `continue` and `break`, stack underflow and overflow) and random
//! inputs, the dispatcher, a handle on the variant and the generic body
//! give one answer, and panic where the generic body panics.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use staged::Origin;
use staged::runtime::{Config, Mode};

fn setup() {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        let store = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("staged-store");
        Config::from_env()
            .mode(Mode::Sync)
            .cache_dir(store)
            .install();
        // Stack underflows and overflows are answers here.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or_default();
            if !(message.contains("overflow") || message.contains("out of bounds")) {
                previous(info);
            }
        }));
    });
}

#[staged::self_contained]
mod vm {
    /// A stack machine's instructions.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Op {
        Push(i64),
        Add,
        Mul,
        Dup,
        Swap,
        Dec,
        Drop,
        /// Pops; jumps to the target when the value was zero.
        JumpIfZero(u32),
        Jump(u32),
        /// Moves forward to the next `Mark` (or past the end), the way a
        /// bracket-matching interpreter scans its program.
        SkipToMark,
        Mark,
        /// Leaves the loop.
        Halt,
    }

    /// Runs `prog` on `x` with `fuel` steps at most (an endless program
    /// ends when the fuel does).
    #[staged::specialize(prog = [[Op::Push(2), Op::Mul], [Op::Dup, Op::JumpIfZero(4), Op::Dec, Op::Jump(0), Op::Push(7)]])]
    pub fn run(prog: &[Op], x: i64, fuel: u32) -> (i64, usize, u32) {
        let mut stack = [0i64; 8];
        let mut sp = 1;
        stack[0] = x;
        let mut pc = 0usize;
        let mut left = fuel;
        #[staged::unroll(pc)]
        while pc < prog.len() {
            if left == 0 {
                break;
            }
            left -= 1;
            match prog[pc] {
                Op::JumpIfZero(t) => {
                    sp -= 1;
                    pc = if stack[sp] == 0 { t as usize } else { pc + 1 };
                    continue;
                }
                Op::Jump(t) => {
                    pc = t as usize;
                    continue;
                }
                Op::SkipToMark => {
                    pc += 1;
                    while pc < prog.len() && !matches!(prog[pc], Op::Mark) {
                        pc += 1;
                    }
                    continue;
                }
                Op::Halt => break,
                op => step(op, &mut stack, &mut sp),
            }
            pc += 1;
        }
        (stack[sp - 1], pc, left)
    }

    /// The same machine as a `loop` that yields its answer by `break`.
    #[staged::specialize(prog)]
    pub fn run_loop(prog: &[Op], x: i64) -> i64 {
        let mut stack = [0i64; 8];
        let mut sp = 1;
        stack[0] = x;
        let mut pc = 0usize;
        let mut fuel = 200u32;
        #[staged::unroll(pc)]
        loop {
            if pc >= prog.len() || fuel == 0 {
                break stack[sp - 1];
            }
            fuel -= 1;
            match prog[pc] {
                Op::JumpIfZero(t) => {
                    sp -= 1;
                    if stack[sp] == 0 {
                        pc = t as usize;
                        continue;
                    }
                }
                Op::Jump(t) => {
                    pc = t as usize;
                    continue;
                }
                Op::Halt => break -1,
                Op::SkipToMark | Op::Mark => {}
                op => step(op, &mut stack, &mut sp),
            }
            pc += 1;
        }
    }

    fn step(op: Op, stack: &mut [i64; 8], sp: &mut usize) {
        match op {
            Op::Push(v) => {
                stack[*sp] = v;
                *sp += 1;
            }
            Op::Add => {
                *sp -= 1;
                stack[*sp - 1] = stack[*sp - 1].wrapping_add(stack[*sp]);
            }
            Op::Mul => {
                *sp -= 1;
                stack[*sp - 1] = stack[*sp - 1].wrapping_mul(stack[*sp]);
            }
            Op::Dup => {
                stack[*sp] = stack[*sp - 1];
                *sp += 1;
            }
            Op::Swap => stack.swap(*sp - 1, *sp - 2),
            Op::Dec => stack[*sp - 1] = stack[*sp - 1].wrapping_sub(1),
            Op::Drop => *sp -= 1,
            _ => {}
        }
    }
}

use vm::{Op, run, run_loop};

/// Ops whose jump targets reach a little past a program of `len`.
fn op(len: u32) -> impl Strategy<Value = Op> + Clone {
    prop_oneof![
        3 => (-5i64..5).prop_map(Op::Push),
        1 => Just(Op::Add),
        1 => Just(Op::Mul),
        2 => Just(Op::Dup),
        1 => Just(Op::Swap),
        2 => Just(Op::Dec),
        1 => Just(Op::Drop),
        2 => (0..len + 3).prop_map(Op::JumpIfZero),
        1 => (0..len + 3).prop_map(Op::Jump),
        1 => Just(Op::SkipToMark),
        1 => Just(Op::Mark),
        1 => Just(Op::Halt),
    ]
}

fn program() -> impl Strategy<Value = Vec<Op>> + Clone {
    (0u32..14).prop_flat_map(|len| prop::collection::vec(op(len.max(1)), len as usize))
}

fn outcome<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    })
}

/// `n` distinct programs, after `extra`.
fn draw(n: usize, extra: &[Vec<Op>]) -> Vec<Vec<Op>> {
    let mut runner = TestRunner::default();
    let mut values: Vec<Vec<Op>> = extra.to_vec();
    while values.len() < n + extra.len() {
        let v = program().new_tree(&mut runner).expect("a value").current();
        if !values.contains(&v) {
            values.push(v);
        }
    }
    values
}

#[test]
fn random_programs_agree_at_every_stage() {
    setup();
    let listed = vec![
        vec![Op::Push(2), Op::Mul],
        vec![
            Op::Dup,
            Op::JumpIfZero(4),
            Op::Dec,
            Op::Jump(0),
            Op::Push(7),
        ],
    ];
    // A counted loop, one that never ends, one that jumps out of range,
    // one that scans for a mark: beside random ones.
    let shaped = vec![
        vec![
            Op::Push(0),
            Op::Swap,
            Op::Dup,
            Op::JumpIfZero(11),
            Op::Swap,
            Op::Push(3),
            Op::Add,
            Op::Swap,
            Op::Dec,
            Op::Jump(2),
            Op::Push(0),
            Op::Swap,
        ],
        vec![Op::Jump(0)],
        vec![Op::Dup, Op::JumpIfZero(40), Op::Push(1), Op::Add],
        vec![
            Op::SkipToMark,
            Op::Push(9),
            Op::Mark,
            Op::Push(1),
            Op::SkipToMark,
            Op::Dec,
        ],
        Vec::new(),
    ];
    let mut extra = listed.clone();
    extra.extend(shaped);
    let programs = draw(12, &extra);
    run::prepare(programs[2..].iter().map(Vec::as_slice)).unwrap();
    run_loop::prepare(programs.iter().map(Vec::as_slice)).unwrap();
    for (i, prog) in programs.iter().enumerate() {
        let h = run::specialized(prog).unwrap();
        if i < 2 {
            assert_eq!(h.origin(), Origin::Static);
        } else {
            assert!(
                matches!(h.origin(), Origin::Compiled | Origin::Cached),
                "{prog:?}"
            );
        }
        let l = run_loop::specialized(prog).unwrap();
        let mut runner = TestRunner::new(ProptestConfig {
            cases: 40,
            ..ProptestConfig::default()
        });
        runner
            .run(&(-20i64..20, 0u32..120), |(x, fuel)| {
                let want = outcome(|| run::generic(prog, x, fuel));
                prop_assert_eq!(&outcome(|| h.call(x, fuel)), &want, "{:?}", prog);
                prop_assert_eq!(&outcome(|| run(prog, x, fuel)), &want);
                let want = outcome(|| run_loop::generic(prog, x));
                prop_assert_eq!(&outcome(|| l.call(x)), &want, "{:?}", prog);
                prop_assert_eq!(&outcome(|| run_loop(prog, x)), &want);
                Ok(())
            })
            .unwrap();
    }
    assert_eq!(run::stats().failed, 0, "{:?}", run::stats());
    assert_eq!(run_loop::stats().failed, 0, "{:?}", run_loop::stats());
}

/// Programs longer than a group of positions: jumps across groups go
/// through the dispatch, and the answers stay the generic body's.
#[test]
fn programs_longer_than_a_group_agree() {
    setup();
    // A loop whose back-edge crosses from the third group to the first.
    let mut prog = vec![Op::Push(0), Op::Swap, Op::Dup, Op::JumpIfZero(200)];
    prog.extend(std::iter::repeat_n(Op::Mark, 150));
    prog.extend([
        Op::Swap,
        Op::Push(3),
        Op::Add,
        Op::Swap,
        Op::Dec,
        Op::Jump(2),
    ]);
    let h = run::specialized(&prog).unwrap();
    for x in 0..20 {
        assert_eq!(h.call(x, 10_000), run::generic(&prog, x, 10_000), "x = {x}");
    }
    let l = run_loop::specialized(&prog).unwrap();
    for x in 0..5 {
        assert_eq!(l.call(x), run_loop::generic(&prog, x), "x = {x}");
    }
}

/// A program of more positions than `STAGED_UNROLL_MAX` (4096): the
/// variant keeps the interpreter's loop, with the program a constant, and
/// says so in `stats().notes`.
#[test]
fn programs_past_the_copy_limit_keep_their_loop() {
    setup();
    let mut prog = vec![Op::Mark; 5000];
    prog.extend([Op::Push(1), Op::Add]);
    let h = run_loop::specialized(&prog).unwrap();
    assert!(matches!(h.origin(), Origin::Compiled | Origin::Cached));
    for x in [0, 5, -3] {
        assert_eq!(h.call(x), run_loop::generic(&prog, x));
    }
    let notes = run_loop::stats().notes.unwrap_or_default();
    assert!(notes.contains("STAGED_UNROLL_MAX"), "{notes}");
}
