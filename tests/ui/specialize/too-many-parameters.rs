use staged::specialize;

#[specialize(a = [1], b = [1], c = [1], d = [1], e = [1], f = [1], g = [1], h = [1], i = [1])]
#[allow(clippy::too_many_arguments)]
fn sum(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8, h: u8, i: u8) -> u8 {
    a + b + c + d + e + f + g + h + i
}

fn main() {}
