#[staged::self_contained]
mod filters {
    pub struct Named {
        pub name: &'static str,
        pub min: u32,
    }

    #[staged::specialize(f)]
    pub fn pass(x: u32, f: Named) -> bool {
        x >= f.min && !f.name.is_empty()
    }
}

fn main() {}
