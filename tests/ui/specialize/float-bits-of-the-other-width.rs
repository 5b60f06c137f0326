use staged::specialize;

#[specialize(taps = [[f64::from_bits(0x3ff0000000000000), f32::from_bits(0x3f800000)]])]
fn fir(x: f64, taps: &[f64]) -> f64 {
    x * taps.len() as f64
}

fn main() {}
