staged::const_init! {
    static mut COUNTER: u32 = 0;
}

fn main() {}
