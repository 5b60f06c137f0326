#[staged::self_contained]
mod kernels {
    fn calls() -> u32 {
        static CALLS: ::std::sync::atomic::AtomicU32 = ::std::sync::atomic::AtomicU32::new(0);
        CALLS.fetch_add(1, ::std::sync::atomic::Ordering::Relaxed) + 1
    }

    #[staged::specialize(k)]
    pub fn call(k: u32) -> u32 {
        calls() * k
    }
}

fn main() {}
