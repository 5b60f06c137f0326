//! Invariant 1, by property: for every input, the static variant, the
//! dispatcher and the generic body return the same answer.

use proptest::prelude::*;
use staged::runtime::{Config, Mode};
use staged::specialize;

mod common;
use common::{same_float as same, same_mix, tricky_string};

/// Stage 1 only: run-time specialization is off, so `specialized` gives a
/// handle exactly for the listed values (stage 3 has its own properties in
/// tests/runtime.rs).
fn stage1_only() {
    static OFF: std::sync::Once = std::sync::Once::new();
    OFF.call_once(|| Config::from_env().mode(Mode::Off).install());
}

#[specialize(d = [1, 3, 7, 10, 255, 4096, 0xffff_ffff])]
fn divmod(x: u64, d: u32) -> (u64, u64) {
    let d = u64::from(d);
    (x / d, x % d)
}

#[specialize(k = [-128, -1, 0, 1, 5, 127])]
fn scaled(x: i32, k: i8) -> i32 {
    x.wrapping_mul(i32::from(k)).wrapping_sub(i32::from(k) << 3)
}

#[specialize(bits = 0..=64)]
fn low_bits(x: u64, bits: u32) -> u64 {
    if bits == 64 {
        x
    } else {
        x & ((1u64 << bits) - 1)
    }
}

/// The bits of `c` itself (NaN payloads and signs included), and arithmetic
/// with it.
#[specialize(c = [0.0, -0.0, 1.5, -2.5e-300, 1e300, 5e-324, 0.1])]
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

#[specialize(c = [0.0f32, -0.0, 3.25, 1e-45, 3.4e38])]
fn float32_mix(x: f32, c: f32) -> (u32, f32) {
    (c.to_bits(), x / c)
}

fn same32(a: (u32, f32), b: (u32, f32)) -> bool {
    a.0 == b.0 && same(a.1.into(), b.1.into())
}

#[specialize(c = ['a', '\'', '\\', '"', '\n', 'é', '日', '\u{10ffff}', '\0'])]
fn char_mix(s: &str, c: char) -> (usize, u32, u64) {
    let replaced = s.replace(c, "_");
    let hash = replaced.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (s.matches(c).count(), c as u32, hash)
}

#[specialize(sep = ["", ",", "\"); evil(); (\"", "\\", "\n\t", "日本語", "a\u{0}b"])]
fn split_count(s: &str, sep: &str) -> (usize, u64) {
    let fnv = |t: &str| {
        t.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    };
    if sep.is_empty() {
        return (s.len(), fnv(&s.to_uppercase()));
    }
    (
        s.split(sep).count(),
        fnv(&s.replace(sep, &format!("[{}]", sep.len()))),
    )
}

#[specialize(a = [0, 9], b = [false, true], c = ['x', 'y'])]
fn combo(x: u16, a: u8, b: bool, c: char) -> (u16, u8, bool, char, usize) {
    (
        x.rotate_left(u32::from(a)),
        a,
        !b,
        c,
        format!("{x}{a}{b}{c}").len(),
    )
}

fn f64_any() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        Just(0.0),
        Just(-0.0),
        Just(f64::NAN),
        Just(-f64::NAN),
        Just(f64::from_bits(0x7ff0_0000_0000_0001)),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(1.5),
        Just(5e-324),
    ]
}

fn f32_any() -> impl Strategy<Value = f32> {
    prop_oneof![
        any::<u32>().prop_map(f32::from_bits),
        Just(0.0f32),
        Just(-0.0f32),
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(3.25f32),
        Just(1e-45f32),
    ]
}

