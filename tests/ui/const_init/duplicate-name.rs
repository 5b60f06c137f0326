staged::const_init! {
    static TABLE: [u8; 2] = [1, 2];
    static TABLE: [u8; 2] = [3, 4];
}

fn main() {}
