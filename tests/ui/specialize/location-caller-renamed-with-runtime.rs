use staged::specialize;

#[specialize(n)]
fn located(n: u32) -> u32 {
    use std::panic::Location as Here;
    Here::caller().line() + n
}

fn main() {}
