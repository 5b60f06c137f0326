//! Workloads a user would recognize, each timed as: the generic body, the
//! static variant, the run-time variant (built here with
//! `-C target-cpu=native`), a hand-written function for the same value, and
//! the crate a user would pick instead.
//!
//! `cargo bench -p staged-bench --bench kernels`; quote the medians as ratios to the
//! hand-written or the generic line of the same group.

#[path = "../../examples/kernels/mod.rs"]
mod kernels;
mod peers;

use std::hint::black_box;

use bitpacking::BitPacker;
use criterion::{Criterion, criterion_group, criterion_main};
use kernels::*;
use peers::*;
use staged::runtime::{Config, Mode};

const N: usize = 1 << 20;

fn setup() {
    let store = std::env::temp_dir().join(format!("staged-bench-kernels-{}", std::process::id()));
    std::fs::create_dir_all(&store).unwrap();
    let _ = std::process::Command::new("chmod")
        .arg("700")
        .arg(&store)
        .status();
    Config::from_env()
        .mode(Mode::Sync)
        .cache_dir(store.join("store"))
        .install();
}

fn power(c: &mut Criterion) {
    setup();
    let xs = data(N);
    let n = black_box(13u32);
    let fixed = power_sum::specialized(13).unwrap();
    let late = power_sum_rt::specialized(n).unwrap();
    let want = power_sum::generic(&xs, n);
    assert_eq!(
        (fixed.call(&xs), late.call(&xs), power13_sum_by_hand(&xs)),
        (want, want, want)
    );
    let mut g = c.benchmark_group("power13_1M");
    g.sample_size(20);
    g.bench_function("generic", |b| {
        b.iter(|| power_sum::generic(black_box(&xs), n))
    });
    g.bench_function("static", |b| b.iter(|| fixed.call(black_box(&xs))));
    g.bench_function("runtime", |b| b.iter(|| late.call(black_box(&xs))));
    g.bench_function("by_hand", |b| {
        b.iter(|| power13_sum_by_hand(black_box(&xs)))
    });
    g.bench_function("std_wrapping_pow", |b| {
        b.iter(|| power_sum_std(black_box(&xs), n))
    });
    g.finish();
}

