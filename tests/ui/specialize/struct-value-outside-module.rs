use staged::specialize;

#[derive(Clone, Copy)]
pub struct Pred {
    pub lo: i64,
    pub hi: i64,
}

#[specialize(p)]
fn inside(x: i64, p: Pred) -> bool {
    (p.lo..=p.hi).contains(&x)
}

fn main() {}
