staged::const_init! {
    #[fallback(lazy)]
    const HOME: &str = std::env::var("HOME").unwrap();
}

fn main() {}
