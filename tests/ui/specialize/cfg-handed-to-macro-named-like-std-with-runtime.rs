use staged::specialize;

#[specialize(n)]
fn lanes(n: u32) -> u32 {
    // A macro of the body's own, named like one of `std`'s.
    macro_rules! matches {
        ($attr:ident, $args:tt) => {
            #[$attr $args]
            return n * 8;
        };
    }
    matches!(cfg, (target_feature = "avx2"));
    n * 4
}

fn main() {}
