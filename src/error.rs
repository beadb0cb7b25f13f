//! The library's error type. Bad input (scenario, flags) is told apart from failures of the machine, so the
//! binary can exit 2 for the one and 1 for the other.

use crate::scenario::ScenarioError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// A flag or option with a value that cannot be used; the message names it and what would be valid.
    #[error("{0}")]
    BadInput(String),
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("cannot draw {path}: {message}")]
    Chart { path: String, message: String },
    /// Work estimated past the limits `--allow-large` lifts (a bad input: the flag or a smaller load fixes
    /// it); the message names the estimate.
    #[error("{0}")]
    TooLarge(String),
    /// The command ran but what it checks does not hold (e.g. a validation case failed).
    #[error("{0}")]
    Failed(String),
    /// Standard output was closed by its reader (e.g. `| head`): the command ends quietly.
    #[error("standard output was closed")]
    OutputClosed,
}

impl Error {
    /// 2 for bad input (scenario, flags), 1 for anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Scenario(_) | Error::Read { .. } | Error::BadInput(_) | Error::TooLarge(_) => 2,
            Error::Write { .. } | Error::Chart { .. } | Error::Failed(_) => 1,
            Error::OutputClosed => 0,
        }
    }

    /// An error writing to standard output: a closed pipe ends quietly, anything else (a full disk) fails.
    pub fn stdout(e: std::io::Error) -> Error {
        match e.kind() {
            std::io::ErrorKind::BrokenPipe => Error::OutputClosed,
            _ => Error::Write { path: "standard output".into(), source: e },
        }
    }
}
