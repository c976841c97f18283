//! Exit codes of the `moodreel` command and the error that carries one.

use std::process::ExitCode;

/// What a command's failure means for the process exit status (the README's "Command line").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Ok = 0,
    /// 1: the command failed (bad data, unreadable file, ...).
    Failure = 1,
    /// 2: the command line itself is wrong.
    Usage = 2,
    /// 3: no face was found where one was needed.
    NoFace = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A command failure: the message to print and the exit code to end with.
#[derive(Debug)]
pub struct CommandError {
    /// Exit status of the process.
    pub exit: Exit,
    /// What went wrong, with its causes.
    pub error: anyhow::Error,
}

impl CommandError {
    /// A failure with exit code 1.
    pub fn failure(error: impl Into<anyhow::Error>) -> Self {
        Self {
            exit: Exit::Failure,
            error: error.into(),
        }
    }

    /// A usage error with exit code 2.
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Self {
            exit: Exit::Usage,
            error: error.into(),
        }
    }

    /// No face found, exit code 3.
    pub fn no_face(error: impl Into<anyhow::Error>) -> Self {
        Self {
            exit: Exit::NoFace,
            error: error.into(),
        }
    }
}

impl From<anyhow::Error> for CommandError {
    fn from(error: anyhow::Error) -> Self {
        Self::failure(error)
    }
}

/// What every command returns.
pub type CommandResult = Result<(), CommandError>;
