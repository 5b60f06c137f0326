use staged::specialize;

struct Point {
    x: u32,
}

#[specialize(k)]
fn shifted(x: u32, k: u32) -> u32 {
    let p = Point { x: x + k };
    p.x
}

fn main() {}
