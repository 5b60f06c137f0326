#[staged::self_contained]
fn kernel(x: u64) -> u64 {
    x
}

fn main() {}
