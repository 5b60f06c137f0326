pub struct Matrix;

impl Matrix {
    /// Does not mention `Self`, so it reads like a free function.
    #[staged::specialize(n = [2, 4])]
    pub fn trace_of_identity(n: usize) -> usize {
        n
    }
}

fn main() {}
