fn total(prog: &[u8]) -> u32 {
    let mut pc = 0usize;
    let mut sum = 0u32;
    #[staged::unroll(pc)]
    while pc < prog.len() {
        sum += u32::from(prog[pc]);
        pc += 1;
    }
    sum
}

fn main() {
    let _ = total(&[1, 2]);
}
