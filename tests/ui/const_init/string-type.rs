staged::const_init! {
    static GREETING: String = format!("hello, {}", "world");
}

fn main() {}
