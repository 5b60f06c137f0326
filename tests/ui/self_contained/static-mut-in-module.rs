#[staged::self_contained]
mod kernels {
    static mut CALLS: u64 = 0;

    #[staged::specialize(k)]
    pub fn run(x: u64, k: u64) -> u64 {
        x * k
    }
}

fn main() {}
