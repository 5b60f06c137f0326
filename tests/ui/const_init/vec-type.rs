staged::const_init! {
    static SQUARES: Vec<u32> = (0..10).map(|i| i * i).collect();
}

fn main() {}
