//! The workloads of the benches and of the report, each written once and
//! specialized three ways: static variants listed in the attribute, a twin
//! specialized at run time only (so the same value can be timed both ways),
//! and a hand-written version for the value the benches use.
//!
//! Shared by the demo and, through `#[path]`, by the benches and the report
//! of `bench/` (which add the peer crates, in `bench/benches/peers.rs`).
#![allow(dead_code)] // each user takes the kernels it needs

pub mod programs;

/// Defines a kernel twice from one body: `$name` with static variants for
/// `static(...)`, and `$rt` specialized at run time only (`runtime(...)`).
macro_rules! kernel {
    (
        $(#[$doc:meta])*
        fn $name:ident / $rt:ident ($($params:tt)*) -> $ret:ty,
        static($($listed:tt)*), runtime($($late:tt)*)
        $body:block
    ) => {
        $(#[$doc])*
        #[::staged::specialize($($listed)*)]
        pub fn $name($($params)*) -> $ret $body

        $(#[$doc])*
        #[::staged::specialize($($late)*)]
        pub fn $rt($($params)*) -> $ret $body
    };
}

/// A small function, for build and load latency.
#[::staged::specialize(k)]
pub fn small(x: u64, k: u32) -> u64 {
    x.rotate_left(k) ^ u64::from(k)
}

// ---- power: the classic --------------------------------------------------

kernel! {
    /// Sum of `x^n` over `xs`, by repeated multiplication.
    fn power_sum / power_sum_rt(xs: &[u64], n: u32) -> u64,
    static(n = [13]), runtime(n)
    {
        let mut acc = 0u64;
        for &x in xs {
            let mut p = 1u64;
            for _ in 0..n {
                p = p.wrapping_mul(x);
            }
            acc = acc.wrapping_add(p);
        }
        acc
    }
}

/// `power_sum` for n = 13, by hand: x^13 = x^8 · x^4 · x.
pub fn power13_sum_by_hand(xs: &[u64]) -> u64 {
    xs.iter().fold(0u64, |acc, &x| {
        let x2 = x.wrapping_mul(x);
        let x4 = x2.wrapping_mul(x2);
        let x8 = x4.wrapping_mul(x4);
        acc.wrapping_add(x8.wrapping_mul(x4).wrapping_mul(x))
    })
}

/// The peer: std's exponentiation by squaring, with `n` at run time.
pub fn power_sum_std(xs: &[u64], n: u32) -> u64 {
    xs.iter()
        .fold(0u64, |acc, &x| acc.wrapping_add(x.wrapping_pow(n)))
}

// ---- division by a divisor known late ------------------------------------

kernel! {
    /// Sum of `x / d` over `xs`.
    fn div_sum / div_sum_rt(xs: &[u64], d: u64) -> u64,
    static(d = [7]), runtime(d)
    {
        xs.iter().fold(0u64, |q, &x| q.wrapping_add(x / d))
    }
}

kernel! {
    /// Sum of `x % d` over `xs`.
    fn mod_sum / mod_sum_rt(xs: &[u64], d: u64) -> u64,
    static(d = [7]), runtime(d)
    {
        xs.iter().fold(0u64, |r, &x| r.wrapping_add(x % d))
    }
}

kernel! {
    /// Sums of `x / d` and `x % d` over `u32`s.
    fn div_sum32 / div_sum32_rt(xs: &[u32], d: u32) -> (u64, u64),
    static(d = [7]), runtime(d)
    {
        let (mut q, mut r) = (0u64, 0u64);
        for &x in xs {
            q += u64::from(x / d);
            r += u64::from(x % d);
        }
        (q, r)
    }
}

/// `div_sum` for d = 7, by hand.
pub fn div7_sum_by_hand(xs: &[u64]) -> u64 {
    xs.iter().fold(0u64, |q, &x| q.wrapping_add(x / 7))
}

/// `mod_sum` for d = 7, by hand.
pub fn mod7_sum_by_hand(xs: &[u64]) -> u64 {
    xs.iter().fold(0u64, |r, &x| r.wrapping_add(x % 7))
}

/// `div_sum32` for d = 7, by hand.
pub fn div7_sum32_by_hand(xs: &[u32]) -> (u64, u64) {
    xs.iter().fold((0u64, 0u64), |(q, r), &x| {
        (q + u64::from(x / 7), r + u64::from(x % 7))
    })
}

// ---- unpacking a bit-packed stream ---------------------------------------

/// Values per block of the packed format: 8 lanes of 32 values, the layout
/// of `bitpacking::BitPacker8x`.
pub const BLOCK: usize = 256;
const LANES: usize = 8;

kernel! {
    /// Unpacks blocks of 256 values of `bits` bits each. A block is `bits`
    /// rows of 8 words; lane `l` holds values `l, l + 8, l + 16, ...`, least
    /// significant bits first, so the 8 lanes unpack side by side.
    fn unpack / unpack_rt(words: &[u32], out: &mut [u32], bits: u32) -> (),
    static(bits = 1..=32), runtime(bits)
    {
        let mask = if bits == 32 { u32::MAX } else { (1u32 << bits) - 1 };
        let rows = bits as usize;
        for (block, values) in words.chunks_exact(rows * 8).zip(out.chunks_exact_mut(256)) {
            for step in 0..32 {
                let bit = step as u32 * bits;
                let (row, shift) = ((bit / 32) as usize, bit % 32);
                let low: &[u32; 8] = block[row * 8..row * 8 + 8].try_into().unwrap();
                let mut lanes = [0u32; 8];
                for (v, w) in lanes.iter_mut().zip(low) {
                    *v = w >> shift;
                }
                if shift + bits > 32 {
                    let high: &[u32; 8] = block[row * 8 + 8..row * 8 + 16].try_into().unwrap();
                    for (v, w) in lanes.iter_mut().zip(high) {
                        *v |= w << (32 - shift);
                    }
                }
                for (o, v) in values[step * 8..step * 8 + 8].iter_mut().zip(lanes) {
                    *o = v & mask;
                }
            }
        }
    }
}

/// `unpack` for a width fixed at compile time, as one would write it by
/// hand for each width.
pub fn unpack_by_hand<const BITS: u32>(words: &[u32], out: &mut [u32]) {
    let mask = if BITS == 32 {
        u32::MAX
    } else {
        (1u32 << BITS) - 1
    };
    let rows = BITS as usize;
    for (block, values) in words
        .chunks_exact(rows * LANES)
        .zip(out.chunks_exact_mut(BLOCK))
    {
        for step in 0..32 {
            let bit = step as u32 * BITS;
            let (row, shift) = ((bit / 32) as usize, bit % 32);
            let low: &[u32; LANES] = block[row * LANES..(row + 1) * LANES].try_into().unwrap();
            let mut lanes = [0u32; LANES];
            for (v, w) in lanes.iter_mut().zip(low) {
                *v = w >> shift;
            }
            if shift + BITS > 32 {
                let high: &[u32; LANES] = block[(row + 1) * LANES..(row + 2) * LANES]
                    .try_into()
                    .unwrap();
                for (v, w) in lanes.iter_mut().zip(high) {
                    *v |= w << (32 - shift);
                }
            }
            for (o, v) in values[step * LANES..(step + 1) * LANES]
                .iter_mut()
                .zip(lanes)
            {
                *o = v & mask;
            }
        }
    }
}

/// Packs `values` (a multiple of 256) in `unpack`'s layout.
pub fn pack(values: &[u32], bits: u32) -> Vec<u32> {
    let rows = bits as usize;
    let mut words = vec![0u32; values.len() / BLOCK * rows * LANES];
    for (block, chunk) in words
        .chunks_exact_mut(rows * LANES)
        .zip(values.chunks_exact(BLOCK))
    {
        for step in 0..32 {
            let bit = step as u32 * bits;
            let (row, shift) = ((bit / 32) as usize, bit % 32);
            for lane in 0..LANES {
                let v = chunk[step * LANES + lane];
                block[row * LANES + lane] |= v << shift;
                if shift + bits > 32 {
                    block[(row + 1) * LANES + lane] |= v >> (32 - shift);
                }
            }
        }
    }
    words
}

// ---- small dense matrices ------------------------------------------------

kernel! {
    /// `c = a · b` for `n × n` row-major matrices.
    fn matmul / matmul_rt(a: &[f64], b: &[f64], c: &mut [f64], n: usize) -> (),
    static(n = [4, 8, 16]), runtime(n)
    {
        // With the lengths known, a fixed `n` drops every bounds check.
        let (a, b, c) = (&a[..n * n], &b[..n * n], &mut c[..n * n]);
        c.fill(0.0);
        // Four rows of `c` at a time: each `b[k][j]` feeds four independent
        // sums instead of one, so the additions do not wait on each other
        // (a textbook loop is bound by the latency of one sum per element).
        // Every element still sums its products in the order of `k`, so the
        // result is the textbook loop's to the bit.
        let blocked = n - n % 4;
        for i in (0..blocked).step_by(4) {
            for k in 0..n {
                let a0 = a[i * n + k];
                let a1 = a[(i + 1) * n + k];
                let a2 = a[(i + 2) * n + k];
                let a3 = a[(i + 3) * n + k];
                for j in 0..n {
                    let bkj = b[k * n + j];
                    c[i * n + j] += a0 * bkj;
                    c[(i + 1) * n + j] += a1 * bkj;
                    c[(i + 2) * n + j] += a2 * bkj;
                    c[(i + 3) * n + j] += a3 * bkj;
                }
            }
        }
        for i in blocked..n {
            for k in 0..n {
                let aik = a[i * n + k];
                for j in 0..n {
                    c[i * n + j] += aik * b[k * n + j];
                }
            }
        }
    }
}

/// `matmul` for a size fixed at compile time: the same blocked loop.
pub fn matmul_by_hand<const N: usize>(a: &[f64], b: &[f64], c: &mut [f64]) {
    let (a, b, c) = (&a[..N * N], &b[..N * N], &mut c[..N * N]);
    c.fill(0.0);
    // Four rows of `c` at a time: each `b[k][j]` feeds four independent
    // sums instead of one, so the additions do not wait on each other
    // (a textbook loop is bound by the latency of one sum per element).
    // Every element still sums its products in the order of `k`, so the
    // result is the textbook loop's to the bit.
    let blocked = N - N % 4;
    for i in (0..blocked).step_by(4) {
        for k in 0..N {
            let a0 = a[i * N + k];
            let a1 = a[(i + 1) * N + k];
            let a2 = a[(i + 2) * N + k];
            let a3 = a[(i + 3) * N + k];
            for j in 0..N {
                let bkj = b[k * N + j];
                c[i * N + j] += a0 * bkj;
                c[(i + 1) * N + j] += a1 * bkj;
                c[(i + 2) * N + j] += a2 * bkj;
                c[(i + 3) * N + j] += a3 * bkj;
            }
        }
    }
    for i in blocked..N {
        for k in 0..N {
            let aik = a[i * N + k];
            for j in 0..N {
                c[i * N + j] += aik * b[k * N + j];
            }
        }
    }
}

// ---- a filter with a query's constants ----------------------------------

/// Comparison operators of a query.
pub const LT: u8 = 0;
/// `>`.
pub const GT: u8 = 1;
/// `==`.
pub const EQ: u8 = 2;

kernel! {
    /// How many rows satisfy `a op_a k_a && b op_b k_b`, the operators and
    /// constants coming from a query.
    fn count_where / count_where_rt(a: &[u32], b: &[u32], op_a: u8, k_a: u32, op_b: u8, k_b: u32) -> usize,
    static(op_a = [1], k_a = [500_000_000], op_b = [0], k_b = [3_000_000_000]), runtime(op_a, k_a, op_b, k_b)
    {
        let test = |x: u32, op: u8, k: u32| match op {
            0 => x < k,
            1 => x > k,
            _ => x == k,
        };
        a.iter().zip(b).filter(|&(&x, &y)| test(x, op_a, k_a) && test(y, op_b, k_b)).count()
    }
}

/// `count_where` for `a > 500_000_000 && b < 3_000_000_000`, by hand.
pub fn count_where_by_hand(a: &[u32], b: &[u32]) -> usize {
    a.iter()
        .zip(b)
        .filter(|&(&x, &y)| x > 500_000_000 && y < 3_000_000_000)
        .count()
}

/// Two `n × n` matrices of small values, the same on every run.
pub fn matrices(n: usize) -> (Vec<f64>, Vec<f64>) {
    let a = data(n * n)
        .iter()
        .map(|&x| (x % 1000) as f64 / 7.0)
        .collect();
    let b = data(n * n + 1)[1..]
        .iter()
        .map(|&x| (x % 1000) as f64 / 3.0)
        .collect();
    (a, b)
}

/// Pseudo-random `u64`s, the same on every run.
pub fn data(n: usize) -> Vec<u64> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        })
        .collect()
}

