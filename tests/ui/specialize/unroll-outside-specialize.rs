fn sum(xs: &[u64]) -> u64 {
    let mut total = 0;
    #[staged::unroll]
    for x in xs {
        total += x;
    }
    total
}

fn main() {
    let _ = sum(&[1, 2]);
}
