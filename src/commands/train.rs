//! `moodreel train`.

use crate::exit::{CommandError, CommandResult};

/// Arguments of `moodreel train`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `moodreel train`.
pub fn run(_args: Args) -> CommandResult {
    Err(CommandError::failure(anyhow::anyhow!(
        "`train` is not built yet"
    )))
}
