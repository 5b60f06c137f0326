use staged::specialize;

#[specialize(plan)]
fn tail_sum(plan: &[u64]) -> u64 {
    let plan = &plan[1..];
    let mut total = 0;
    #[staged::unroll]
    for p in plan {
        total += p;
    }
    total
}

fn main() {}
