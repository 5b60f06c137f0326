use staged::specialize;

#[specialize(n = [1, 2])]
fn zeros(n: usize) -> Vec<*const u8> {
    vec![std::ptr::null(); n]
}

fn main() {}
