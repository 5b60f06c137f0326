use staged::specialize;

#[specialize(a = 0..=20, b = 0..=20)]
fn mix(x: u64, a: u32, b: u32) -> u64 {
    x * u64::from(a) + u64::from(b)
}

fn main() {}
