//! Behaviour of `#[specialize]` at compile time (stage 1): every attribute
//! form, every specializable type, every function shape, and the companion
//! module.

use staged::runtime::{Config, Mode};
use staged::{Origin, SiteStats, specialize};

/// These tests are about stage 1: run-time specialization is off, so values
/// without a static variant get none.
fn stage1_only() {
    static OFF: std::sync::Once = std::sync::Once::new();
    OFF.call_once(|| Config::from_env().mode(Mode::Off).install());
}

/// `x` to the power `n`.
#[specialize(n = [2, 3, 4])]
#[inline]
pub fn power(x: u64, n: u32) -> u64 {
    let mut p = 1u64;
    for _ in 0..n {
        p = p.wrapping_mul(x);
    }
    p
}

#[test]
fn static_values_dispatch_to_their_variant() {
    stage1_only();
    for n in 0..10 {
        assert_eq!(power(3, n), 3u64.pow(n));
        assert_eq!(power::generic(3, n), 3u64.pow(n));
    }
    let h = power::specialized(4).unwrap();
    assert_eq!(h.origin(), Origin::Static);
    assert_eq!(h.call(2), 16);
}

mod counting {
    use staged::specialize;

    #[specialize(n = [2, 3])]
    pub fn power(x: u64, n: u32) -> u64 {
        (0..n).fold(1u64, |p, _| p.wrapping_mul(x))
    }
}

#[test]
fn generic_calls_are_counted_and_static_ones_are_not() {
    stage1_only();
    use counting::power;
    let before = power::stats().generic_calls;
    power(2, 2);
    power(2, 3);
    assert_eq!(power::stats().generic_calls, before);
    power(2, 9);
    power(2, 10);
    let after: SiteStats = power::stats();
    assert_eq!(after.generic_calls, before + 2);
    assert_eq!((after.compiled, after.cached, after.failed), (0, 0, 0));
}

#[test]
fn values_without_a_variant_are_unavailable_with_the_runtime_off() {
    stage1_only();
    let err = power::specialized(13).unwrap_err();
    assert!(matches!(err, staged::Error::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("STAGED_MODE=off"), "{err}");
    power::prepare([2, 3]).unwrap();
    assert!(power::prepare([2, 13]).is_err());
}

#[specialize(a = [1, 2], b = [10, 20, 30])]
fn mix(x: i64, a: i32, b: u8) -> i64 {
    x * i64::from(a) + i64::from(b)
}

#[test]
fn several_parameters_get_the_product() {
    stage1_only();
    for a in 0..4 {
        for b in [0u8, 10, 20, 30, 40] {
            assert_eq!(mix(7, a, b), 7 * i64::from(a) + i64::from(b));
        }
    }
    let h = mix::specialized(2, 30).unwrap();
    assert_eq!((h.origin(), h.call(5)), (Origin::Static, 40));
    mix::prepare([(1, 10), (2, 20)]).unwrap();
    assert!(mix::specialized(3, 10).is_err());
}

#[specialize(bits = 1..=8, runtime = false)]
fn mask(x: u32, bits: u32) -> u32 {
    x & ((1u32 << bits) - 1)
}

#[specialize(k = -3..3, runtime = false)]
fn shift(x: i64, k: i8) -> i64 {
    x + i64::from(k)
}

#[test]
fn ranges_expand_to_every_value() {
    stage1_only();
    for bits in 1..=8 {
        assert_eq!(mask(0xffff, bits), (1 << bits) - 1);
        assert_eq!(mask::specialized(bits).unwrap().origin(), Origin::Static);
    }
    assert!(mask::specialized(9).is_err());
    for k in -3..3 {
        assert_eq!(shift::specialized(k).unwrap().call(10), 10 + i64::from(k));
    }
    assert!(shift::specialized(3).is_err());
}

#[specialize(v = [-170141183460469231731687303715884105728, 0, 170141183460469231731687303715884105727])]
fn wide(x: i128, v: i128) -> i128 {
    x.wrapping_add(v)
}

#[specialize(v = [0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff, 1])]
fn wide_unsigned(x: u128, v: u128) -> u128 {
    x ^ v
}

#[test]
fn wide_integers_at_their_limits() {
    stage1_only();
    assert_eq!(wide(0, i128::MIN), i128::MIN);
    assert_eq!(wide(-1, i128::MAX), i128::MAX - 1);
    assert_eq!(
        wide::specialized(i128::MIN).unwrap().origin(),
        Origin::Static
    );
    assert_eq!(wide_unsigned(0, u128::MAX), u128::MAX);
    assert_eq!(
        wide_unsigned::specialized(u128::MAX).unwrap().call(1),
        u128::MAX - 1
    );
}

#[specialize(x = [0.0, -0.0, 1.5, -2.25e-3])]
fn scale(y: f64, x: f64) -> f64 {
    y / x
}

#[specialize(x = [0.5f32, -0.0])]
fn scale32(y: f32, x: f32) -> f32 {
    y * x
}

#[test]
fn floats_are_matched_by_bit_pattern() {
    stage1_only();
    assert_eq!(scale(1.0, 0.0), f64::INFINITY);
    assert_eq!(scale(1.0, -0.0), f64::NEG_INFINITY);
    let pos = scale::specialized(0.0).unwrap();
    let neg = scale::specialized(-0.0).unwrap();
    assert_eq!(
        (pos.call(1.0), neg.call(1.0)),
        (f64::INFINITY, f64::NEG_INFINITY)
    );
    assert!(scale(1.0, f64::NAN).is_nan());
    assert!(scale::specialized(f64::NAN).is_err());
    assert_eq!(scale(3.0, 1.5), 2.0);
    assert_eq!(scale32(3.0, 0.5), 1.5);
    assert_eq!(scale32(3.0, -0.0).to_bits(), (-0.0f32).to_bits());
    assert_eq!(scale32::specialized(0.5).unwrap().origin(), Origin::Static);
    assert!(scale32::specialized(0.0).is_err());
}

#[specialize(c = ['a', '\'', '\\', 'é'], upper = [true, false], runtime = false)]
fn tag(c: char, upper: bool) -> String {
    let s = format!("<{c}>");
    if upper { s.to_uppercase() } else { s }
}

#[specialize(sep = [",", "\"", "\n", "日本", ""], runtime = false)]
fn join(parts: &[&str], sep: &str) -> String {
    parts.join(sep)
}

#[test]
fn chars_bools_and_strings() {
    stage1_only();
    assert_eq!(tag('é', true), "<É>");
    assert_eq!(tag('z', false), "<z>");
    assert_eq!(tag::specialized('\'', false).unwrap().call(), "<'>");
    assert!(tag::specialized('z', false).is_err());
    assert_eq!(join(&["a", "b"], "\""), "a\"b");
    assert_eq!(join(&["a", "b"], "--"), "a--b");
    let h = join::specialized("日本").unwrap();
    assert_eq!(h.origin(), Origin::Static);
    assert_eq!(h.call(&["x", "y"]), "x日本y");
    join::prepare([",", ""]).unwrap();
    assert!(join::prepare(["--"]).is_err());
}

#[specialize(n = [0, 1, 5])]
fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

#[test]
fn recursion_reaches_the_generic_body() {
    stage1_only();
    assert_eq!(fib(5), 5);
    assert_eq!(fib(20), 6765);
    assert_eq!(fib::specialized(5).unwrap().call(), 5);
}

#[specialize(i = [0, 2])]
fn pick<'a>(xs: &'a [u32], i: usize) -> &'a u32 {
    &xs[i]
}

