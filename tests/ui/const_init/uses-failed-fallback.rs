staged::const_init! {
    #[fallback(lazy)]
    static HOME: &str = std::env::var("HOME").unwrap();

    static HOME_LEN: usize = HOME.len();
}

fn main() {
    let _ = HOME_LEN;
}
