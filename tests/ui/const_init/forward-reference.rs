staged::const_init! {
    static DOUBLED: [u32; 4] = BASE.map(|x| x * 2);
    static BASE: [u32; 4] = [1, 2, 3, 4];
}

fn main() {
    let _ = DOUBLED;
}
