//! `#[staged::self_contained]` modules with the real rustc: functions that
//! use the module's constants, private and generic helpers, traits, nested
//! modules and row types agree, for random inputs, across the generic body,
//! the static variants, the run-time variants and the dispatcher. Two
//! modules live in this crate; the run-time libraries compile the modules'
//! own text.

use std::sync::Once;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use staged::Origin;
use staged::runtime::{Config, Mode};

fn setup() {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        let store = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("modules-store");
        Config::from_env()
            .mode(Mode::Sync)
            .cache_dir(store)
            .install();
    });
}

fn for_inputs<X: std::fmt::Debug>(
    inputs: impl Strategy<Value = X>,
    property: impl Fn(X) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    });
    runner.run(&inputs, property).unwrap();
}

fn assert_runtime(origin: Origin) {
    assert!(
        matches!(origin, Origin::Compiled | Origin::Cached),
        "{origin:?}"
    );
}

/// Rows of a table, filtered and summarized by values known at run time.
#[staged::self_contained]
pub mod query {
    #![allow(clippy::needless_range_loop)]

    use std::ops::Add;

    /// The weight of column `b`.
    pub const WEIGHT: u64 = 3;
    static PRIMES: [u64; 4] = [2, 3, 5, 7];

    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
    pub struct Row {
        pub a: u32,
        pub b: u16,
        pub flag: bool,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Summary {
        pub count: u32,
        pub total: u64,
        pub best: Row,
    }

    /// A comparison, crossing into run-time variants by value.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Op {
        Lt,
        Gt,
    }

    /// How many rows compare to `k` by `op`, with `op` returned (an enum by
    /// value both ways) and the counts by column in an array.
    #[staged::specialize(k)]
    pub fn count(rows: &[Row], op: Op, k: u32) -> (Op, [u32; 2]) {
        let test = |x: u32| match op {
            Op::Lt => x < k,
            Op::Gt => x > k,
        };
        let a = rows.iter().filter(|r| test(r.a)).count() as u32;
        let b = rows.iter().filter(|r| test(u32::from(r.b))).count() as u32;
        (op, [a, b])
    }

    /// A way of scoring a row.
    pub trait Score {
        fn score(&self, k: u64) -> u64;
    }

    impl Score for Row {
        fn score(&self, k: u64) -> u64 {
            u64::from(self.a) ^ (u64::from(self.b) * WEIGHT).wrapping_mul(k)
        }
    }

    impl Row {
        /// A method specialized at compile time only, in the module.
        #[staged::specialize(shift = [0, 1], runtime = false)]
        pub fn shifted(&self, shift: u32) -> u32 {
            self.a.rotate_left(shift)
        }
    }

    mod math {
        pub fn clamp_to(x: u64, limit: u64) -> u64 {
            if x > limit { limit } else { x }
        }

        pub mod deeper {
            pub fn twice(x: u64) -> u64 {
                super::clamp_to(x, u64::MAX / 2) * 2
            }
        }
    }

    /// A generic helper.
    fn fold_all<T: Copy, A: Add<Output = A> + Copy>(xs: &[T], zero: A, f: impl Fn(T) -> A) -> A {
        xs.iter().fold(zero, |acc, &x| acc + f(x))
    }

    fn keep(row: &Row, min_a: u32, max_b: u16) -> bool {
        row.a > min_a && row.b < max_b
    }

    /// Rows with `a > min_a` and `b < max_b`: how many, their score and the
    /// best one.
    #[staged::specialize(min_a = [10], max_b)]
    pub fn summarize(rows: &[Row], min_a: u32, max_b: u16, k: u64) -> Summary {
        let kept: Vec<Row> = rows
            .iter()
            .copied()
            .filter(|r| keep(r, min_a, max_b))
            .collect();
        let total = fold_all(&kept, 0u64, |r| {
            self::math::deeper::twice(r.score(k)) % 1_000_003
        });
        let best = kept
            .iter()
            .copied()
            .max_by_key(|r| (r.score(k), r.a))
            .unwrap_or_default();
        Summary {
            count: kept.len() as u32,
            total: total.wrapping_add(PRIMES[(min_a % 4) as usize]),
            best,
        }
    }

    /// Which rows pass, as a mask.
    #[staged::specialize(min_a)]
    pub fn mask(rows: &[Row], min_a: u32, out: &mut [bool]) -> usize {
        let mut n = 0;
        for i in 0..rows.len().min(out.len()) {
            out[i] = keep(&rows[i], min_a, u16::MAX);
            n += usize::from(out[i]);
        }
        n
    }

    /// A function of the module without a run-time stage, which calls a
    /// run-time one: inside the module, that is its generic body.
    #[staged::specialize(k = [1, 2], runtime = false)]
    pub fn first_score(rows: &[Row], k: u64) -> u64 {
        rows.first().map_or(0, |r| r.score(k)) + summarize(rows, 0, u16::MAX, k).count as u64
    }
}

