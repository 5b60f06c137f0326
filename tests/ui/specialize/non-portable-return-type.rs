use staged::specialize;

#[specialize(n = [1, 2])]
fn zeros(n: usize) -> Vec<u8> {
    vec![0; n]
}

fn main() {}
