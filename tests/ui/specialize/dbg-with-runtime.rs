use staged::specialize;

#[specialize(n)]
fn traced(n: u32) -> u32 {
    dbg!(n) + 1
}

fn main() {}
