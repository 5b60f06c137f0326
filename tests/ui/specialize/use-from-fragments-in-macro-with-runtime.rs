use staged::specialize;

#[specialize(n)]
fn lanes(n: u32) -> u32 {
    macro_rules! import {
        ($path:path, $name:ident) => {
            #[allow(unused_imports)]
            use $path as $name;
        };
    }
    import!(std::line, here);
    n
}

fn main() {}
