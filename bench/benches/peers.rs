//! The peer crates' versions of the workloads in `examples/kernels/mod.rs`,
//! for the benches and the report only: the demo does not build them.
#![allow(dead_code)] // each user takes the peers it needs

/// The peer: `strength_reduce`'s reciprocal, computed at run time.
pub fn div_sum_strength_reduce(xs: &[u64], d: u64) -> u64 {
    let sr = strength_reduce::StrengthReducedU64::new(d);
    xs.iter().fold(0u64, |q, &x| q.wrapping_add(x / sr))
}

/// The peer for `%`.
pub fn mod_sum_strength_reduce(xs: &[u64], d: u64) -> u64 {
    let sr = strength_reduce::StrengthReducedU64::new(d);
    xs.iter().fold(0u64, |r, &x| r.wrapping_add(x % sr))
}

/// The peer for `u32`.
pub fn div_sum32_strength_reduce(xs: &[u32], d: u32) -> (u64, u64) {
    let sr = strength_reduce::StrengthReducedU32::new(d);
    xs.iter().fold((0u64, 0u64), |(q, r), &x| {
        (q + u64::from(x / sr), r + u64::from(x % sr))
    })
}

/// The peer: `matrixmultiply::dgemm`, sizes at run time.
pub fn matmul_matrixmultiply(a: &[f64], b: &[f64], c: &mut [f64], n: usize) {
    // SAFETY: a, b and c hold n × n elements with row stride n, column
    // stride 1, and c does not overlap a or b.
    unsafe {
        matrixmultiply::dgemm(
            n,
            n,
            n,
            1.0,
            a.as_ptr(),
            n as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}
