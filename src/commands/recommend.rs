//! `moodreel recommend`.

use crate::exit::{CommandError, CommandResult};

/// Arguments of `moodreel recommend`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `moodreel recommend`.
pub fn run(_args: Args) -> CommandResult {
    Err(CommandError::failure(anyhow::anyhow!(
        "`recommend` is not built yet"
    )))
}