#[specialize(n = [1, 3])]
fn sum_pairs((a, b): (u32, u32), mut n: u32, _: u8) -> u32 {
    let mut total = 0;
    while n > 0 {
        total += a + b;
        n -= 1;
    }
    total
}

#[specialize(n = [2])]
fn fill(out: &mut [u8], n: u8) {
    for x in out.iter_mut() {
        *x = n;
    }
}

#[test]
fn references_patterns_and_mut_parameters() {
    stage1_only();
    let xs = [10, 20, 30];
    assert_eq!(*pick(&xs, 2), 30);
    assert_eq!(*pick::specialized(0).unwrap().call(&xs), 10);
    assert_eq!(sum_pairs((1, 2), 3, 0), 9);
    assert_eq!(sum_pairs((1, 2), 4, 0), 12);
    assert_eq!(sum_pairs::specialized(1).unwrap().call((5, 5), 0), 10);
    let mut buf = [0u8; 3];
    fill(&mut buf, 2);
    assert_eq!(buf, [2; 3]);
    fill(&mut buf, 7);
    assert_eq!(buf, [7; 3]);
}

#[specialize(n = [4], runtime = false)]
unsafe fn read_at(p: *const u8, n: usize) -> u8 {
    // SAFETY: the caller passes a pointer valid for `n + 1` bytes.
    unsafe { *p.add(n) }
}

#[test]
fn unsafe_functions_stay_unsafe() {
    stage1_only();
    let bytes = [0u8, 1, 2, 3, 4, 5];
    // SAFETY: `bytes` has 6 elements.
    unsafe {
        assert_eq!(read_at(bytes.as_ptr(), 4), 4);
        assert_eq!(read_at(bytes.as_ptr(), 5), 5);
        assert_eq!(read_at::specialized(4).unwrap().call(bytes.as_ptr()), 4);
    }
}

#[cfg(any())]
#[specialize(n = [1])]
fn configured_out(n: u32) -> u32 {
    n
}

#[specialize(n = [1])]
#[cfg(test)]
fn configured_in(n: u32) -> u32 {
    n + 1
}

