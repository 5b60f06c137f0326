use staged::specialize;

const TWO: u32 = 2;

#[specialize(n = [TWO])]
fn power(x: u64, n: u32) -> u64 {
    x.pow(n)
}

fn main() {
    let _ = TWO;
}
