#[staged::self_contained]
mod kernels {
    fn lanes() -> u32 {
        macro_rules! has {
            ($unix:ident) => {
                cfg!($unix = "avx2")
            };
        }
        if has!(target_feature) { 8 } else { 4 }
    }

    #[staged::specialize(k)]
    pub fn width(k: u32) -> u32 {
        lanes() * k
    }
}

fn main() {}
