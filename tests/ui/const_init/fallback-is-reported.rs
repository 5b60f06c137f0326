staged::const_init! {
    /// Needs the environment, which the build-time sandbox does not have.
    #[fallback(lazy)]
    static USER: staged::Staged<&str> = std::env::var("USER").expect("USER is set");
}

fn main() {
    let length: u32 = USER.len();
}
