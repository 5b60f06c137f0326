use staged::specialize;

#[specialize(n = [1, 2])]
const fn triple(x: u32, n: u32) -> u32 {
    x * n
}

fn main() {}
