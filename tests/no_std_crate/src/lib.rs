//! A `#![no_std]` crate using staged through `default-features = false`, as
//! firmware would. It defines its own panic handler: if anything pulled in
//! `std`, the build would fail with a duplicate `panic_impl` lang item.
//!
//! The exported functions and tables are used by a C program (`main.c`)
//! that checks them, so nothing here needs a Rust runtime. The tables come
//! from `const_init!`: computed on the build host with `std`, emitted as
//! `core`-only literals, so they sit in read-only data (`tests/no_std.rs`
//! reads the object file to check).
#![no_std]

use staged::specialize;

staged::const_init! {
    fn crc_entry(i: u32) -> u32 {
        let mut c = i;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        c
    }

    /// The CRC-32 lookup table.
    #[unsafe(no_mangle)]
    pub static NOSTD_CRC32: [u32; 256] = std::array::from_fn(|i| crc_entry(i as u32));

    /// `i * i`: large enough to be emitted as one byte string per endianness.
    #[unsafe(no_mangle)]
    pub static NOSTD_SQUARES: [u64; 100_000] = std::array::from_fn(|i| (i as u64) * (i as u64));

    /// `sin(i / 100)` with the build host's libm.
    #[unsafe(no_mangle)]
    pub static NOSTD_SIN: [f32; 1024] = std::array::from_fn(|i| (i as f32 / 100.0).sin());

    /// Primes below 10 000, collected into a `Vec` on the host.
    pub static PRIMES: &[u32] = (2u32..10_000)
        .filter(|&n| (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .collect::<Vec<_>>();

    /// A string built with `format!` on the host.
    pub static GREETING: &str = format!("h\u{e9}llo from {} primes", PRIMES.len());

    /// Baked, behind the same type a fallback would have.
    #[fallback(lazy)]
    #[unsafe(no_mangle)]
    pub static NOSTD_STAGED: staged::Staged<[u16; 8]> = std::array::from_fn(|i| 1u16 << i);

    /// Panics on the build host (which unwinds) but not on this target
    /// (which aborts), so it is initialized at run time, by the `no_std`
    /// once cell.
    #[fallback(lazy)]
    pub static LAZY_ANSWER: u32 = {
        #[cfg(panic = "unwind")]
        panic!("computed on the target only");
        crc_entry(1) >> 24
    };
}

// Tables baked by build.rs with `staged_build::baked_file`.
include!(concat!(env!("OUT_DIR"), "/tables.rs"));

/// `BUILD_NOTE` for C.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_build_note() -> Slice {
    Slice {
        ptr: BUILD_NOTE.as_ptr(),
        len: BUILD_NOTE.len(),
    }
}

/// A pointer and a length, for C.
#[repr(C)]
pub struct Slice {
    /// The first element.
    pub ptr: *const u8,
    /// How many elements.
    pub len: usize,
}

/// `PRIMES` for C.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_primes() -> Slice {
    Slice {
        ptr: PRIMES.as_ptr().cast(),
        len: PRIMES.len(),
    }
}

/// `GREETING` for C, as UTF-8 bytes.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_greeting() -> Slice {
    Slice {
        ptr: GREETING.as_ptr(),
        len: GREETING.len(),
    }
}

/// `NOSTD_STAGED[i]`, through `Deref`.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_staged(i: usize) -> u16 {
    NOSTD_STAGED[i % 8]
}

/// `*LAZY_ANSWER`, computed on first access; 0 if it was baked.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_lazy_answer() -> u32 {
    if LAZY_ANSWER.is_baked() { 0 } else { *LAZY_ANSWER }
}

/// `x` to the power `n`; 2, 3 and 4 are specialized at compile time.
#[specialize(n = [2, 3, 4], runtime = false)]
pub fn power(x: u64, n: u32) -> u64 {
    let mut p = 1u64;
    for _ in 0..n {
        p = p.wrapping_mul(x);
    }
    p
}

