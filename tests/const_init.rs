//! `const_init!` with the real evaluator: the tables below are computed on
//! the build host while this test crate compiles, and every test checks
//! them against the same computation done now, at run time.
// The items that fall back to run time say so with a warning, as intended;
// some of them read the environment on purpose, which the sandbox hides.
#![allow(
    deprecated,
    missing_docs,
    clippy::disallowed_methods,
    clippy::type_complexity
)]

use staged::Staged;

mod common;
use common::reference_crc;

staged::const_init! {
    fn crc_entry(i: u32) -> u32 {
        let mut c = i;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        c
    }

    fn xorshift_table(n: usize) -> Vec<u32> {
        let mut x = 0x9E37_79B9u32;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x
            })
            .collect()
    }

    struct Point {
        x: i16,
        y: i16,
    }

    impl Point {
        fn pair(&self) -> (i16, i16) {
            (self.x, self.y)
        }
    }

    /// CRC-32 lookup table.
    pub static CRC32: [u32; 256] = std::array::from_fn(|i| crc_entry(i as u32));

    /// `sin(i / 100)`, the host's libm result.
    pub static SIN: [f32; 1024] = std::array::from_fn(|i| (i as f32 / 100.0).sin());

    pub static PRIMES: &[u32] = (2u32..10_000)
        .filter(|&n| (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .collect::<Vec<_>>();

    pub const NAMES: &[&str] = vec!["alpha".to_string(), "beta".to_string()];

    pub static TRICKY: &str = "quote \" backslash \\ newline \n nul \0 é 日本 🦀".to_string();

    /// Longer than the inline limit: it goes through a cache file.
    pub static LONG: &str = "0123456789".repeat(10_000);

    pub static NESTED: (Option<(u8, &str)>, [Option<i16>; 3], &[&[u32]], ()) = (
        Some((7, "seven")),
        [Some(-1), None, Some(i16::MIN)],
        vec![vec![1, 2], vec![], vec![3]],
        (),
    );

    pub static EXTREMES: (i128, u128, i64, u8, isize, usize, char, bool) = (
        i128::MIN,
        u128::MAX,
        i64::MIN,
        u8::MAX,
        isize::MIN,
        usize::MAX,
        '\u{10FFFF}',
        true,
    );

    pub static FLOATS: [f64; 6] = [
        -0.0,
        f64::from_bits(0x7ff8_0000_0000_0001),
        f64::MIN_POSITIVE / 4.0,
        f64::INFINITY,
        std::f64::consts::PI.powf(1.5),
        (2.0f64).ln(),
    ];

    /// A million entries: one blob per endianness, through `include_bytes!`.
    pub static MILLION: [u32; 1_000_000] = xorshift_table(1_000_000).try_into().unwrap();

    pub static POINT: (i16, i16) = Point { x: 3, y: -4 }.pair();

    /// Later initializers see earlier values.
    pub const CRC_SUM: u64 = CRC32.iter().map(|&c| c as u64).sum();
    pub static PRIME_COUNT: usize = PRIMES.len();
    pub static GRID: [[u16; 32]; 32] = std::array::from_fn(|r| std::array::from_fn(|c| (r * 32 + c) as u16));

    pub static WORDS: &[&str] = include_str!("const_init_data/words.txt").lines().map(String::from).collect::<Vec<_>>();
    pub static WEIGHT_SUM: u32 = include_bytes!("const_init_data/weights.bin").iter().map(|&b| b as u32).sum();

    const _: () = assert!(2 + 2 == 4);
}

staged::const_init! {
    #![eval_timeout = 1]

    /// Can be baked: it is.
    #[fallback(lazy)]
    pub static BAKED: [u8; 4] = [1, 2, 3, 4];

    /// The sandbox has no environment: initialized at run time.
    #[fallback(lazy)]
    pub static PATH_LEN: Staged<usize> = std::env::var("PATH").unwrap().len();

    /// The sandbox runs in an empty directory: initialized at run time.
    #[fallback(lazy)]
    pub static MANIFEST: &str = std::fs::read_to_string("Cargo.toml").unwrap();

    /// Uses an item that falls back, so it falls back too.
    #[fallback(lazy)]
    pub static MANIFEST_LINES: usize = MANIFEST.lines().count();

    /// Runs past the block's time limit on the build host.
    #[fallback(lazy)]
    pub static SLOW: u64 = {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(30) {}
        42
    };

    /// Evaluated after the time-out above, in a second run.
    #[fallback(lazy)]
    pub static AFTER_SLOW: u32 = 5;
}

staged::const_init! {
    /// Needs more memory than the evaluator may use (`STAGED_EVAL_MAX_MEMORY`,
    /// 1 GiB by default): initialized at run time.
    #[fallback(lazy)]
    pub static GREEDY: usize = std::hint::black_box(vec![1u8; 3 << 29]).iter().step_by(4096).count();
}

#[test]
fn crc32_table_is_exact() {
    assert_eq!(CRC32[0], 0);
    assert_eq!(CRC32[1], 0x7707_3096);
    assert_eq!(CRC32[255], 0x2D02_EF8D);
    for (i, &entry) in CRC32.iter().enumerate() {
        assert_eq!(entry, reference_crc(i as u32), "entry {i}");
    }
    assert_eq!(CRC_SUM, CRC32.iter().map(|&c| c as u64).sum::<u64>());
}

#[test]
fn sin_table_is_bit_identical_to_the_host() {
    for (i, &s) in SIN.iter().enumerate() {
        let now = (std::hint::black_box(i) as f32 / 100.0).sin();
        assert_eq!(s.to_bits(), now.to_bits(), "sin({i}/100)");
    }
}

#[test]
fn primes_are_exact() {
    let reference: Vec<u32> = (2u32..10_000)
        .filter(|&n| (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .collect();
    assert_eq!(PRIMES, reference.as_slice());
    assert_eq!(PRIMES.len(), 1229);
    assert_eq!(PRIME_COUNT, 1229);
}

#[test]
fn strings_survive_escaping_and_cache_files() {
    assert_eq!(NAMES, ["alpha", "beta"]);
    assert_eq!(TRICKY, "quote \" backslash \\ newline \n nul \0 é 日本 🦀");
    assert_eq!(LONG.len(), 100_000);
    assert!(LONG.starts_with("0123456789") && LONG.ends_with("789"));
    assert_eq!(WORDS, ["alpha", "beta", "gamma"]);
    assert_eq!(WEIGHT_SUM, 4 * (0..256).sum::<u32>());
}

#[test]
fn nested_values_are_exact() {
    let (first, options, slices, ()) = NESTED;
    assert_eq!(first, Some((7, "seven")));
    assert_eq!(options, [Some(-1), None, Some(i16::MIN)]);
    assert_eq!(slices, [&[1u32, 2][..], &[], &[3]]);
    assert_eq!(
        EXTREMES,
        (
            i128::MIN,
            u128::MAX,
            i64::MIN,
            u8::MAX,
            isize::MIN,
            usize::MAX,
            '\u{10FFFF}',
            true
        )
    );
    assert_eq!(POINT, (3, -4));
    assert_eq!(GRID[31][31], 1023);
    assert_eq!(GRID[1][0], 32);
}

#[test]
fn floats_are_bit_exact() {
    let expected = [
        (-0.0f64).to_bits(),
        0x7ff8_0000_0000_0001,
        (f64::MIN_POSITIVE / 4.0).to_bits(),
        f64::INFINITY.to_bits(),
        std::hint::black_box(std::f64::consts::PI)
            .powf(1.5)
            .to_bits(),
        std::hint::black_box(2.0f64).ln().to_bits(),
    ];
    assert_eq!(FLOATS.map(f64::to_bits), expected);
}

#[test]
fn a_million_entries_are_exact() {
    let mut x = 0x9E37_79B9u32;
    for (i, &entry) in MILLION.iter().enumerate() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        assert_eq!(entry, x, "entry {i}");
    }
}

#[test]
fn fallback_items_are_baked_when_they_can_be() {
    assert!(BAKED.is_baked());
    assert_eq!(*BAKED, [1, 2, 3, 4]);
    assert!(AFTER_SLOW.is_baked());
    assert_eq!(*AFTER_SLOW, 5);
}

#[test]
fn fallback_items_initialize_at_run_time_when_the_sandbox_stops_them() {
    assert!(!PATH_LEN.is_baked());
    assert_eq!(*PATH_LEN, std::env::var("PATH").unwrap().len());
    assert!(!MANIFEST.is_baked());
    assert!(MANIFEST.contains("name = \"staged\""));
    assert!(!MANIFEST_LINES.is_baked());
    assert_eq!(*MANIFEST_LINES, MANIFEST.lines().count());
}

#[test]
fn running_out_of_memory_falls_back_too() {
    assert!(!GREEDY.is_baked());
    // Not read: it would allocate 1.5 GiB.
    let _: &Staged<usize> = &GREEDY;
}

#[test]
fn a_time_out_falls_back_too() {
    assert!(!SLOW.is_baked());
    // Not read: it would spin for 30 seconds.
    let _: &Staged<u64> = &SLOW;
}
