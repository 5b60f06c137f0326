//! Stage 2, each figure next to its baseline:
//!
//! - `first_access`: reading one entry of a table for the first time, baked
//!   by `const_init!` (a load from read-only data: there is nothing to
//!   initialize) vs the same table behind a fresh `std::sync::LazyLock`
//!   (its initializer runs on that access): CRC-32 (256 entries) and a
//!   1,000,000-entry xorshift table;
//! - `cached_expansion`: the evaluator's part of re-expanding an unchanged
//!   block, a cache hit (hash the block and its files, read the entry, check
//!   its blob files), for a small block and for the million-entry one.
//!
//! `cargo bench -p staged-bench --bench const_init`. Build times and memory for the
//! million-entry table are measured by `scripts/const_init_targets.sh`.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use staged_build::eval::{self, Block, EvalConfig, Fragment, Item, Toolchain};

staged::const_init! {
    fn crc_entry(i: u32) -> u32 {
        let mut c = i;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        c
    }

    fn xorshift(n: usize) -> Vec<u32> {
        let mut x = 0x9E37_79B9u32;
        (0..n).map(|_| { x ^= x << 13; x ^= x >> 17; x ^= x << 5; x }).collect()
    }

    static CRC32: [u32; 256] = std::array::from_fn(|i| crc_entry(i as u32));
    static MILLION: &[u32] = xorshift(1_000_000);
}

fn crc_table() -> [u32; 256] {
    std::array::from_fn(|i| {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        c
    })
}

fn million_table() -> Vec<u32> {
    let mut x = 0x9E37_79B9u32;
    (0..1_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        })
        .collect()
}

fn first_access(c: &mut Criterion) {
    let mut group = c.benchmark_group("first_access");
    group.bench_function("crc32/baked", |b| {
        b.iter(|| black_box(&CRC32)[black_box(200)])
    });
    group.bench_function("crc32/lazylock", |b| {
        b.iter_batched(
            || LazyLock::new(crc_table),
            |table| table[black_box(200)],
            BatchSize::SmallInput,
        )
    });
    group.bench_function("million/baked", |b| {
        b.iter(|| black_box(MILLION)[black_box(777_777)])
    });
    group.bench_function("million/lazylock", |b| {
        b.iter_batched(
            || LazyLock::new(million_table),
            |table| table[black_box(777_777)],
            BatchSize::PerIteration,
        )
    });
    group.finish();
    assert_eq!(CRC32, crc_table());
    assert_eq!(MILLION, million_table().as_slice());
}

/// A block as the macro hands it over, one token per word.
fn block(key: &str, init: &str, ty: &str) -> Block {
    let marks = |text: &str| {
        let mut at = 0;
        text.split(' ')
            .enumerate()
            .map(|(i, w)| {
                let mark = (at, i);
                at += w.len() + 1;
                mark
            })
            .collect()
    };
    let helper = "fn xorshift ( n : usize ) -> Vec < u32 > { let mut x = 0x9E37_79B9u32 ; ( 0 .. n ) . map ( | _ | { x ^= x << 13 ; x ^= x >> 17 ; x ^= x << 5 ; x } ) . collect ( ) }";
    Block {
        key_text: key.to_owned(),
        edition: "2024".to_owned(),
        helpers: vec![Fragment {
            text: helper.to_owned(),
            marks: marks(helper),
        }],
        items: vec![Item {
            name: "TABLE".to_owned(),
            eval_type: ty.to_owned(),
            init: Fragment {
                text: init.to_owned(),
                marks: marks(init),
            },
            convert: ty.contains('&'),
            ..Item::default()
        }],
        files: Vec::new(),
        timeout: None,
    }
}

fn cached_expansion(c: &mut Criterion) {
    let version = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .unwrap();
    let toolchain = Toolchain {
        rustc: PathBuf::from("rustc"),
        version: String::from_utf8_lossy(&version.stdout).into_owned(),
        ..Toolchain::default()
    };
    let cache = tempfile::tempdir().unwrap();
    let config = EvalConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..EvalConfig::from_env()
    };
    let mut group = c.benchmark_group("cached_expansion");
    for (name, b) in [
        (
            "small",
            block("bench small", "xorshift ( 16 )", "&'static [u32]"),
        ),
        (
            "million",
            block("bench million", "xorshift ( 1_000_000 )", "&'static [u32]"),
        ),
    ] {
        let first = eval::evaluate(&b, &toolchain, &config).unwrap();
        assert!(first.errors.is_empty(), "{first:?}");
        group.bench_function(name, |bench| {
            bench.iter(|| {
                let outcome = eval::evaluate(&b, &toolchain, &config).unwrap();
                assert!(outcome.cached);
                outcome
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = first_access, cached_expansion
}
criterion_main!(benches);
