//! Programs as values: structured parameters (slices, arrays, tuples,
//! `Option`s, the enums and structs of a self-contained module) and
//! `#[staged::unroll]` over them. For random plans and random inputs, the
//! dispatcher, a handle on the variant (static or run-time), and the
//! generic body give one answer, and panic where the generic body panics.
//!
//! Random plans are built together with `prepare` (one rustc run per
//! function) into a store shared by the test runs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use staged::Origin;
use staged::runtime::{Config, Mode};

mod common;
use common::same_float;

fn setup() {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        let store = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("staged-store");
        Config::from_env()
            .mode(Mode::Sync)
            .cache_dir(store)
            .install();
    });
}

#[staged::self_contained]
mod query {
    /// A predicate on a row of four columns.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Pred {
        Between { col: u8, lo: i64, hi: i64 },
        ModEq { col: u8, m: i64, r: i64 },
        Not(u8),
        Always,
    }

    /// Whether `row` passes `p`; `ModEq` with `m = 0` panics, as `%`
    /// does.
    fn holds(p: &Pred, row: &[i64; 4]) -> bool {
        match *p {
            Pred::Between { col, lo, hi } => (lo..=hi).contains(&row[col as usize % 4]),
            Pred::ModEq { col, m, r } => row[col as usize % 4] % m == r,
            Pred::Not(col) => row[col as usize % 4] == 0,
            Pred::Always => true,
        }
    }

    /// Rows passing every predicate: one copy of the test per predicate.
    #[staged::specialize(plan = [[Pred::ModEq { col: 1, m: 7, r: 3 }], [Pred::Always, Pred::Not(2)]])]
    pub fn count(rows: &[[i64; 4]], plan: &[Pred]) -> u64 {
        let mut n = 0;
        for row in rows {
            let mut keep = true;
            #[staged::unroll]
            for p in plan {
                keep &= holds(p, row);
            }
            n += u64::from(keep);
        }
        n
    }

    /// The first predicate a row fails, and how many it passed: `continue`
    /// and `return` inside an unrolled loop.
    #[staged::specialize(plan)]
    pub fn first_failing(row: &[i64; 4], plan: &[Pred]) -> (Option<usize>, u32) {
        let mut passed = 0;
        #[staged::unroll]
        for (i, p) in plan.iter().enumerate() {
            if matches!(p, Pred::Always) {
                continue;
            }
            if !holds(p, row) {
                return (Some(i), passed);
            }
            passed += 1;
        }
        (None, passed)
    }

    /// A weighting of pairs, by value: an array of tuples of options, and
    /// a `break` out of an unrolled loop nested in another one.
    #[staged::specialize(w = [[(1, Some(2)), (3, None), (-1, Some(0))]])]
    #[allow(clippy::needless_range_loop)] // the form `#[staged::unroll]` takes
    pub fn weigh(xs: &[i64], w: [(i64, Option<i64>); 3]) -> i64 {
        let mut total = 0i64;
        #[staged::unroll]
        for (a, b) in w {
            if a == 0 {
                break;
            }
            #[staged::unroll]
            for i in 0..w.len() {
                total = total.wrapping_add(w[i].0.wrapping_mul(a));
            }
            for x in xs {
                total = total.wrapping_mul(31).wrapping_add(x.wrapping_mul(a));
                if let Some(b) = b {
                    total = total.wrapping_add(b);
                }
            }
        }
        total
    }
}

use query::{Pred, count, first_failing, weigh};

/// A FIR filter: floats keyed by their bits.
#[staged::specialize(taps = [[1.0, 2.0, 1.0], [0.5, -0.0]])]
fn fir(xs: &[f64], taps: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; xs.len().saturating_sub(taps.len() - 1)];
    for (i, o) in out.iter_mut().enumerate() {
        let mut acc = 0.0;
        #[staged::unroll]
        for (j, t) in taps.iter().enumerate() {
            acc += xs[i + j] * t;
        }
        *o = acc;
    }
    out
}

/// Strings in a tuple, and a slice of strings.
#[staged::specialize(key = [("a", 1)])]
fn tagged(words: &[&str], key: (&str, u32), stop: &[&str]) -> u32 {
    let mut n = 0;
    for w in words {
        if stop.contains(w) {
            continue;
        }
        if *w == key.0 {
            n += key.1;
        }
    }
    n
}

