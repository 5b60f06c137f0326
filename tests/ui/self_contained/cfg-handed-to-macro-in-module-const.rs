#[staged::self_contained]
mod kernels {
    pub const LEVEL: u32 = {
        macro_rules! call {
            ($m:ident, $($t:tt)*) => {
                $m!($($t)*)
            };
        }
        if call!(cfg, target_feature = "avx2") { 9001 } else { 5001 }
    };

    #[staged::specialize(k)]
    pub fn level(k: u32) -> u32 {
        LEVEL + k
    }
}

fn main() {}
