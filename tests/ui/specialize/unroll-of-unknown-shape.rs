use staged::specialize;

#[specialize(plan)]
fn backwards(plan: &[u64]) -> u64 {
    let mut total = 0;
    #[staged::unroll]
    for p in plan.iter().rev() {
        total = total * 10 + p;
    }
    total
}

fn main() {}
