use staged::specialize;

#[specialize(n = [0, -1])]
fn power(x: u64, n: u32) -> u64 {
    x.pow(n)
}

fn main() {}
