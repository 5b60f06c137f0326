use staged::specialize;

trait Scale {
    #[specialize(k = [1, 2])]
    fn scale(&self, k: u32) -> u32;
}

fn main() {}
