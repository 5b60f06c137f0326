#[staged::self_contained]
mod kernels {
    fn next() -> u64 {
        static mut CALLS: u64 = 0;
        // SAFETY: the test never calls it.
        unsafe {
            CALLS += 1;
            CALLS
        }
    }

    #[staged::specialize(k)]
    pub fn run(x: u64, k: u64) -> u64 {
        x * k + next()
    }
}

fn main() {}
