use staged::specialize;

#[specialize(n = [1, 2])]
async fn later(x: u32, n: u32) -> u32 {
    x * n
}

fn main() {}
