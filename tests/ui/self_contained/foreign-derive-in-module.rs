#[staged::self_contained]
mod kernels {
    #[repr(C)]
    #[derive(Clone, Copy, Zeroable)]
    pub struct Row {
        pub a: u32,
    }

    #[staged::specialize(k)]
    pub fn run(r: Row, k: u32) -> u32 {
        r.a * k
    }
}

fn main() {}
