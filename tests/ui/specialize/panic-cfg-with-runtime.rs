use staged::specialize;

#[specialize(n)]
fn strategy(n: u32) -> u32 {
    #[cfg(panic = "abort")]
    return n;
    n + 1
}

fn main() {}
