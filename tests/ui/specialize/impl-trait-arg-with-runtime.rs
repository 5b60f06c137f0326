use staged::specialize;

#[specialize(n = [1, 2])]
fn sum(x: impl Into<u64>, n: u32) -> u64 {
    x.into() * u64::from(n)
}

fn main() {}
