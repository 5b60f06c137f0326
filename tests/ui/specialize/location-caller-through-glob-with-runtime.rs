use staged::specialize;

#[specialize(n)]
fn located(n: u32) -> u32 {
    use std::panic::*;
    Location::caller().line() + n
}

fn main() {}
