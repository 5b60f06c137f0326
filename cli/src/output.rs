//! What a command prints: its text for stdout and its warnings for stderr,
//! written once it is done. A closed stdout (`staged cache list | head`)
//! ends the output quietly instead of panicking.

use std::io::{self, Write};

/// The text and warnings of a command.
#[derive(Debug, Default)]
pub struct Output {
    /// What goes to stdout.
    pub text: String,
    /// What goes to stderr, one line each.
    pub warnings: Vec<String>,
}

impl Output {
    /// Writes the warnings to stderr and the text to stdout.
    ///
    /// # Errors
    ///
    /// When stdout cannot be written, but for a reader that stopped
    /// reading, which is not a failure of the command.
    pub fn print(&self) -> io::Result<()> {
        let mut err = io::stderr().lock();
        for warning in &self.warnings {
            let _ = writeln!(err, "staged: warning: {warning}");
        }
        let mut out = io::stdout().lock();
        match out
            .write_all(self.text.as_bytes())
            .and_then(|()| out.flush())
        {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            written => written,
        }
    }
}
