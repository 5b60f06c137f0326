use staged::specialize;

#[specialize(n)]
fn lanes(n: u32) -> u32 {
    macro_rules! has {
        ($predicate:tt) => {
            cfg!$predicate
        };
    }
    if has!((target_feature = "avx2")) { n * 8 } else { n * 4 }
}

fn main() {}
