use staged::specialize;

#[specialize(k = 0.0..1.0)]
fn scale(x: f64, k: f64) -> f64 {
    x * k
}

fn main() {}
