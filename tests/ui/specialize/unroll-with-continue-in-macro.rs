use staged::specialize;

macro_rules! skip_zero {
    ($x:expr) => {
        if $x == 0 {
            continue;
        }
    };
}

#[specialize(plan = [[1, 0, 3]], runtime = false)]
fn product(plan: &[u64]) -> u64 {
    let mut p = 1;
    #[staged::unroll]
    for x in plan {
        skip_zero!(*x);
        p *= x;
    }
    p
}

fn main() {}
