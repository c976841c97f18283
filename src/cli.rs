//! The command line: argument parsing, logging set-up and dispatch to the commands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::exit::{CommandError, Exit};

/// Reads the mood on a face and recommends films that match or lift it.
#[derive(Debug, Parser)]
#[command(name = "moodreel", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `moodreel`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web page and the JSON API (http://127.0.0.1:5000 by default).
    Serve(commands::serve::Args),
    /// Recommend films for a mood given by name, by distribution, or read from a photo.
    Recommend(commands::recommend::Args),
    /// Inspect a film catalog: statistics, or check a CSV file for bad rows.
    #[command(subcommand)]
    Catalog(commands::catalog::CatalogCommand),
    /// Train an expression model on FER-2013.
    Train(commands::train::Args),
    /// Measure an expression model on a FER-2013 split.
    Eval(commands::eval::Args),
    /// Find the faces in photos and read each one's expression.
    Analyze(commands::analyze::Args),
    /// Measure the whole photo pipeline on a folder of labelled photos.
    EvalPhotos(commands::eval_photos::Args),
}

/// Parses the command line, runs the command and turns its result into an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
            // clap formats help, version and usage errors itself.
            let _ = error.print();
            return code.into();
        }
    };
    init_logging(cli.verbose);
    match run(cli.command) {
        Ok(()) => Exit::Ok.into(),
        Err(CommandError { exit, error }) => {
            eprintln!("error: {error:#}");
            exit.into()
        }
    }
}

/// Runs one parsed command.
pub fn run(command: Command) -> Result<(), CommandError> {
    match command {
        Command::Serve(args) => commands::serve::run(args),
        Command::Recommend(args) => commands::recommend::run(args),
        Command::Catalog(command) => commands::catalog::run(command),
        Command::Train(args) => commands::train::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Analyze(args) => commands::analyze::run(args),
        Command::EvalPhotos(args) => commands::eval_photos::run(args),
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only on a terminal: in a file or a pipe escape sequences are noise (and a log
    // reader could not tell them from forged ones).
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    // Logs go to stderr so that stdout carries only a command's output (e.g. --json).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colours)
        .with_writer(std::io::stderr)
        .try_init();
}
