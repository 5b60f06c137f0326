use staged::specialize;

#[specialize(v = [1, 2], runtime = false)]
fn total(v: Vec<u8>) -> u32 {
    v.iter().map(|&b| u32::from(b)).sum()
}

fn main() {}
