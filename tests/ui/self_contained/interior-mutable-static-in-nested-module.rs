#[staged::self_contained]
mod kernels {
    mod inner {
        pub static HITS: ::std::sync::atomic::AtomicU32 = ::std::sync::atomic::AtomicU32::new(0);
    }

    #[staged::specialize(k)]
    pub fn hit(k: u32) -> u32 {
        inner::HITS.fetch_add(k, ::std::sync::atomic::Ordering::Relaxed) + k
    }
}

fn main() {}
