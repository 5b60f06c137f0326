staged::const_init! {
    extern crate alloc;

    static N: u32 = 1;
}

fn main() {}
