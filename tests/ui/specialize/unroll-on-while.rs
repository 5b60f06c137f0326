use staged::specialize;

#[specialize(plan)]
fn first_zero(plan: &[u8]) -> usize {
    let mut i = 0;
    #[staged::unroll]
    while i < plan.len() && plan[i] != 0 {
        i += 1;
    }
    i
}

fn main() {}
