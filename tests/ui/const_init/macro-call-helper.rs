macro_rules! tables {
    () => {};
}

staged::const_init! {
    tables!();

    static N: u32 = 1;
}

fn main() {}
