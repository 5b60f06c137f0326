staged::const_init! {
    fn checked_entry(i: u32) -> u32 {
        assert!(i < 200, "entry {i} is out of range");
        i * 2
    }

    static TABLE: [u32; 256] = std::array::from_fn(|i| checked_entry(i as u32));
}

fn main() {
    let _ = TABLE;
}
