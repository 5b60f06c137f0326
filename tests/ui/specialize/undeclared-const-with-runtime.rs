use staged::specialize;

const SCALE: u64 = 0x9E37_79B9_7F4A_7C15;

#[specialize(k)]
fn hash(x: u64, k: u64) -> u64 {
    (x ^ k).wrapping_mul(SCALE)
}

fn main() {}
