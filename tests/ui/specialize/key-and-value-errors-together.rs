use staged::specialize;

#[specialize(n = [1, 2], n = [3], k = [1.5])]
fn power(x: u64, n: u32, k: u8) -> u64 {
    x.pow(n) + u64::from(k)
}

fn main() {}
