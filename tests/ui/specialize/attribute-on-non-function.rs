use staged::specialize;

#[specialize(n = [1, 2])]
struct Power {
    n: u32,
}

fn main() {}
