use staged::specialize;

static TABLE: [u8; 4] = [1, 2, 3, 4];

#[specialize(i)]
fn pick(i: usize) -> u8 {
    TABLE[i % 4]
}

fn main() {}
