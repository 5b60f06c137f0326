#[staged::self_contained]
mod kernels {
    fn calls() -> u32 {
        macro_rules! counter {
            ($name:ident: $t:ty) => {
                static $name: $t = <$t>::new(0);
            };
        }
        counter!(CALLS: ::std::sync::atomic::AtomicU32);
        CALLS.fetch_add(1, ::std::sync::atomic::Ordering::Relaxed) + 1
    }

    #[staged::specialize(k)]
    pub fn call(k: u32) -> u32 {
        calls() * k
    }
}

fn main() {}