#[test]
fn cfg_applies_to_the_whole_expansion() {
    stage1_only();
    assert_eq!(configured_in(1), 2);
    assert_eq!(configured_in::generic(5), 6);
}

mod outer {
    pub struct Scale(pub u64);

    pub fn helper(x: u64) -> u64 {
        x + 1
    }

    pub mod inner {
        use staged::specialize;

        fn local(x: u64) -> u64 {
            x * 10
        }

        /// With `runtime = false` the body sees its module, relative paths
        /// included, and so do the types of the signature.
        #[specialize(n = [1, 2], runtime = false)]
        pub fn mixed(s: &super::Scale, n: u64) -> u64 {
            self::local(super::helper(n)) * s.0 + local(n)
        }
    }
}

#[test]
fn runtime_false_bodies_see_their_module() {
    stage1_only();
    use outer::{Scale, inner::mixed};
    let s = Scale(3);
    for n in 0..5 {
        assert_eq!(mixed(&s, n), (n + 1) * 10 * 3 + n * 10);
    }
    assert_eq!(
        mixed::generic(&s, 2),
        mixed::specialized(2).unwrap().call(&s)
    );
    let err = mixed::specialized(7).unwrap_err();
    assert!(err.to_string().contains("runtime = false"), "{err}");
}

trait Shape {
    fn area(&self) -> f64;
}

struct Square(f64);

impl Shape for Square {
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

#[specialize(n = [1, 2], runtime = false)]
fn total_area<S: Shape, const K: usize>(
    shapes: [&S; K],
    extra: impl Fn(f64) -> f64,
    n: u32,
) -> f64 {
    shapes.iter().map(|s| extra(s.area())).sum::<f64>() * f64::from(n)
}

#[test]
fn generic_functions_with_runtime_false() {
    stage1_only();
    let (a, b) = (Square(1.0), Square(2.0));
    assert_eq!(total_area([&a, &b], |x| x, 2), 10.0);
    assert_eq!(total_area([&a, &b], |x| x + 1.0, 3), 21.0);
    let h = total_area::specialized(1).unwrap();
    assert_eq!(h.call([&a], |x| x * 2.0), 2.0);
}

struct Counter {
    base: u32,
}

impl Counter {
    #[specialize(step = [1, 10], runtime = false)]
    fn advance(&self, step: u32) -> u32 {
        self.base + step
    }

    #[specialize(base = [0], runtime = false)]
    fn new(base: u32) -> Self {
        Self { base }
    }
}

impl Counter {
    /// An associated function that does not mention `Self`: it reads like
    /// a free function, but a companion module cannot sit in this block
    /// (issue 18, item 13: "module is not supported in `trait`s or
    /// `impl`s" and E0433, even with `runtime = false`).
    #[specialize(n = [2, 3], runtime = false)]
    pub fn steps(x: u32, n: u32) -> u32 {
        x * n + 1
    }
}

trait Scaled {
    fn scaled(&self, k: u32) -> u32;
}

impl Scaled for Counter {
    #[specialize(k = [0, 2], runtime = false)]
    fn scaled(&self, k: u32) -> u32 {
        self.base * k
    }
}

#[test]
fn methods_and_trait_impls_with_runtime_false() {
    stage1_only();
    let c = Counter::new(5);
    assert_eq!(c.advance(1), 6);
    assert_eq!(c.advance(10), 15);
    assert_eq!(c.advance(7), 12);
    assert_eq!(Counter::new(0).base, 0);
    assert_eq!((c.scaled(0), c.scaled(2), c.scaled(3)), (0, 10, 15));
    assert_eq!(
        (
            Counter::steps(5, 2),
            Counter::steps(5, 3),
            Counter::steps(5, 9)
        ),
        (11, 16, 46)
    );
}

#[specialize(n = [2], runtime = false)]
async fn later(x: u32, n: u32) -> u32 {
    x * n
}

#[test]
fn async_functions_with_runtime_false() {
    stage1_only();
    assert_eq!(block_on(later(3, 2)), 6);
    assert_eq!(block_on(later(3, 5)), 15);
    assert_eq!(block_on(later::generic(3, 2)), 6);
    assert_eq!(block_on(later::specialized(2).unwrap().call(4)), 8);
}

/// Polls a future that never waits.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the future waited"),
    }
}

#[test]
fn functions_declared_inside_a_block() {
    stage1_only();
    #[specialize(n = [3])]
    fn triple(x: u32, n: u32) -> u32 {
        x * n
    }
    #[specialize(n = [3], runtime = false)]
    fn triple_static(x: u32, n: u32) -> u32 {
        x * n
    }
    assert_eq!(triple(2, 3), 6);
    assert_eq!(triple::specialized(3).unwrap().call(5), 15);
    assert_eq!(triple_static(2, 4), 8);
    assert_eq!(triple_static::generic(2, 3), 6);
}
