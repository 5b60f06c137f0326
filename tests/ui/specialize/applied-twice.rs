use staged::specialize;

#[specialize(n = [1])]
#[specialize(n = [2])]
fn power(x: u64, n: u32) -> u64 {
    x.pow(n)
}

fn main() {
    let _ = power(2, 3);
}
