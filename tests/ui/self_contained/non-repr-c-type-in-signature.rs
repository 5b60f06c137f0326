#[staged::self_contained]
mod kernels {
    #[derive(Clone, Copy)]
    pub struct Point {
        pub x: u32,
        pub y: u32,
    }

    #[staged::specialize(k)]
    pub fn scale(p: Point, k: u32) -> u32 {
        p.x * k + p.y
    }
}

fn main() {}
