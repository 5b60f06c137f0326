//! The error of the run-time stage.

/// Why a run-time variant could not be had.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Run-time specialization is switched off (`STAGED_MODE=off`).
    #[error("run-time specialization is off (STAGED_MODE=off)")]
    Off,
}