fn pred() -> impl Strategy<Value = Pred> + Clone {
    prop_oneof![
        (0u8..6, -50i64..50, -50i64..50).prop_map(|(col, lo, hi)| Pred::Between { col, lo, hi }),
        // `m = 0` included: it panics where the generic body panics.
        (0u8..6, -4i64..=4, -3i64..=3).prop_map(|(col, m, r)| Pred::ModEq { col, m, r }),
        (0u8..6).prop_map(Pred::Not),
        Just(Pred::Always),
    ]
}

fn row() -> impl Strategy<Value = [i64; 4]> + Clone {
    prop::array::uniform4(-60i64..60)
}

/// `n` distinct values drawn from `strategy`, after `extra`.
fn draw<T: std::fmt::Debug + PartialEq + Clone>(
    strategy: impl Strategy<Value = T>,
    n: usize,
    extra: &[T],
) -> Vec<T> {
    let mut runner = TestRunner::default();
    let mut values: Vec<T> = extra.to_vec();
    while values.len() < n + extra.len() {
        let v = strategy.new_tree(&mut runner).expect("a value").current();
        if !values.contains(&v) {
            values.push(v);
        }
    }
    values
}

/// Checks `property` over random inputs.
fn for_inputs<X: std::fmt::Debug>(
    inputs: impl Strategy<Value = X> + Clone,
    property: impl Fn(X) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    });
    runner.run(&inputs, property).unwrap();
}

/// The answer of `f`, or the message of its panic.
fn outcome<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    })
}

fn quiet_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or_default();
            if !message.contains("remainder with a divisor of zero") {
                previous(info);
            }
        }));
    });
}

#[test]
fn random_plans_agree_at_every_stage() {
    setup();
    quiet_panics();
    let listed: Vec<Vec<Pred>> = vec![
        vec![Pred::ModEq { col: 1, m: 7, r: 3 }],
        vec![Pred::Always, Pred::Not(2)],
    ];
    let mut plans = draw(prop::collection::vec(pred(), 0..7), 10, &listed);
    plans.push(Vec::new());
    let fresh: Vec<&[Pred]> = plans[2..].iter().map(Vec::as_slice).collect();
    count::prepare(fresh.iter().copied()).unwrap();
    first_failing::prepare(plans.iter().map(Vec::as_slice)).unwrap();
    for (i, plan) in plans.iter().enumerate() {
        let h = count::specialized(plan).unwrap();
        let expected = if i < 2 { Origin::Static } else { h.origin() };
        assert_eq!(h.origin(), expected, "{plan:?}");
        assert!(i < 2 || matches!(h.origin(), Origin::Compiled | Origin::Cached));
        let f = first_failing::specialized(plan).unwrap();
        for_inputs(prop::collection::vec(row(), 0..20), |rows| {
            let want = outcome(|| count::generic(&rows, plan));
            prop_assert_eq!(&outcome(|| h.call(&rows)), &want, "{:?}", plan);
            prop_assert_eq!(&outcome(|| count(&rows, plan)), &want);
            for row in &rows {
                let want = outcome(|| first_failing::generic(row, plan));
                prop_assert_eq!(&outcome(|| f.call(row)), &want, "{:?}", plan);
                prop_assert_eq!(&outcome(|| first_failing(row, plan)), &want);
            }
            Ok(())
        });
    }
    assert_eq!(count::stats().failed, 0, "{:?}", count::stats());
}

#[test]
fn arrays_of_tuples_of_options_agree_and_nested_loops_unroll() {
    setup();
    let weights = draw(
        prop::array::uniform3((-3i64..3, prop::option::of(-5i64..5))),
        5,
        &[[(1, Some(2)), (3, None), (-1, Some(0))]],
    );
    weigh::prepare(weights[1..].iter().copied()).unwrap();
    for w in &weights {
        let h = weigh::specialized(*w).unwrap();
        for_inputs(prop::collection::vec(any::<i64>(), 0..12), |xs| {
            let want = weigh::generic(&xs, *w);
            prop_assert_eq!(h.call(&xs), want);
            prop_assert_eq!(weigh(&xs, *w), want);
            Ok(())
        });
    }
    assert_eq!(
        weigh::specialized([(1, Some(2)), (3, None), (-1, Some(0))])
            .unwrap()
            .origin(),
        Origin::Static
    );
}

