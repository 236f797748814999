//! The one error type of the crate. Every failure carries the exit code it maps to, so that
//! only `main` decides how the process ends.

use std::fmt;

/// A failure that ends a subcommand, with the exit code the process should end with.
#[derive(Debug)]
pub enum Error {
    /// Bad flag, value, JSON key or file: exit 2, nothing was started.
    Usage(String),
    /// The target did not accept a TCP connection before the start: exit 3.
    Unreachable(String),
    /// A bug or an unexpected OS failure: exit 1.
    Internal(String),
}

impl Error {
    /// Builds a usage error from anything printable.
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    /// Builds an internal error from anything printable.
    pub fn internal(msg: impl Into<String>) -> Self {
        Error::Internal(msg.into())
    }

    /// The process exit code for this error (see README, "Exit codes").
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Unreachable(_) => exit::UNREACHABLE,
            Error::Internal(_) => exit::INTERNAL,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Unreachable(m) | Error::Internal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

/// Exit codes shared by every subcommand.
pub mod exit {
    /// The run completed (errors of the target do not change this).
    pub const OK: i32 = 0;
    /// Internal failure.
    pub const INTERNAL: i32 = 1;
    /// Bad usage or configuration.
    pub const USAGE: i32 = 2;
    /// Target unreachable before the start.
    pub const UNREACHABLE: i32 = 3;
    /// A threshold failed.
    pub const THRESHOLD: i32 = 99;
    /// Interrupted twice.
    pub const INTERRUPTED: i32 = 130;
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;
