staged::const_init! {
    static EVENS: &[u32] = (0..100u32).filter(|n| n % 2 == 0).collect();
}

fn main() {
    let _ = EVENS;
}
