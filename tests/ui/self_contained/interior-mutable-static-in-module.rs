#[staged::self_contained]
mod kernels {
    use std::sync::atomic::{AtomicU64, Ordering};

    static CALLS: AtomicU64 = AtomicU64::new(0);

    pub struct Counter {
        pub seen: std::sync::Mutex<u32>,
    }

    // A static of a module type is checked through its fields.
    static COUNTER: Counter = Counter { seen: std::sync::Mutex::new(0) };

    #[staged::specialize(k)]
    pub fn run(x: u64, k: u64) -> u64 {
        CALLS.fetch_add(1, Ordering::Relaxed);
        x * k
    }
}

fn main() {}
