staged::const_init! {
    #![timeout = 5]

    static N: u32 = 1;
}

fn main() {}