fn division(c: &mut Criterion) {
    setup();
    let xs = data(N);
    let xs32: Vec<u32> = xs.iter().map(|&x| x as u32).collect();
    let d = black_box(7u64);
    let (fixed, late) = (
        div_sum::specialized(7).unwrap(),
        div_sum_rt::specialized(d).unwrap(),
    );
    let want = div_sum::generic(&xs, d);
    assert_eq!(
        (
            fixed.call(&xs),
            late.call(&xs),
            div7_sum_by_hand(&xs),
            div_sum_strength_reduce(&xs, d)
        ),
        (want, want, want, want)
    );
    let mut g = c.benchmark_group("div_u64_1M");
    g.sample_size(20);
    g.bench_function("generic", |b| {
        b.iter(|| div_sum::generic(black_box(&xs), d))
    });
    g.bench_function("static", |b| b.iter(|| fixed.call(black_box(&xs))));
    g.bench_function("runtime", |b| b.iter(|| late.call(black_box(&xs))));
    g.bench_function("by_hand", |b| b.iter(|| div7_sum_by_hand(black_box(&xs))));
    g.bench_function("strength_reduce", |b| {
        b.iter(|| div_sum_strength_reduce(black_box(&xs), d))
    });
    g.finish();

    let (fixed, late) = (
        mod_sum::specialized(7).unwrap(),
        mod_sum_rt::specialized(d).unwrap(),
    );
    let want = mod_sum::generic(&xs, d);
    assert_eq!(
        (
            fixed.call(&xs),
            late.call(&xs),
            mod7_sum_by_hand(&xs),
            mod_sum_strength_reduce(&xs, d)
        ),
        (want, want, want, want)
    );
    let mut g = c.benchmark_group("mod_u64_1M");
    g.sample_size(20);
    g.bench_function("generic", |b| {
        b.iter(|| mod_sum::generic(black_box(&xs), d))
    });
    g.bench_function("static", |b| b.iter(|| fixed.call(black_box(&xs))));
    g.bench_function("runtime", |b| b.iter(|| late.call(black_box(&xs))));
    g.bench_function("by_hand", |b| b.iter(|| mod7_sum_by_hand(black_box(&xs))));
    g.bench_function("strength_reduce", |b| {
        b.iter(|| mod_sum_strength_reduce(black_box(&xs), d))
    });
    g.finish();

    let d = black_box(7u32);
    let (fixed, late) = (
        div_sum32::specialized(7).unwrap(),
        div_sum32_rt::specialized(d).unwrap(),
    );
    let want = div_sum32::generic(&xs32, d);
    assert_eq!(
        (
            fixed.call(&xs32),
            late.call(&xs32),
            div_sum32_strength_reduce(&xs32, d)
        ),
        (want, want, want)
    );
    let mut g = c.benchmark_group("div_mod_u32_1M");
    g.sample_size(20);
    g.bench_function("generic", |b| {
        b.iter(|| div_sum32::generic(black_box(&xs32), d))
    });
    g.bench_function("static", |b| b.iter(|| fixed.call(black_box(&xs32))));
    g.bench_function("runtime", |b| b.iter(|| late.call(black_box(&xs32))));
    g.bench_function("by_hand", |b| {
        b.iter(|| div7_sum32_by_hand(black_box(&xs32)))
    });
    g.bench_function("strength_reduce", |b| {
        b.iter(|| div_sum32_strength_reduce(black_box(&xs32), d))
    });
    g.finish();
}

fn unpacking(c: &mut Criterion) {
    setup();
    const BITS: u32 = 11;
    let values: Vec<u32> = data(N)
        .iter()
        .map(|&x| (x as u32) & ((1 << BITS) - 1))
        .collect();
    let words = pack(&values, BITS);
    let bits = black_box(BITS);
    let (fixed, late) = (
        unpack::specialized(BITS).unwrap(),
        unpack_rt::specialized(bits).unwrap(),
    );
    let mut out = vec![0u32; N];
    late.call(&words, &mut out);
    assert_eq!(out, values);
    // BitPacker8x packs in this kernel's layout: the same bytes, so every
    // line below unpacks the very same input.
    let p8 = bitpacking::BitPacker8x::new();
    let mut bytes = vec![0u8; N * 4];
    let mut at = 0;
    for chunk in values.chunks_exact(BLOCK) {
        at += p8.compress(chunk, &mut bytes[at..], BITS as u8);
    }
    bytes.truncate(at);
    assert_eq!(
        bytes,
        words
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect::<Vec<u8>>()
    );
    let unpack_8x = |out: &mut [u32]| {
        let mut at = 0;
        for chunk in out.chunks_exact_mut(BLOCK) {
            at += p8.decompress(&bytes[at..], chunk, bits as u8);
        }
    };
    let mut g = c.benchmark_group("unpack_11bit_1M");
    g.sample_size(20);
    g.bench_function("generic", |b| {
        b.iter(|| unpack::generic(black_box(&words), &mut out, bits))
    });
    g.bench_function("static", |b| {
        b.iter(|| fixed.call(black_box(&words), &mut out))
    });
    g.bench_function("runtime", |b| {
        b.iter(|| late.call(black_box(&words), &mut out))
    });
    g.bench_function("by_hand", |b| {
        b.iter(|| unpack_by_hand::<BITS>(black_box(&words), &mut out))
    });
    g.bench_function("bitpacking_8x", |b| {
        b.iter(|| unpack_8x(black_box(&mut out)))
    });
    g.finish();
}

