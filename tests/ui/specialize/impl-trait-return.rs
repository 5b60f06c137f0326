use staged::specialize;

#[specialize(n = [1, 2])]
fn counter(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

fn main() {}
