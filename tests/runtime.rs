//! Stage 3 with the real rustc, in one process: run-time variants agree with
//! the generic body and the static variants for random values and inputs,
//! panics come back with their message, values that would inject code stay
//! values, and `prepare` builds many values in one library.
//!
//! Values are drawn at random and built together with `prepare`, one rustc
//! run per function, into a store shared by the test runs
//! (`target/tmp/staged-store`).

use std::sync::Once;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use staged::Origin;
use staged::runtime::{Config, Mode};
use staged::specialize;

mod common;
use common::{same_float as same, same_mix, tricky_string};

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

/// Draws `n` distinct values from `strategy`, plus the `extra` ones.
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

/// Checks `property` for each value over random inputs.
fn for_inputs<X: std::fmt::Debug>(
    inputs: impl Strategy<Value = X> + Clone,
    property: impl Fn(X) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 64,
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

#[specialize(d = [1, 10])]
fn sum_div(xs: &[u64], d: u64) -> u64 {
    xs.iter()
        .map(|x| x / d)
        .fold(0u64, |a, b| a.wrapping_add(b))
}

#[test]
fn integers_and_slices() {
    setup();
    let values = draw(1u64.., 12, &[3, 7, u64::MAX]);
    sum_div::prepare(values.iter().copied()).unwrap();
    for &d in &values {
        let h = sum_div::specialized(d).unwrap();
        assert_runtime(h.origin());
        for_inputs(prop::collection::vec(any::<u64>(), 0..40), |xs| {
            let want = sum_div::generic(&xs, d);
            prop_assert_eq!(h.call(&xs), want);
            prop_assert_eq!(sum_div(&xs, d), want);
            Ok(())
        });
    }
    assert_eq!(sum_div::specialized(10).unwrap().origin(), Origin::Static);
}

#[specialize(k = [0, -1])]
fn wide(x: i128, k: i128, y: u128) -> (i128, u128) {
    (
        x.wrapping_mul(k).wrapping_sub(k),
        y.rotate_left((k & 127) as u32),
    )
}

#[test]
fn wide_integers() {
    setup();
    let values = draw(any::<i128>(), 6, &[i128::MIN, i128::MAX, 1]);
    wide::prepare(values.iter().copied()).unwrap();
    for &k in &values {
        let h = wide::specialized(k).unwrap();
        for_inputs((any::<i128>(), any::<u128>()), |(x, y)| {
            prop_assert_eq!(h.call(x, y), wide::generic(x, k, y));
            Ok(())
        });
    }
}

/// The bits of `c` itself (NaN payloads and signs included), and arithmetic
/// with it.
#[specialize(c = [0.0, 1.5])]
fn float_mix(x: f64, c: f64) -> (u64, f64, f64, bool, f64, f64, f64) {
    (
        c.to_bits(),
        x * c,
        x + c,
        c.is_sign_negative(),
        x / c,
        x.min(c),
        x.max(c),
    )
}

#[specialize(c = [0.5])]
fn float32_mix(x: f32, c: f32) -> (u32, f32) {
    (c.to_bits(), x / c)
}

fn special_f64() -> Vec<f64> {
    vec![
        -0.0,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001),
        f64::from_bits(0xfff8_dead_beef_0000),
        f64::INFINITY,
        f64::NEG_INFINITY,
        5e-324,
        -2.2250738585072e-308,
        f64::MAX,
    ]
}

#[test]
fn floats_by_bit_pattern() {
    setup();
    let extra = special_f64();
    let values = draw(any::<u64>().prop_map(f64::from_bits), 6, &[]);
    let values: Vec<f64> = extra.into_iter().chain(values).collect();
    float_mix::prepare(values.iter().copied()).unwrap();
    let inputs = prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        Just(0.0),
        Just(-0.0),
        Just(f64::NAN),
        Just(f64::INFINITY)
    ];
    for &c in &values {
        let h = float_mix::specialized(c).unwrap();
        assert_runtime(h.origin());
        for_inputs(inputs.clone(), |x| {
            let want = float_mix::generic(x, c);
            prop_assert!(same_mix(h.call(x), want), "{:?} != {want:?}", h.call(x));
            prop_assert!(same_mix(float_mix(x, c), want));
            Ok(())
        });
        assert_eq!(
            h.call(1.0).0,
            c.to_bits(),
            "the literal must carry the exact bits"
        );
    }
    let values32 = [
        -0.0f32,
        f32::NAN,
        f32::from_bits(0x7fc0_1234),
        1e-45,
        f32::MIN_POSITIVE / 2.0,
        f32::INFINITY,
    ];
    float32_mix::prepare(values32).unwrap();
    for c in values32 {
        let h = float32_mix::specialized(c).unwrap();
        for_inputs(any::<u32>().prop_map(f32::from_bits), |x| {
            let (got, want) = (h.call(x), float32_mix::generic(x, c));
            prop_assert_eq!(got.0, want.0);
            prop_assert!(same(got.1.into(), want.1.into()), "{got:?} != {want:?}");
            Ok(())
        });
    }
}

