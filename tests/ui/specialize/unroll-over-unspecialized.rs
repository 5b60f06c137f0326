use staged::specialize;

#[specialize(k = [1, 2])]
fn scaled_sum(xs: &[u64], k: u64) -> u64 {
    let mut total = 0;
    #[staged::unroll]
    for x in xs {
        total += x * k;
    }
    total
}

fn main() {}
