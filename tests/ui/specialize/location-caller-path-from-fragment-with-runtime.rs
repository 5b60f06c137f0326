use staged::specialize;

#[specialize(n)]
fn located(n: u32) -> u32 {
    use std::panic::Location;
    macro_rules! at {
        ($t:ident) => {
            $t::caller()
        };
    }
    at!(Location).line() + n
}

fn main() {}
