use staged::specialize;

struct Counter {
    base: u32,
}

impl Counter {
    #[specialize(base = [0, 1])]
    fn new(base: u32) -> Self {
        Counter { base }
    }
}

fn main() {
    let _ = Counter::new(3).base;
}
