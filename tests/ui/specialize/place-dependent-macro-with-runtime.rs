use staged::specialize;

#[specialize(n = [1, 2])]
fn banner(n: usize) -> &'static str {
    &env!("CARGO_PKG_NAME")[..n]
}

fn main() {}
