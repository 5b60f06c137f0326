use staged::specialize;

#[specialize(n = [1, 2])]
fn count(s: std::rc::Rc<str>, n: usize) -> usize {
    s.repeat(n).len()
}

fn main() {}
