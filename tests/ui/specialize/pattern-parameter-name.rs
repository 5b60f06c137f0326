use staged::specialize;

#[specialize(a = [1, 2])]
fn sum((a, b): (u32, u32), n: u32) -> u32 {
    (a + b) * n
}

fn main() {}
