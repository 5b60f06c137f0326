use staged::specialize;

#[specialize(n = [1, 2])]
fn repeat(s: String, n: usize) -> usize {
    s.repeat(n).len()
}

fn main() {}
