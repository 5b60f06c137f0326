macro_rules! double {
    ($e:expr) => {
        $e * 2
    };
}

#[staged::self_contained]
mod kernels {
    fn helper(x: u64) -> u64 {
        double!(x)
    }

    #[staged::specialize(k)]
    pub fn run(x: u64, k: u64) -> u64 {
        helper(x) * k
    }
}

fn main() {}
