staged::const_init! {
    fn entry(i: u32) -> u32 {
        let half: u16 = i / 2;
        half
    }

    static TABLE: [u32; 8] = std::array::from_fn(|i| entry(i as u32));
}

fn main() {
    let _ = TABLE;
}
