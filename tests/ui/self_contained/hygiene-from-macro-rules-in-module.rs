// A module written by a macro, whose function binds its own `x` and uses
// the caller's: text would make them one.
macro_rules! kernels {
    ($x:ident) => {
        #[staged::self_contained]
        mod kernels {
            #[staged::specialize(n)]
            pub fn shifted($x: u64, n: u64) -> u64 {
                let x = 1000;
                $x + x + n
            }
        }
    };
}

kernels!(x);

fn main() {}
