use staged::specialize;

#[specialize(n = [1, 2], threshold = 5)]
fn power(x: u64, n: u32) -> u64 {
    x.pow(n)
}

fn main() {}
