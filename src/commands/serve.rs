//! `moodreel serve`: the web page and the JSON API on one port (see [`crate::web`]).

use std::io::Write as _;

use anyhow::Context;

use crate::commands::catalog::CatalogArg;
use crate::commands::common::ModelArgs;
use crate::exit::{CommandError, CommandResult};
use crate::web::api::ModelFacts;
use crate::web::{self, AppState, Limits};

/// Arguments of `moodreel serve`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  moodreel serve                       # http://127.0.0.1:5000\n  moodreel serve --port 8080 --catalog imdb_top_1000.csv\n  moodreel serve --host 0.0.0.0        # reachable from other machines (no TLS)"
)]
pub struct Args {
    /// Address to listen on. The default answers this machine only; 0.0.0.0 answers any
    /// machine that can reach this one.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, default_value_t = 5000)]
    pub port: u16,

    /// Which catalog.
    #[command(flatten)]
    pub catalog: CatalogArg,

    /// The expression model.
    #[command(flatten)]
    pub model: ModelArgs,

    /// Also answer requests addressed to this host name (repeatable). IP addresses,
    /// `localhost` and the --host value are always answered; any other name is refused with
    /// 421, so that a foreign site cannot reach the server through DNS rebinding.
    #[arg(long, value_name = "NAME")]
    pub allowed_host: Vec<String>,
}

/// Runs `moodreel serve` until Ctrl-C or SIGTERM.
pub fn run(args: Args) -> CommandResult {
    let catalog = args.catalog.load()?;
    let pipeline = args.model.pipeline()?;
    let model = ModelFacts::new(args.model.model.as_deref(), &pipeline);
    let state = AppState::new(pipeline, catalog, model, Limits::default())
        .with_allowed_hosts(std::iter::once(args.host.clone()).chain(args.allowed_host));
    // Each open connection is a file descriptor: make room for the connection cap.
    if let Some(open_files) = web::raise_open_file_limit() {
        tracing::info!(open_files, "limit on open files");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime
        .block_on(async {
            let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
                .await
                .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
            let address = listener.local_addr().context("reading the bound address")?;
            // Signals are caught from before the address is announced: whoever reads it may
            // stop the server at once.
            let shutdown = web::shutdown_signal().context("listening for Ctrl-C and SIGTERM")?;
            if !address.ip().is_loopback() {
                eprintln!(
                    "warning: listening on {address}: other machines can reach moodreel, and their \
                 photos travel unencrypted over HTTP; use --host 127.0.0.1 to keep it local"
                );
            }
            // The address is the command's output: scripts (and the tests) read it.
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(
                stdout,
                "moodreel is serving http://{address}/ (API docs at /docs); Ctrl-C stops it"
            );
            let _ = stdout.flush();
            drop(stdout);
            web::serve(listener, state, shutdown)
                .await
                .context("serving HTTP")
        })
        .map_err(CommandError::failure)
}
