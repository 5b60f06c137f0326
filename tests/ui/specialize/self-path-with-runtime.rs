use staged::specialize;

fn helper(x: u64) -> u64 {
    x + 1
}

#[specialize(n = [1, 2])]
fn power(x: u64, n: u32) -> u64 {
    self::helper(x).pow(n)
}

fn main() {}
