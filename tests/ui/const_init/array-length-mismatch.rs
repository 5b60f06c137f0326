staged::const_init! {
    static TABLE: [u32; 4] = [1, 2, 3];
}

fn main() {
    let _ = TABLE;
}