/// A module whose helper panics.
#[staged::self_contained]
mod fragile {
    fn check(x: u64) -> u64 {
        if x == 13 {
            panic!("unlucky {x}");
        }
        x
    }

    #[staged::specialize(k)]
    pub fn run(x: u64, k: u64) -> u64 {
        check(x) + [1u64, 2, 3][(x % 7) as usize] / k
    }
}

std::thread_local! {
    static PANICKED_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Where the panic of `f` was reported, by the panic hook (of this thread).
fn panic_location(f: impl FnOnce() -> u64 + std::panic::UnwindSafe) -> String {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            PANICKED_AT.with(|p| *p.borrow_mut() = at);
            if std::thread::current()
                .name()
                .is_none_or(|n| !n.contains("location"))
            {
                previous(info);
            }
        }));
    });
    assert!(std::panic::catch_unwind(f).is_err());
    PANICKED_AT
        .with(|p| p.borrow_mut().take())
        .unwrap_or_default()
}

/// A panic inside a variant is reported at the place in the user's source
/// where it happened, as the generic body's is: in a helper of the module,
/// and in the function itself.
#[test]
fn panics_of_variants_report_the_users_location() {
    setup();
    let h = fragile::run::specialized(2).unwrap();
    assert_runtime(h.origin());
    for x in [13u64, 5] {
        let generic = panic_location(move || fragile::run::generic(x, 2));
        let variant = panic_location(move || h.call(x));
        assert!(generic.starts_with("tests/modules.rs:"), "{generic}");
        assert_eq!(variant, generic, "x = {x}");
    }
}

/// A second module: its items do not clash with the first's.
#[staged::self_contained]
mod codes {
    /// A body's own `mod f64` cannot capture the values written into it.
    #[staged::specialize(c = [0.5])]
    pub fn scaled(x: f64, c: f64) -> f64 {
        #[allow(dead_code, non_camel_case_types)]
        mod f64 {
            pub fn from_bits(_: u64) -> f64 {
                42.0
            }
        }
        x * c
    }

    pub const SCALE: u64 = 0x9E37_79B9_7F4A_7C15;

    fn mix(x: u64, k: u64) -> u64 {
        (x ^ k).wrapping_mul(SCALE).rotate_left(17)
    }

    #[staged::specialize(k)]
    pub fn hash(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(0u64, |h, &x| h.wrapping_add(mix(x, k)))
    }
}

/// Nested modules see what they see without the attribute: the prelude
/// (`Iterator`, `String`, `format!`), `core::`, `std::` and `::core::`
/// paths, the output macros, `use super::*` (two levels up too), and their
/// own names over the prelude's and the crate's. They lost the prelude
/// (E0599 on `filter`, issue 18), and `core::` did not resolve.
#[staged::self_contained]
mod fields {
    pub const SEP: char = ',';

    mod bits {
        pub fn fields(s: &str) -> usize {
            s.split(',').filter(|f| !f.is_empty()).count()
        }

        /// `core::` and `std::` paths, without an import.
        pub fn commas(s: &str) -> usize {
            let n = s.bytes().filter(|&b| b == b',').count();
            core::cmp::max(n, std::mem::size_of::<()>())
        }

        /// Its own `core` wins over the crate's.
        pub mod own {
            mod core {
                pub fn one() -> usize {
                    1
                }
            }

            pub fn one() -> usize {
                core::one() + ::core::cmp::min(0, 1)
            }
        }

        pub mod widths {
            use super::super::*;

            pub fn widest(s: &str) -> usize {
                let w = s.split(SEP).map(str::len).max().unwrap_or(0);
                core::cmp::max(w, ::core::cmp::min(1, 2)) + std::mem::size_of::<u8>() - 1
            }
        }
    }

    mod talk {
        use super::*;

        /// Its own `Option` wins over the prelude's.
        #[derive(Clone, Copy)]
        pub enum Option {
            Quiet,
        }

        pub fn said(n: usize, how: Option) -> String {
            let text = format!("{n}{}", SEP);
            if n == usize::MAX {
                println!("{text}");
                match how {
                    Option::Quiet => {}
                }
            }
            text
        }
    }

    #[staged::specialize(k = [3])]
    pub fn score(s: &str, k: usize) -> usize {
        bits::fields(s) * k
            + bits::commas(s)
            + bits::own::one()
            + bits::widths::widest(s)
            + talk::said(k, talk::Option::Quiet).len()
    }
}

/// A body's own module sees the prelude too.
#[staged::specialize(k)]
pub fn letters(s: &str, k: usize) -> usize {
    mod count {
        pub fn letters(s: &str) -> usize {
            s.chars().filter(|c| c.is_alphabetic()).count() + core::cmp::min(0, 1)
        }
    }
    count::letters(s) * k
}

use query::{Row, Summary, mask, summarize};

fn row() -> impl Strategy<Value = Row> + Clone {
    (any::<u32>(), any::<u16>(), any::<bool>()).prop_map(|(a, b, flag)| Row { a, b, flag })
}

