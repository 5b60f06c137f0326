use staged::specialize;

#[specialize(n = [1, 2])]
fn sum<T: Into<u64>>(x: T, n: u32) -> u64 {
    x.into() * u64::from(n)
}

fn main() {}
