use staged::specialize;

// The macro binds its own `x` and uses the caller's: hygiene keeps them
// apart, a run-time build from text could not.
macro_rules! offset_by_thousand {
    ($name:ident, $x:ident) => {
        #[specialize(n)]
        fn $name($x: u64, n: u64) -> u64 {
            let x = 1000;
            $x + x + n
        }
    };
}

offset_by_thousand!(shifted, x);

// Names that do not collide are fine, wherever they come from.
macro_rules! scaled {
    ($name:ident, $t:ty) => {
        #[specialize(n)]
        fn $name(a: $t, n: u64) -> u64 {
            let b: $t = a;
            b * n
        }
    };
}

scaled!(times, u64);

fn main() {}
