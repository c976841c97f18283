//! `moodreel eval`.

use crate::exit::{CommandError, CommandResult};

/// Arguments of `moodreel eval`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `moodreel eval`.
pub fn run(_args: Args) -> CommandResult {
    Err(CommandError::failure(anyhow::anyhow!(
        "`eval` is not built yet"
    )))
}
