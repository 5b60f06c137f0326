use staged::specialize;

#[specialize(n = [255, 256])]
fn shift(x: u64, n: u8) -> u64 {
    x << (n % 64)
}

fn main() {}
