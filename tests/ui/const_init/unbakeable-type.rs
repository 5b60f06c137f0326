use std::collections::HashMap;

staged::const_init! {
    static INDEX: &[(u32, HashMap<u32, u32>)] = Vec::new();
}

fn main() {}
