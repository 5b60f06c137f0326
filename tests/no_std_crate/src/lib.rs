//! A `#![no_std]` crate using staged through `default-features = false`, as
//! firmware would. It defines its own panic handler: if anything pulled in
//! `std`, the build would fail with a duplicate `panic_impl` lang item.
//!
//! The exported functions are called from a C program (`main.c`) that checks
//! their results, so nothing here needs a Rust runtime.
#![no_std]

use staged::specialize;

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

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