#[test]
fn float_taps_are_keyed_by_their_bits() {
    setup();
    let taps: Vec<Vec<f64>> = vec![
        vec![1.0, 2.0, 1.0],
        vec![0.5, -0.0],
        vec![0.5, 0.0],
        vec![f64::NAN, 1.0],
        vec![f64::from_bits(0x7ff0_0000_0000_0001)],
        vec![-2.5e-300, 1e300, f64::INFINITY, 5e-324],
    ];
    fir::prepare(taps[2..].iter().map(Vec::as_slice)).unwrap();
    for (i, t) in taps.iter().enumerate() {
        let h = fir::specialized(t).unwrap();
        assert_eq!(h.origin() == Origin::Static, i < 2, "{t:?}");
        let xs_strategy = prop::collection::vec(
            prop_oneof![any::<f64>(), -1e3f64..1e3, Just(0.0), Just(-0.0)],
            0..16,
        );
        for_inputs(xs_strategy, |xs| {
            let want = fir::generic(&xs, t);
            for got in [h.call(&xs), fir(&xs, t)] {
                prop_assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    prop_assert!(same_float(*g, *w), "{g:?} != {w:?} for {t:?}");
                }
            }
            Ok(())
        });
    }
}

#[test]
fn strings_inside_structured_values_are_values() {
    setup();
    let keys = [("a", 1), ("日本", 2), ("\"}; panic!(); {\"", 3), ("", 4)];
    tagged::prepare(keys[1..].iter().copied()).unwrap();
    for key in keys {
        let h = tagged::specialized(key).unwrap();
        for_inputs(
            (
                prop::collection::vec(
                    prop_oneof![Just("a"), Just("日本"), Just(""), Just("b")],
                    0..8,
                ),
                prop::collection::vec(prop_oneof![Just("a"), Just("b")], 0..2),
            ),
            |(words, stop)| {
                let want = tagged::generic(&words, key, &stop);
                prop_assert_eq!(h.call(&words, &stop), want);
                prop_assert_eq!(tagged(&words, key, &stop), want);
                Ok(())
            },
        );
    }
}

/// A sum over a slice of weights, one copy per weight.
#[staged::specialize(w)]
fn weighted(xs: &[u64], w: &[u64]) -> u64 {
    let mut total = 0u64;
    #[staged::unroll]
    for (i, k) in w.iter().enumerate() {
        total = total.wrapping_add(xs[i % xs.len().max(1)].wrapping_mul(*k));
    }
    total
}

/// Past `STAGED_UNROLL_MAX` copies (4096 by default) a variant keeps its
/// loop, the value still a constant, and `stats().notes` says so; past
/// `STAGED_VALUE_MAX_BYTES` (1 MiB of source) a value is not specialized at
/// all and runs the generic body, with the reason in `stats()`.
#[test]
fn values_past_the_limits_keep_their_loops_or_run_generic() {
    setup();
    let xs: Vec<u64> = (0..97).collect();
    let long: Vec<u64> = (0..5000u64).map(|i| i * 7 + 1).collect();
    let h = weighted::specialized(&long).unwrap();
    assert!(matches!(h.origin(), Origin::Compiled | Origin::Cached));
    assert_eq!(h.call(&xs), weighted::generic(&xs, &long));
    let notes = weighted::stats().notes.unwrap_or_default();
    assert!(notes.contains("STAGED_UNROLL_MAX"), "{notes}");
    // About 2.4 MB of source: more than 1 MiB.
    let huge: Vec<u64> = (0..200_000u64).map(|i| i * 1_000_003).collect();
    let err = weighted::specialized(&huge).unwrap_err().to_string();
    assert!(err.contains("STAGED_VALUE_MAX_BYTES"), "{err}");
    assert_eq!(weighted(&xs, &huge), weighted::generic(&xs, &huge));
    let s = weighted::stats();
    assert!(s.failed >= 1, "{s:?}");
    assert!(
        s.last_error
            .unwrap_or_default()
            .contains("STAGED_VALUE_MAX_BYTES"),
        "{:?}",
        weighted::stats()
    );
}
