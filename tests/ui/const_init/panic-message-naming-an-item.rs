// A panic message that reads like a failed dependency is still the user's
// panic, reported as one.
staged::const_init! {
    #[fallback(lazy)]
    static A: u8 = 1;

    static B: u8 = panic!("uses `A`, which could not be evaluated");
}

fn main() {
    let _ = B;
}
