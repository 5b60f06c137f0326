//! The `staged` binary; the command lives in the `staged_cli` library.

fn main() -> std::process::ExitCode {
    staged_cli::run()
}
