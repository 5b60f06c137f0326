staged::const_init! {
    static TABLE: [u8; 4] = {
        let data = [1u8, 2, 3];
        std::array::from_fn(|i| data[i])
    };
}

fn main() {
    let _ = TABLE;
}