#[specialize(c = ['a'])]
fn char_mix(s: &str, c: char) -> (usize, u32, u64) {
    let replaced = s.replace(c, "_");
    let hash = replaced.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (s.matches(c).count(), c as u32, hash)
}

#[test]
fn chars_escaped() {
    setup();
    let mut values = draw(
        any::<char>(),
        8,
        &[
            '\'',
            '\\',
            '"',
            '\n',
            '\0',
            'é',
            '日',
            '\u{10ffff}',
            '\u{feff}',
        ],
    );
    // 'a' has a static variant; this test is about run-time ones.
    values.retain(|&c| c != 'a');
    char_mix::prepare(values.iter().copied()).unwrap();
    for &c in &values {
        let h = char_mix::specialized(c).unwrap();
        assert_runtime(h.origin());
        for_inputs(tricky_string(), |s| {
            prop_assert_eq!(h.call(&s), char_mix::generic(&s, c));
            Ok(())
        });
    }
}

#[specialize(sep = [","])]
fn split_count(s: &str, sep: &str) -> (usize, usize, u64) {
    let fnv = |t: &str| {
        t.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    };
    (
        sep.len(),
        if sep.is_empty() {
            0
        } else {
            s.split(sep).count()
        },
        fnv(sep) ^ fnv(s),
    )
}

#[test]
fn strings_escaped_and_never_injected() {
    setup();
    let evil = [
        "\"); evil(); (\"".to_owned(),
        "\"; } fn evil() { \"".to_owned(),
        "\\\"".to_owned(),
        "\n\t\r".to_owned(),
        "日本語".to_owned(),
        String::new(),
        "a\u{0}b".to_owned(),
        "r#\"raw\"#".to_owned(),
    ];
    let mut values = draw(tricky_string(), 6, &evil);
    // "," has a static variant; this test is about run-time ones.
    values.retain(|v| v != ",");
    split_count::prepare(values.iter().map(String::as_str)).unwrap();
    for sep in &values {
        let h = split_count::specialized(sep).unwrap();
        assert_runtime(h.origin());
        for_inputs(tricky_string(), |s| {
            prop_assert_eq!(h.call(&s), split_count::generic(&s, sep));
            prop_assert_eq!(split_count(&s, sep), split_count::generic(&s, sep));
            Ok(())
        });
        // The separator's own length proves the literal held exactly it.
        assert_eq!(h.call("").0, sep.len());
    }
}

#[specialize(a = [1], b = [true], c = ['x'])]
fn several(x: u32, a: u8, b: bool, c: char, out: &mut [u32]) -> u32 {
    for (i, o) in out.iter_mut().enumerate() {
        *o = x.wrapping_mul(u32::from(a)).wrapping_add(i as u32) ^ (c as u32);
    }
    if b {
        x.rotate_left(u32::from(a))
    } else {
        x ^ (c as u32)
    }
}

#[specialize(i = [0])]
fn pick(xs: &[u32], i: usize) -> &u32 {
    &xs[i.min(xs.len() - 1)]
}

#[test]
fn several_parameters_mutable_slices_and_borrowed_results() {
    setup();
    let values = draw((any::<u8>(), any::<bool>(), any::<char>()), 8, &[]);
    several::prepare(values.iter().copied()).unwrap();
    for &(a, b, c) in &values {
        let h = several::specialized(a, b, c).unwrap();
        assert_runtime(h.origin());
        for_inputs((any::<u32>(), 0usize..10), |(x, n)| {
            let (mut got, mut want) = (vec![0u32; n], vec![0u32; n]);
            prop_assert_eq!(h.call(x, &mut got), several::generic(x, a, b, c, &mut want));
            prop_assert_eq!(got, want);
            Ok(())
        });
    }
    let xs = [5u32, 6, 7];
    let h = pick::specialized(2).unwrap();
    assert!(std::ptr::eq(h.call(&xs), &xs[2]));
    assert_eq!(*pick(&xs, 1), 6);
}

#[specialize(d = [1])]
fn checked(x: u32, d: u32) -> u32 {
    if x == 13 {
        panic!("unlucky {x} with d = {d}");
    }
    x / d
}

#[test]
fn a_panic_comes_back_with_its_message() {
    setup();
    let h = checked::specialized(7).unwrap();
    assert_runtime(h.origin());
    let caught = std::panic::catch_unwind(|| h.call(13)).unwrap_err();
    let message = caught
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or("not a String");
    assert_eq!(message, "unlucky 13 with d = 7");
    // The handle and the dispatcher keep working.
    assert_eq!(h.call(14), 2);
    assert_eq!(checked(21, 7), 3);
    let caught = std::panic::catch_unwind(|| checked(13, 7)).unwrap_err();
    assert_eq!(
        caught.downcast_ref::<String>().map(String::as_str),
        Some("unlucky 13 with d = 7")
    );
}

