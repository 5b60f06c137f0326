staged::const_init! {
    static TABLE: [u32; 4];
}

fn main() {}
