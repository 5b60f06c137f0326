use staged::specialize;

#[specialize]
fn power(x: u64, n: u32) -> u64 {
    x.pow(n)
}

fn main() {}
