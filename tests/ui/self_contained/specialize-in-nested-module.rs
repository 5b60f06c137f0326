#[staged::self_contained]
mod kernels {
    mod inner {
        #[staged::specialize(k)]
        pub fn run(x: u64, k: u64) -> u64 {
            x * k
        }
    }
}

fn main() {}