/// Keeps the low `bits` bits of `x`.
#[specialize(bits = 1..=16, runtime = false)]
pub fn low_bits(x: u32, bits: u32) -> u32 {
    x & ((1u32 << bits) - 1)
}

/// `power` for C.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_power(x: u64, n: u32) -> u64 {
    power(x, n)
}

/// `power::generic` for C.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_power_generic(x: u64, n: u32) -> u64 {
    power::generic(x, n)
}

/// The handle of a static variant, or `u64::MAX` when `n` has none.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_power_handle(x: u64, n: u32) -> u64 {
    match power::specialized(n) {
        Ok(h) if h.origin() == staged::Origin::Static => h.call(x),
        _ => u64::MAX,
    }
}

/// `low_bits` for C.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_low_bits(x: u32, bits: u32) -> u32 {
    low_bits(x, bits)
}

/// How many calls ran a generic body.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_generic_calls() -> u64 {
    power::stats().generic_calls + low_bits::stats().generic_calls
}

/// The dot product of `taps` with the first `taps.len()` of `xs`: a
/// filter's output. The taps `[1, 2, 1]` and `[3, 0, 5, 7]` are
/// specialized at compile time: a slice value, one multiply-add per tap
/// in each variant (`#[staged::unroll]`), the tap and its index constants.
#[specialize(taps = [[1, 2, 1], [3, 0, 5, 7]], runtime = false)]
pub fn fir(xs: &[i32], taps: &[i32]) -> i32 {
    let mut acc = 0i32;
    #[staged::unroll]
    for (k, t) in taps.iter().enumerate() {
        acc = acc.wrapping_add(t.wrapping_mul(xs[k]));
    }
    acc
}

/// `fir` for C.
///
/// # Safety
///
/// `xs` points to `n` readable values and `taps` to `ntaps`, with
/// `ntaps <= n`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nostd_fir(
    xs: *const i32,
    n: usize,
    taps: *const i32,
    ntaps: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    let (xs, taps) = unsafe {
        (
            core::slice::from_raw_parts(xs, n),
            core::slice::from_raw_parts(taps, ntaps),
        )
    };
    fir(xs, taps)
}

/// `fir`'s static variant for `taps`, called through its handle, or
/// `i32::MIN` when `taps` has none.
///
/// # Safety
///
/// As for [`nostd_fir`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nostd_fir_handle(
    xs: *const i32,
    n: usize,
    taps: *const i32,
    ntaps: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    let (xs, taps) = unsafe {
        (
            core::slice::from_raw_parts(xs, n),
            core::slice::from_raw_parts(taps, ntaps),
        )
    };
    match fir::specialized(taps) {
        Ok(h) if h.origin() == staged::Origin::Static => h.call(xs),
        _ => i32::MIN,
    }
}

/// How many calls of `fir` ran its generic body.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_fir_generic_calls() -> u64 {
    fir::stats().generic_calls
}

/// Helpers and a kernel kept together, as `#[staged::self_contained]`
/// asks: the attribute works without `std`, for functions specialized at
/// compile time.
#[staged::self_contained]
pub mod checksum {
    /// FNV-1a's offset basis.
    pub const SEED: u32 = 0x811C_9DC5;

    fn step(h: u32, b: u8) -> u32 {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    }

    /// FNV-1a of the first `len` bytes; 4 and 8 are specialized.
    #[staged::specialize(len = [4, 8], runtime = false)]
    pub fn fnv(bytes: &[u8], len: usize) -> u32 {
        bytes.iter().take(len).fold(SEED, |h, &b| step(h, b))
    }
}

/// `checksum::fnv` for C.
///
/// # Safety
///
/// `ptr` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nostd_fnv(ptr: *const u8, len: usize) -> u32 {
    // SAFETY: the caller's contract.
    let bytes = unsafe { core::slice::from_raw_parts(ptr, len) };
    checksum::fnv(bytes, len)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
