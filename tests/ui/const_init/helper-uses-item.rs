staged::const_init! {
    static BASE: u32 = 10;

    fn scaled(i: u32) -> u32 {
        i * BASE
    }

    static TABLE: [u32; 4] = std::array::from_fn(|i| scaled(i as u32));
}

fn main() {
    let _ = TABLE;
}
