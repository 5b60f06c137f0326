use staged::specialize;

macro_rules! double {
    ($e:expr) => {
        $e * 2
    };
}

#[specialize(n = [1, 2])]
fn power(x: u64, n: u32) -> u64 {
    double!(x).pow(n)
}

fn main() {}