proptest! {
    #[test]
    fn integers(x: u64, d in prop_oneof![Just(1u32), Just(3), Just(7), Just(10), Just(255), Just(4096), Just(u32::MAX), 1u32..]) {
        stage1_only();
        prop_assert_eq!(divmod(x, d), divmod::generic(x, d));
        if let Ok(h) = divmod::specialized(d) {
            prop_assert_eq!(h.call(x), divmod::generic(x, d));
        }
    }

    #[test]
    fn signed_integers(x: i32, k: i8) {
        stage1_only();
    stage1_only();
        prop_assert_eq!(scaled(x, k), scaled::generic(x, k));
        if let Ok(h) = scaled::specialized(k) {
            prop_assert_eq!(h.call(x), scaled::generic(x, k));
        }
    }

    #[test]
    fn ranges(x: u64, bits in 0u32..=64) {
        stage1_only();
    stage1_only();
        let h = low_bits::specialized(bits).unwrap();
        prop_assert_eq!(h.call(x), low_bits::generic(x, bits));
        prop_assert_eq!(low_bits(x, bits), low_bits::generic(x, bits));
    }

    #[test]
    fn floats(x in f64_any(), c in prop_oneof![f64_any(), Just(0.1), Just(-2.5e-300), Just(1e300)]) {
        stage1_only();
        prop_assert!(same_mix(float_mix(x, c), float_mix::generic(x, c)));
        if let Ok(h) = float_mix::specialized(c) {
            prop_assert!(same_mix(h.call(x), float_mix::generic(x, c)));
            prop_assert_eq!(h.call(x).0, c.to_bits());
        }
    }

    #[test]
    fn floats32(x in f32_any(), c in prop_oneof![f32_any(), Just(3.4e38f32)]) {
        stage1_only();
        prop_assert!(same32(float32_mix(x, c), float32_mix::generic(x, c)));
        if let Ok(h) = float32_mix::specialized(c) {
            prop_assert!(same32(h.call(x), float32_mix::generic(x, c)));
        }
    }

    #[test]
    fn chars(s in tricky_string(), c in prop_oneof![any::<char>(), Just('\''), Just('\\'), Just('日'), Just('\u{10ffff}')]) {
        prop_assert_eq!(char_mix(&s, c), char_mix::generic(&s, c));
        if let Ok(h) = char_mix::specialized(c) {
            prop_assert_eq!(h.call(&s), char_mix::generic(&s, c));
        }
    }

    #[test]
    fn strings(s in tricky_string(), sep in prop_oneof![tricky_string(), Just("\"); evil(); (\"".to_owned()), Just("a\u{0}b".to_owned())]) {
        prop_assert_eq!(split_count(&s, &sep), split_count::generic(&s, &sep));
        if let Ok(h) = split_count::specialized(&sep) {
            prop_assert_eq!(h.call(&s), split_count::generic(&s, &sep));
        }
    }

    #[test]
    fn several_parameters(x: u16, a in 0u8..12, b: bool, c in prop_oneof![Just('x'), Just('y'), any::<char>()]) {
        stage1_only();
        prop_assert_eq!(combo(x, a, b, c), combo::generic(x, a, b, c));
        if let Ok(h) = combo::specialized(a, b, c) {
            prop_assert_eq!(h.call(x), combo::generic(x, a, b, c));
        }
    }
}

/// Every listed value has a static variant and every other value has none.
#[test]
fn listed_values_are_exactly_the_static_ones() {
    stage1_only();
    use staged::Origin;
    for d in [1, 3, 7, 10, 255, 4096, u32::MAX] {
        assert_eq!(divmod::specialized(d).unwrap().origin(), Origin::Static);
    }
    for c in [0.0, -0.0, 1.5, -2.5e-300, 1e300, 5e-324, 0.1] {
        assert_eq!(
            float_mix::specialized(c).unwrap().origin(),
            Origin::Static,
            "{c}"
        );
    }
    assert!(float_mix::specialized(f64::NAN).is_err());
    assert!(float_mix::specialized(0.1 + 1e-17).is_ok() == (0.1 + 1e-17 == 0.1));
    for c in ['a', '\'', '\\', '"', '\n', 'é', '日', '\u{10ffff}', '\0'] {
        assert_eq!(
            char_mix::specialized(c).unwrap().origin(),
            Origin::Static,
            "{c:?}"
        );
    }
    for sep in [
        "",
        ",",
        "\"); evil(); (\"",
        "\\",
        "\n\t",
        "日本語",
        "a\u{0}b",
    ] {
        assert_eq!(
            split_count::specialized(sep).unwrap().origin(),
            Origin::Static,
            "{sep:?}"
        );
    }
    assert!(split_count::specialized("a").is_err());
    assert_eq!(
        combo::specialized(9, true, 'y').unwrap().origin(),
        Origin::Static
    );
    assert!(combo::specialized(1, true, 'y').is_err());
}

/// The demo's and the benches' workloads.
#[allow(dead_code, unused_imports, clippy::all)]
#[path = "../examples/kernels/mod.rs"]
mod kernels;

/// `c = a · b`, the textbook loop the blocked `matmul` must match bit for bit.
fn matmul_textbook(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            for j in 0..n {
                c[i * n + j] += a[i * n + k] * b[k * n + j];
            }
        }
    }
    c
}

proptest! {
    /// The blocked matmul (generic body, static variants, by hand) sums each
    /// element's products in the textbook's order: the same bits, for every
    /// size (a remainder of rows after the blocks of four included).
    #[test]
    fn blocked_matmul_is_the_textbook_loop(n in 0usize..=18, seed: u64) {
        stage1_only();
        let mut s = seed | 1;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0
        };
        let a: Vec<f64> = (0..n * n).map(|_| next()).collect();
        let b: Vec<f64> = (0..n * n).map(|_| next()).collect();
        let want: Vec<u64> = matmul_textbook(&a, &b, n).iter().map(|x| x.to_bits()).collect();
        let bits = |c: &[f64]| c.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
        let mut c = vec![f64::NAN; n * n];
        kernels::matmul::generic(&a, &b, &mut c, n);
        prop_assert_eq!(&bits(&c), &want);
        let mut c = vec![f64::NAN; n * n];
        kernels::matmul(&a, &b, &mut c, n);
        prop_assert_eq!(&bits(&c), &want);
        let mut c = vec![f64::NAN; n * n];
        match n {
            4 => kernels::matmul_by_hand::<4>(&a, &b, &mut c),
            8 => kernels::matmul_by_hand::<8>(&a, &b, &mut c),
            16 => kernels::matmul_by_hand::<16>(&a, &b, &mut c),
            _ => c.copy_from_slice(&matmul_textbook(&a, &b, n)),
        }
        prop_assert_eq!(&bits(&c), &want);
    }
}
