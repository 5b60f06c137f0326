// `print!`, `println!`, `eprint!` and `eprintln!` of the variants, written
// into every library (codegen/mod.rs): the text goes through the host's own
// stdout and stderr (by `staged_support::write`), so it is buffered, ordered
// and flushed with the host's output instead of sitting in this library's
// copy of std.
#[doc(hidden)]
pub mod __staged_io {
    macro_rules! print {
        ($($t:tt)*) => { $crate::staged_support::write(1, ::std::format!($($t)*)) };
    }
    macro_rules! println {
        () => { $crate::staged_support::write(1, ::std::string::String::from("\n")) };
        ($($t:tt)*) => { $crate::staged_support::write_line(1, ::std::format!($($t)*)) };
    }
    macro_rules! eprint {
        ($($t:tt)*) => { $crate::staged_support::write(2, ::std::format!($($t)*)) };
    }
    macro_rules! eprintln {
        () => { $crate::staged_support::write(2, ::std::string::String::from("\n")) };
        ($($t:tt)*) => { $crate::staged_support::write_line(2, ::std::format!($($t)*)) };
    }
    pub(crate) use {eprint, eprintln, print, println};
}
