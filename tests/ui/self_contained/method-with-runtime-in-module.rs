#[staged::self_contained]
mod kernels {
    pub struct Row {
        pub a: u32,
    }

    impl Row {
        #[staged::specialize(k)]
        pub fn scaled(&self, k: u32) -> u32 {
            self.a * k
        }
    }
}

fn main() {}
