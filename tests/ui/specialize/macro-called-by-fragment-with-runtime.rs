use staged::specialize;

#[specialize(n)]
fn lanes(n: u32) -> u32 {
    // `$vec` passes for `vec!` by its name, and holds whatever it is given.
    macro_rules! call {
        ($vec:ident) => {
            $vec!()
        };
    }
    n + call!(line)
}

fn main() {}
