#[staged::self_contained]
mod kernels {
    use proptest::prelude::Strategy;

    #[staged::specialize(k)]
    pub fn run(x: u64, k: u64) -> u64 {
        x * k
    }
}

fn main() {}
