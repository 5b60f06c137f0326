staged::const_init! {
    static ANSWER: &'static u32 = &42;
}

fn main() {}
