use staged::specialize;

#[specialize(n, runtime = false)]
fn power(x: u64, n: u32) -> u64 {
    x.pow(n)
}

fn main() {}
