const LIMIT: u64 = 10;

#[staged::self_contained]
mod kernels {
    #[staged::specialize(k)]
    pub fn run(x: u64, k: u64) -> u64 {
        x.min(super::LIMIT) * k
    }
}

fn main() {}
