staged::const_init! {
    static VALUES: &[u32] = vec![1i64, 2, 3];
}

fn main() {
    let _ = VALUES;
}
