#[staged::self_contained]
mod kernels {
    #[repr(C)]
    pub struct Shared {
        pub items: std::rc::Rc<[u64]>,
    }

    #[staged::specialize(k)]
    pub fn total(s: &Shared, k: u64) -> u64 {
        s.items.iter().map(|x| x * k).sum()
    }
}

fn main() {}