#[test]
fn module_functions_agree_at_every_stage() {
    setup();
    let rows = prop::collection::vec(row(), 0..40);
    // A static value of `min_a`, and run-time ones.
    for (min_a, max_b) in [(10, 500u16), (0, 60_000), (7, 40_000), (u32::MAX - 3, 1)] {
        let h = summarize::specialized(min_a, max_b).unwrap();
        assert_runtime(h.origin());
        for_inputs((rows.clone(), any::<u64>()), |(rows, k)| {
            let want: Summary = summarize::generic(&rows, min_a, max_b, k);
            prop_assert_eq!(h.call(&rows, k), want);
            prop_assert_eq!(summarize(&rows, min_a, max_b, k), want);
            prop_assert_eq!(query::summarize(&rows, min_a, max_b, k), want);
            Ok(())
        });
    }
    for k in [0u32, 999, u32::MAX] {
        let h = query::count::specialized(k).unwrap();
        assert_runtime(h.origin());
        for_inputs(rows.clone(), |rows| {
            for op in [query::Op::Lt, query::Op::Gt] {
                prop_assert_eq!(h.call(&rows, op), query::count::generic(&rows, op, k));
            }
            Ok(())
        });
    }
    for min_a in [3u32, 1 << 31] {
        let h = mask::specialized(min_a).unwrap();
        assert_runtime(h.origin());
        for_inputs(rows.clone(), |rows| {
            let (mut got, mut want) = (vec![false; rows.len()], vec![false; rows.len()]);
            prop_assert_eq!(
                h.call(&rows, &mut got),
                mask::generic(&rows, min_a, &mut want)
            );
            prop_assert_eq!(got, want);
            Ok(())
        });
    }
}

#[test]
fn functions_without_a_run_time_stage_and_methods_work_in_a_module() {
    let rows = vec![
        Row {
            a: 5,
            b: 9,
            flag: true,
        },
        Row {
            a: 99,
            b: 1,
            flag: false,
        },
    ];
    assert_eq!(
        query::first_score(&rows, 2),
        query::first_score::generic(&rows, 2)
    );
    assert_eq!(
        query::first_score::specialized(1).unwrap().origin(),
        Origin::Static
    );
    assert_eq!(rows[0].shifted(1), 10);
    assert_eq!(rows[0].shifted(5), 5u32.rotate_left(5));
    assert_eq!(query::WEIGHT, 3);
}

#[test]
fn two_modules_live_side_by_side() {
    setup();
    let h = codes::hash::specialized(42).unwrap();
    assert_runtime(h.origin());
    for_inputs(prop::collection::vec(any::<u64>(), 0..30), |xs| {
        prop_assert_eq!(h.call(&xs), codes::hash::generic(&xs, 42));
        prop_assert_eq!(codes::hash(&xs, 42), codes::hash::generic(&xs, 42));
        Ok(())
    });
    assert_eq!(codes::SCALE, 0x9E37_79B9_7F4A_7C15);
    for c in [0.5, 3.25, -1e-3] {
        let h = codes::scaled::specialized(c).unwrap();
        assert_eq!(h.call(2.0).to_bits(), (2.0 * c).to_bits());
    }
}

/// The run-time library compiles the module's text as the macro wrote it:
/// what the static variants were compiled from.
#[test]
fn the_library_source_holds_the_macros_text_verbatim() {
    let source = &summarize::__SOURCE;
    assert!(
        source.module.contains("pub struct Row"),
        "{}",
        source.module
    );
    assert!(source.module.contains("fn fold_all"), "{}", source.module);
    assert!(
        source.module.contains("__Args_summarize"),
        "{}",
        source.module
    );
    // Both functions of the module share one text.
    assert_eq!(source.module, mask::__SOURCE.module);
    let value = staged::__private::Value::of_literals(vec!["3u32".into(), "7u16".into()]);
    let library = staged::__private::library_source(source, &[value]);
    assert!(library.contains(source.module));
}

#[test]
fn nested_modules_see_the_prelude_at_every_stage() {
    setup();
    let text = "[a-c,]{0,12}";
    let h = fields::score::specialized(3).unwrap();
    assert_eq!(h.origin(), Origin::Static);
    for k in [3usize, 11] {
        let h = fields::score::specialized(k).unwrap();
        if k != 3 {
            assert_runtime(h.origin());
        }
        for_inputs(text, |s| {
            let want = fields::score::generic(&s, k);
            prop_assert_eq!(h.call(&s), want);
            prop_assert_eq!(fields::score(&s, k), want);
            Ok(())
        });
    }
    assert_eq!(fields::score::generic("ab,,c", 2), 2 * 2 + 2 + 1 + 2 + 2);
    let h = letters::specialized(5).unwrap();
    assert_runtime(h.origin());
    for_inputs(text, |s| {
        prop_assert_eq!(h.call(&s), letters::generic(&s, 5));
        Ok(())
    });
}
