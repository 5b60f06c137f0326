use staged::specialize;

struct Counter {
    base: u32,
}

impl Counter {
    #[specialize(step = [1, 10])]
    fn advance(&self, step: u32) -> u32 {
        self.base + step
    }
}

fn main() {
    let c = Counter { base: 1 };
    let _ = c.advance(2);
}
