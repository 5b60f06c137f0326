use staged::specialize;

#[specialize(n)]
fn lanes(n: u32) -> u32 {
    macro_rules! quiet_if {
        ($when:meta) => {
            #[cfg_attr($when, allow(unused_variables))]
            let wide = n * 8;
        };
    }
    quiet_if!(target_feature = "avx2");
    n * 4
}

fn main() {}
