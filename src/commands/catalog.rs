//! `moodreel catalog`.

use crate::exit::{CommandError, CommandResult};

/// Subcommands of `moodreel catalog`.
#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// Statistics of a catalog.
    Stats,
}

/// Runs `moodreel catalog ...`.
pub fn run(_command: CatalogCommand) -> CommandResult {
    Err(CommandError::failure(anyhow::anyhow!(
        "`catalog` is not built yet"
    )))
}
