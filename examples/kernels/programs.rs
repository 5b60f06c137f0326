//! Programs as values: a query plan over columns, and a bytecode with
//! loops, each interpreted by one function specialized on the program, and
//! written by hand for the programs the demo and the benches use.
#![allow(dead_code)] // each user takes the kernels it needs

/// A conjunctive filter over four columns: one copy of the test per
/// predicate of the plan.
#[staged::self_contained]
pub mod query {
    /// A predicate on one column.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Pred {
        /// `lo <= col <= hi`.
        Between { col: u8, lo: i64, hi: i64 },
        /// `col % m == r` (`m = 0` panics, as `%` does).
        ModEq { col: u8, m: i64, r: i64 },
        /// `col < than`.
        Less { col: u8, than: i64 },
    }

    /// The number of rows passing every predicate of `plan`.
    #[staged::specialize(plan)]
    #[allow(clippy::needless_range_loop)] // a row is the same index in every column
    pub fn count(cols: &[&[i64]; 4], plan: &[Pred]) -> u64 {
        let rows = cols[0].len();
        let mut n = 0;
        for i in 0..rows {
            let mut keep = true;
            #[staged::unroll]
            for p in plan {
                keep &= match *p {
                    Pred::Between { col, lo, hi } => (lo..=hi).contains(&cols[col as usize][i]),
                    Pred::ModEq { col, m, r } => cols[col as usize][i] % m == r,
                    Pred::Less { col, than } => cols[col as usize][i] < than,
                };
            }
            n += keep as u64;
        }
        n
    }
}

#[allow(unused_imports)] // the demo and the benches each take some
pub use query::{Pred, count};

/// The plan the benches and the demo run by default:
/// `a BETWEEN 100 AND 900 AND b % 7 = 3 AND c < 500`.
pub fn default_plan() -> Vec<Pred> {
    vec![
        Pred::Between {
            col: 0,
            lo: 100,
            hi: 900,
        },
        Pred::ModEq { col: 1, m: 7, r: 3 },
        Pred::Less { col: 2, than: 500 },
    ]
}

/// `count` of [`default_plan`], as a person would write it for that query:
/// the same loop, the same checks, the constants in place.
#[allow(clippy::needless_range_loop)] // as `count` is written
pub fn count_default_by_hand(cols: &[&[i64]; 4]) -> u64 {
    let rows = cols[0].len();
    let mut n = 0;
    for i in 0..rows {
        let keep = (100..=900).contains(&cols[0][i]) & (cols[1][i] % 7 == 3) & (cols[2][i] < 500);
        n += keep as u64;
    }
    n
}

/// Reads a plan written as `a between 100 900, b mod 7 3, c lt 500`
/// (columns `a` to `d`).
pub fn parse_plan(text: &str) -> Result<Vec<Pred>, String> {
    text.split(',')
        .map(|p| {
            let words: Vec<&str> = p.split_whitespace().collect();
            let col = |w: &str| match w {
                "a" => Ok(0u8),
                "b" => Ok(1),
                "c" => Ok(2),
                "d" => Ok(3),
                other => Err(format!("no column `{other}`; the columns are a, b, c, d")),
            };
            let num = |w: &str| {
                w.parse::<i64>()
                    .map_err(|_| format!("`{w}` is not a number"))
            };
            match words.as_slice() {
                [c, "between", lo, hi] => Ok(Pred::Between {
                    col: col(c)?,
                    lo: num(lo)?,
                    hi: num(hi)?,
                }),
                [c, "mod", m, r] => Ok(Pred::ModEq {
                    col: col(c)?,
                    m: num(m)?,
                    r: num(r)?,
                }),
                [c, "lt", than] => Ok(Pred::Less {
                    col: col(c)?,
                    than: num(than)?,
                }),
                _ => Err(format!(
                    "`{}`: write `a between LO HI`, `b mod M R` or `c lt N`",
                    p.trim()
                )),
            }
        })
        .collect()
}

/// `rows` rows of four columns of values in 0..1000.
pub fn columns(rows: usize) -> [Vec<i64>; 4] {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    std::array::from_fn(|_| {
        (0..rows)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 1000) as i64
            })
            .collect()
    })
}

/// The stack machine of DESIGN.md: `prog` becomes a constant in every
/// variant, and `#[staged::unroll(pc)]` turns the dispatch loop into
/// straight code with direct jumps.
#[staged::self_contained]
pub mod vm {
    /// An instruction.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Op {
        Push(i64),
        Add,
        Mul,
        Dup,
        Swap,
        JumpIfZero(u32),
        Jump(u32),
        Dec,
    }

    /// Runs `prog` with `x` on the stack; the answer is the top of it.
    #[staged::specialize(prog)]
    pub fn run(prog: &[Op], x: i64) -> i64 {
        let mut stack = [0i64; 16];
        let mut sp = 1;
        stack[0] = x;
        let mut pc = 0usize;
        #[staged::unroll(pc)]
        while pc < prog.len() {
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
                op => step(op, &mut stack, &mut sp),
            }
            pc += 1;
        }
        stack[sp - 1]
    }

    fn step(op: Op, stack: &mut [i64; 16], sp: &mut usize) {
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
            Op::JumpIfZero(_) | Op::Jump(_) => {}
        }
    }
}

#[allow(unused_imports)] // the demo and the benches each take some
pub use vm::{Op, run};

/// `acc = 0; repeat x times: acc = acc * 3 + 1`, as bytecode: a counted
/// loop whose answer has no closed form LLVM could find.
pub fn loop_program() -> Vec<Op> {
    use Op::*;
    vec![
        Push(0),
        Swap, // [acc, x]
        Dup,
        JumpIfZero(13), // 2, 3: leave when x == 0
        Swap,
        Push(3),
        Mul,
        Push(1),
        Add,
        Swap, // acc = acc * 3 + 1
        Dec,
        Jump(2), // 10, 11: x -= 1, again
        Push(0), // 12: not reached
        Swap,    // 13: [x, acc]: the answer on top
    ]
}

/// [`loop_program`] written by hand.
pub fn loop_by_hand(x: i64) -> i64 {
    let mut acc = 0i64;
    let mut x = x;
    while x != 0 {
        acc = acc.wrapping_mul(3).wrapping_add(1);
        x = x.wrapping_sub(1);
    }
    acc
}

/// A straight-line program of `n` instructions (`Push(v)` then `Add` or
/// `Mul`, over and over), for what a variant costs against the program's
/// length; `seed` picks the constants.
pub fn straight_program(n: usize, seed: u64) -> Vec<Op> {
    let mut s = seed | 1;
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match (i % 2, s % 2) {
                (0, _) => Op::Push((s >> 8) as i64 % 100),
                (_, 0) => Op::Add,
                _ => Op::Mul,
            }
        })
        .collect()
}
