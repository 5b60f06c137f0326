use staged::specialize;

#[specialize(n)]
fn located(n: u32) -> (u32, &'static str) {
    (std::line!() + n, ::core::module_path!())
}

fn main() {}
