use staged::specialize;

#[specialize(n = [1, 2, 2])]
fn power(x: u64, n: u32) -> u64 {
    x.pow(n)
}

fn main() {
    let _: u64 = power(3, 2);
}
