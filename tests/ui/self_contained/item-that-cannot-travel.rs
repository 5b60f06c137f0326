#[staged::self_contained]
mod kernels {
    extern crate core as other_core;

    std::thread_local! {
        static COUNT: u32 = 0;
    }

    pub union Bits {
        pub f: f32,
        pub u: u32,
    }

    #[staged::specialize(k)]
    pub fn run(x: u64, k: u64) -> u64 {
        x * k
    }
}

fn main() {}
