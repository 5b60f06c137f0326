use staged::specialize;

#[specialize(m = [1, 2])]
fn power(x: u64, n: u32) -> u64 {
    x.pow(n)
}

fn main() {}
