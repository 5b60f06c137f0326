use staged::specialize;

#[specialize(n)]
fn located(n: u32) -> u32 {
    macro_rules! at {
        ($f:ident) => {
            std::panic::Location::$f()
        };
    }
    at!(caller).line() + n
}

fn main() {}