// ---- a CRC-32 with tables baked at build time ----------------------------

staged::const_init! {
    fn byte_table() -> [u32; 256] {
        std::array::from_fn(|i| {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            c
        })
    }

    /// Slicing-by-16 tables of CRC-32 (16 KiB), computed on the build host:
    /// table `k` advances the CRC by `k` more zero bytes.
    pub static CRC32_SLICES: [[u32; 256]; 16] = {
        let mut tables = [byte_table(); 16];
        for k in 1..16 {
            for i in 0..256 {
                let prev = tables[k - 1][i];
                tables[k][i] = (prev >> 8) ^ tables[0][(prev & 0xff) as usize];
            }
        }
        tables
    };
}

/// The slicing-by-16 tables computed at run time, as a program without
/// `const_init!` would.
pub fn crc32_slices_at_run_time() -> [[u32; 256]; 16] {
    let mut tables = [[0u32; 256]; 16];
    for (i, entry) in tables[0].iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *entry = c;
    }
    for k in 1..16 {
        for i in 0..256 {
            let prev = tables[k - 1][i];
            tables[k][i] = (prev >> 8) ^ tables[0][(prev & 0xff) as usize];
        }
    }
    tables
}

/// CRC-32 (IEEE) of `buf`, slicing by 16 bytes with `tables`.
pub fn crc32_with(t: &[[u32; 256]; 16], buf: &[u8]) -> u32 {
    let mut crc = !0u32;
    let mut chunks = buf.chunks_exact(16);
    for c in &mut chunks {
        let w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) ^ crc;
        let b = |i: usize| usize::from(c[i]);
        // The twelve bytes that do not depend on `crc` first, so that their
        // lookups overlap with the previous block's.
        crc = t[0][b(15)]
            ^ t[1][b(14)]
            ^ t[2][b(13)]
            ^ t[3][b(12)]
            ^ t[4][b(11)]
            ^ t[5][b(10)]
            ^ t[6][b(9)]
            ^ t[7][b(8)]
            ^ t[8][b(7)]
            ^ t[9][b(6)]
            ^ t[10][b(5)]
            ^ t[11][b(4)]
            ^ t[12][(w >> 24) as usize]
            ^ t[13][((w >> 16) & 0xff) as usize]
            ^ t[14][((w >> 8) & 0xff) as usize]
            ^ t[15][(w & 0xff) as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ u32::from(b)) & 0xff) as usize];
    }
    !crc
}
