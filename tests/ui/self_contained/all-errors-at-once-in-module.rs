#[staged::self_contained]
mod kernels {
    static mut SEEN: u32 = 0;

    fn helper(x: u64) -> u64 {
        crate::main as usize as u64 + x
    }

    pub struct Plain {
        pub a: u32,
    }

    #[staged::specialize(k)]
    pub fn run(p: Plain, k: u32) -> u32 {
        p.a * k + line!()
    }
}

fn main() {}
