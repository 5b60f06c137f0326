#[staged::self_contained]
mod kernels {
    use std::panic::Location;

    #[track_caller]
    fn site() -> &'static Location<'static> {
        Location::caller()
    }

    #[staged::specialize(k)]
    pub fn line(k: u32) -> u32 {
        site().line() + k
    }
}

fn main() {}
