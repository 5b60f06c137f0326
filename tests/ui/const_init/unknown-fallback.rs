staged::const_init! {
    #[fallback(eager)]
    static HOME: &str = std::env::var("HOME").unwrap();
}

fn main() {}
