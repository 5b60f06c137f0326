use staged::specialize;

#[specialize(k)]
fn steps(xs: &[u8], k: u8) -> u32 {
    let mut pc = 0usize;
    let mut sum = 0u32;
    #[staged::unroll(pc)]
    while pc < xs.len() {
        sum += u32::from(xs[pc] ^ k);
        pc += 1;
    }
    sum
}

fn main() {}
