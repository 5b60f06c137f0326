staged::const_init! {
    static WORDS: usize = include_str!("no-such-file.txt").lines().count();
}

fn main() {
    let _ = WORDS;
}
