//! Process exit statuses, one place for what each code means to a CI system.

/// What `proofpack` tells its caller through the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything checked is valid.
    Success = 0,
    /// At least one document (or check) failed.
    Failure = 1,
    /// The command could not do its job: bad usage, unreadable input, no schemas.
    Error = 2,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status as u8)
    }
}
