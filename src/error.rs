//! The error of `specialized` and `prepare`.

use core::fmt;

/// Why a variant could not be had for a value.
///
/// Whatever the error, the function itself keeps working: its dispatcher runs
/// the generic body for values without a variant.
///
/// Like every error of staged, `Display` says what failed at its own level
/// and the cause is `source()`, never both. [`Error::Runtime`] is
/// transparent: it displays as the [`runtime::Error`](crate::runtime::Error)
/// it holds and hands out that error's cause
/// ([`runtime::StoreError`](crate::runtime::StoreError),
/// [`runtime::ProcessError`](crate::runtime::ProcessError)). Walk the chain
/// to show the whole reason, as `stats().last_error` does:
///
/// ```
/// use std::error::Error as _;
///
/// fn reason(e: &staged::Error) -> String {
///     let mut text = e.to_string();
///     let mut cause = e.source();
///     while let Some(c) = cause {
///         text += &format!(": {c}");
///         cause = c.source();
///     }
///     text
/// }
/// # let _ = reason;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// The value has no static variant and run-time specialization is not
    /// available for this function.
    Unavailable {
        /// Which switch turned the run-time stage off.
        reason: &'static str,
    },
    /// Building or loading the run-time variant failed; the
    /// [`runtime::Error`](crate::runtime::Error) says why.
    #[cfg(feature = "runtime")]
    Runtime(crate::runtime::Error),
}

impl Error {
    /// The error of a function declared with `runtime = false`.
    #[cfg(feature = "runtime")]
    pub(crate) const RUNTIME_FALSE: Self = Self::Unavailable {
        reason: "the function is declared with `runtime = false`",
    };
    /// The error of any function when the `runtime` feature is disabled.
    #[cfg(not(feature = "runtime"))]
    pub(crate) const FEATURE_OFF: Self = Self::Unavailable {
        reason: "the `runtime` feature of staged is disabled",
    };
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable { reason } => write!(
                f,
                "no static variant for this value and run-time specialization is unavailable: {reason}"
            ),
            #[cfg(feature = "runtime")]
            // Transparent: the variant adds nothing to what the run-time
            // stage says.
            Self::Runtime(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Unavailable { .. } => None,
            #[cfg(feature = "runtime")]
            Self::Runtime(e) => core::error::Error::source(e),
        }
    }
}

#[cfg(feature = "runtime")]
impl From<staged_runtime::Error> for Error {
    fn from(e: staged_runtime::Error) -> Self {
        match e {
            staged_runtime::Error::Off => Self::Unavailable {
                reason: "run-time specialization is off (STAGED_MODE=off)",
            },
            other => Self::Runtime(other),
        }
    }
}
