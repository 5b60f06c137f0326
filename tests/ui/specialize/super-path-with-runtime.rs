use staged::specialize;

fn helper(x: u64) -> u64 {
    x + 1
}

mod inner {
    use super::specialize;

    #[specialize(n = [1, 2])]
    pub fn power(x: u64, n: u32) -> u64 {
        super::helper(x).pow(n)
    }
}

fn main() {
    let _ = inner::power(2, 3);
}
