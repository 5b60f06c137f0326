use staged::specialize;

#[specialize(n)]
fn lanes(n: u32) -> u32 {
    macro_rules! wide_if {
        ($when:meta) => {
            #[cfg($when)]
            return n * 8;
        };
    }
    wide_if!(target_feature = "avx2");
    n * 4
}

fn main() {}
