use staged::specialize;

#[specialize(n)]
fn lanes(n: u32) -> u32 {
    // The fragment is named after an option the run-time build shares.
    macro_rules! has {
        ($unix:ident) => {
            cfg!($unix = "avx2")
        };
    }
    if has!(target_feature) { n * 8 } else { n * 4 }
}

fn main() {}
