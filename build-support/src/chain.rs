//! An error with its causes on one line, for the places that show an error
//! to a person: log lines, `stats().last_error`, compiler warnings.
//!
//! Every error of staged says what failed at its own level in `Display` and
//! hands its cause out through `source()`, never both (the convention of the
//! Rust API guidelines and of thiserror), so that a reporter that walks the
//! chain says each thing once. Printing only the top level would drop the
//! cause; [`Chain`] prints them all.

use std::error::Error;
use std::fmt;

/// Displays an error and each of its sources, joined by `": "`.
///
/// ```
/// use std::{error::Error, fmt, io};
///
/// use staged_build::chain::Chain;
///
/// #[derive(Debug)]
/// struct Open(io::Error);
///
/// impl fmt::Display for Open {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         f.write_str("cannot open the cache")
///     }
/// }
///
/// impl Error for Open {
///     fn source(&self) -> Option<&(dyn Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let e = Open(io::Error::other("permission denied"));
/// assert_eq!(e.to_string(), "cannot open the cache");
/// assert_eq!(Chain(&e).to_string(), "cannot open the cache: permission denied");
/// ```
#[derive(Clone, Copy)]
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
