use staged::Staged;

staged::const_init! {
    static TABLE: Staged<[u32; 4]> = [1, 2, 3, 4];
}

fn main() {}