#[specialize(n = [2])]
fn power(x: u64, n: u32) -> u64 {
    let mut p = 1u64;
    for _ in 0..n {
        p = p.wrapping_mul(x);
    }
    p
}

#[test]
fn the_dispatcher_uses_runtime_variants() {
    setup();
    let n = 9 + std::process::id() % 1000;
    assert_eq!(power(3, n), power::generic(3, n));
    let stats = power::stats();
    assert!(stats.compiled + stats.cached >= 1, "{stats:?}");
    let before = power::stats().generic_calls;
    for x in 0..100 {
        assert_eq!(power(x, n), power::generic(x, n));
    }
    assert_eq!(
        power::stats().generic_calls,
        before,
        "hits must not run the generic body"
    );
    assert_runtime(power::specialized(n).unwrap().origin());
}

mod broken {
    //! A function whose body does not compile in the run-time build, driven
    //! through the site the macro would emit. (The isolation rule makes such
    //! a body fail at compile time when it comes through `#[specialize]`, so
    //! the site is written out by hand here.)
    use staged::__private::{FnSource, Piece, Site};

    pub static SOURCE: FnSource = FnSource {
        name: "broken",
        krate: "runtime",
        path: "runtime::broken::broken",
        module: "pub const __LAYOUT: [usize; 0] = [];",
        variant: &[
            Piece::Text("pub fn "),
            Piece::Name,
            Piece::Text("(x: u32) -> u32 { let n: u32 = "),
            Piece::Value(0),
            Piece::Text("; let y: u32 = \"not a number\"; x + y + n }"),
        ],
        entry: &[],
        layout: &[],
        layout_path: "__staged::__LAYOUT",
        edition: "2021",
        debug_assertions: false,
        overflow_checks: false,
        fingerprint: "broken",
        module_marks: &[],
        variant_marks: &[],
        raise: staged::__private::raise_at,
    };
    pub static SITE: Site<(u32,)> = Site::new(&SOURCE);
}

#[test]
fn a_body_that_does_not_compile_fails_once_and_is_remembered() {
    setup();
    let err = broken::SITE.specialize(&(5u32,)).unwrap_err();
    // rustc's message is the cause, said once, after this level's text.
    let text = staged_build::chain::Chain(&err).to_string();
    assert!(!err.to_string().contains("mismatched types"), "{err}");
    assert!(
        text.contains("did not compile") && text.contains("mismatched types"),
        "{text}"
    );
    assert!(
        broken::SITE.lookup(&(5u32,)).is_none(),
        "the caller runs the generic body"
    );
    let stats = broken::SITE.stats();
    assert_eq!((stats.compiled, stats.failed), (0, 1), "{stats:?}");
    assert!(stats.last_error.unwrap().contains("mismatched types"));
    // Asked again, the remembered failure answers: no second build.
    assert!(broken::SITE.specialize(&(5u32,)).is_err());
    for _ in 0..10 {
        assert!(broken::SITE.lookup(&(5u32,)).is_none());
    }
    assert_eq!(broken::SITE.stats().failed, 1);
}

/// Each value gives its own answer, so a call that ran the variant of
/// another value shows.
#[specialize(k)]
fn keyed(x: u64, k: u32) -> u64 {
    x.rotate_left(k % 64) ^ u64::from(k).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[test]
fn threads_calling_many_hot_values_run_their_own_variants_while_more_arrive() {
    use std::sync::atomic::{AtomicBool, Ordering};
    setup();
    // Under the default cap of 64, in two libraries; scattered, so that
    // some share a place in the site's table (consecutive values would not).
    let values: Vec<u32> = (0..48u32)
        .scan(0x2545_F491u32, |v, _| {
            *v ^= *v << 13;
            *v ^= *v >> 17;
            *v ^= *v << 5;
            Some(*v)
        })
        .collect();
    let (first, later) = values.split_at(24);
    keyed::prepare(first.iter().copied()).unwrap();
    let before = keyed::stats().generic_calls;
    let published = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            keyed::prepare(later.iter().copied()).unwrap();
            published.store(true, Ordering::Release);
        });
        for thread in 0..2u64 {
            let (values, published) = (&values, &published);
            s.spawn(move || {
                let mut x = thread;
                let mut rounds_after = 0;
                while rounds_after < 50 {
                    // The later values only once `prepare` returned: before,
                    // a call of one would build it (sync mode).
                    let ready = published.load(Ordering::Acquire);
                    let hot = if ready { &values[..] } else { first };
                    for &k in hot {
                        x = x.wrapping_mul(0x5851_F42D_4C95_7F2D).wrapping_add(1);
                        assert_eq!(keyed(x, k), keyed::generic(x, k), "value {k}");
                    }
                    if ready {
                        rounds_after += 1;
                    } else {
                        std::thread::yield_now();
                    }
                }
            });
        }
    });
    assert_eq!(
        keyed::stats().generic_calls,
        before,
        "every call ran its value's variant"
    );
}
