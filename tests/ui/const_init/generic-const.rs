staged::const_init! {
    const ZERO<T>: u32 = 0;
}

fn main() {}
