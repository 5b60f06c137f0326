use staged::specialize;

#[specialize(k)]
fn quiet(x: u64, k: u64) -> u64 {
    std::panic::set_hook(Box::new(|_| {}));
    x / k
}

fn main() {}
