staged::const_init! {
    static TABLE = [1u32, 2, 3];
}

fn main() {}
