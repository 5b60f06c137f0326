use staged::specialize;

pub fn helper(n: u32) -> u32 {
    n
}

macro_rules! make {
    () => {
        #[specialize(n)]
        fn wrapped(n: u32) -> u32 {
            $crate::helper(n)
        }
    };
}

make!();

fn main() {}
