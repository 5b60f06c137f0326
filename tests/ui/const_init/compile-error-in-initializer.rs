staged::const_init! {
    fn square(x: u32) -> u32 {
        x * x
    }

    static SQUARES: [u32; 16] = std::array::from_fn(|i| sqare(i as u32));
}

fn main() {
    let _ = SQUARES;
}
