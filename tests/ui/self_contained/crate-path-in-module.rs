pub fn outside(x: u64) -> u64 {
    x + 1
}

#[staged::self_contained]
mod kernels {
    fn helper(x: u64) -> u64 {
        crate::outside(x)
    }

    #[staged::specialize(k)]
    pub fn run(x: u64, k: u64) -> u64 {
        helper(x) * k
    }
}

fn main() {}
