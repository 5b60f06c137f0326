use staged::specialize;

fn mul(a: u64, b: u64) -> u64 {
    a.wrapping_mul(b)
}

#[specialize(n)]
fn power(x: u64, n: u32) -> u64 {
    (0..n).fold(1, |p, _| mul(p, x))
}

fn main() {}
