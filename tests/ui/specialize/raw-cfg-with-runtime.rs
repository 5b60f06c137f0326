use staged::specialize;

#[specialize(n)]
fn lanes(n: u32) -> u32 {
    if r#cfg!(target_feature = "avx2") { n * 8 } else { n * 4 }
}

fn main() {}