fn matrices(c: &mut Criterion) {
    setup();
    for n in [4usize, 8, 16] {
        let (a, b) = kernels::matrices(n);
        let mut out = vec![0.0; n * n];
        let size = black_box(n);
        let (fixed, late) = (
            matmul::specialized(n).unwrap(),
            matmul_rt::specialized(size).unwrap(),
        );
        let mut want = vec![0.0; n * n];
        matmul::generic(&a, &b, &mut want, n);
        late.call(&a, &b, &mut out);
        assert_eq!(out, want);
        let by_hand: fn(&[f64], &[f64], &mut [f64]) = match n {
            4 => matmul_by_hand::<4>,
            8 => matmul_by_hand::<8>,
            _ => matmul_by_hand::<16>,
        };
        let mut g = c.benchmark_group(format!("matmul_{n}x{n}"));
        g.bench_function("generic", |bn| {
            bn.iter(|| matmul::generic(black_box(&a), &b, &mut out, size))
        });
        g.bench_function("static", |bn| {
            bn.iter(|| fixed.call(black_box(&a), &b, &mut out))
        });
        g.bench_function("runtime", |bn| {
            bn.iter(|| late.call(black_box(&a), &b, &mut out))
        });
        g.bench_function("by_hand", |bn| {
            bn.iter(|| by_hand(black_box(&a), &b, &mut out))
        });
        g.bench_function("matrixmultiply", |bn| {
            bn.iter(|| matmul_matrixmultiply(black_box(&a), &b, &mut out, size))
        });
        g.finish();
    }
}

fn filter(c: &mut Criterion) {
    setup();
    let a: Vec<u32> = data(N).iter().map(|&x| x as u32).collect();
    let b: Vec<u32> = data(N + 1)[1..].iter().map(|&x| (x >> 32) as u32).collect();
    // The "query", as if parsed at run time.
    let (op_a, k_a, op_b, k_b) = black_box((GT, 500_000_000u32, LT, 3_000_000_000u32));
    let fixed = count_where::specialized(op_a, k_a, op_b, k_b).unwrap();
    let late = count_where_rt::specialized(op_a, k_a, op_b, k_b).unwrap();
    let want = count_where::generic(&a, &b, op_a, k_a, op_b, k_b);
    assert_eq!(
        (
            fixed.call(&a, &b),
            late.call(&a, &b),
            count_where_by_hand(&a, &b)
        ),
        (want, want, want)
    );
    let mut g = c.benchmark_group("filter_1M");
    g.sample_size(20);
    g.bench_function("generic", |bn| {
        bn.iter(|| count_where::generic(black_box(&a), &b, op_a, k_a, op_b, k_b))
    });
    g.bench_function("static", |bn| bn.iter(|| fixed.call(black_box(&a), &b)));
    g.bench_function("runtime", |bn| bn.iter(|| late.call(black_box(&a), &b)));
    g.bench_function("by_hand", |bn| {
        bn.iter(|| count_where_by_hand(black_box(&a), &b))
    });
    g.finish();
}

fn crc32(c: &mut Criterion) {
    let buf: Vec<u8> = data(1 << 17).iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(buf.len(), 1 << 20);
    let want = crc32fast::hash(&buf);
    assert_eq!(crc32_with(&CRC32_SLICES, &buf), want);
    let mut g = c.benchmark_group("crc32_1MiB");
    g.sample_size(20);
    g.bench_function("const_init_tables", |b| {
        b.iter(|| crc32_with(&CRC32_SLICES, black_box(&buf)))
    });
    g.bench_function("crc32fast_baseline", |b| {
        b.iter(|| {
            let mut h = crc32fast::Hasher::internal_new_baseline(0, 0);
            h.update(black_box(&buf));
            h.finalize()
        })
    });
    g.bench_function("crc32fast", |b| b.iter(|| crc32fast::hash(black_box(&buf))));
    g.finish();
}

criterion_group!(benches, power, division, unpacking, matrices, filter, crc32);
criterion_main!(benches);
