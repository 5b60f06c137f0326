use staged::specialize;

#[specialize(prog)]
fn total(prog: &[u8]) -> u32 {
    let mut i = 0usize;
    let mut sum = 0u32;
    #[staged::unroll(pc)]
    while i < prog.len() {
        sum += u32::from(prog[i]);
        i += 1;
    }
    sum
}

fn main() {}
