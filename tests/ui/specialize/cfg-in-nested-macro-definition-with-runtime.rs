use staged::specialize;

#[specialize(n)]
fn lanes(n: u32) -> u32 {
    // A macro that defines a macro, handed the `$` it needs.
    macro_rules! define {
        ($d:tt) => {
            macro_rules! has {
                ($d($d t:tt)*) => {
                    cfg!($d($d t)*)
                };
            }
        };
    }
    define!($);
    if has!(target_feature = "avx2") { n * 8 } else { n * 4 }
}

fn main() {}
