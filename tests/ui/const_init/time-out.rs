staged::const_init! {
    #![eval_timeout = 1]

    static FOREVER: u64 = {
        let mut n = 0u64;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    };
}

fn main() {
    let _ = FOREVER;
}
