//! `moodreel catalog`: statistics of a catalog, and a row-by-row check of a catalog file. Also
//! the `--catalog FILE` option that every command which needs films shares.

use std::borrow::Cow;
use std::path::PathBuf;

use anyhow::anyhow;
use catalog::Catalog;

use crate::commands::common::{print_json, write_stdout};
use crate::exit::{CommandError, CommandResult};

/// The `--catalog FILE` option (or `MOODREEL_CATALOG`), shared by every command that needs films.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CatalogArg {
    /// Film catalog CSV: the Kaggle IMDB Top 1000 or TMDB 5000 file, or the moodreel layout
    /// (title,year,genres,...); the layout is recognised from the header. Without it, the
    /// built-in catalog.
    #[arg(long, value_name = "FILE", env = "MOODREEL_CATALOG")]
    pub catalog: Option<PathBuf>,
}

impl CatalogArg {
    /// The catalog asked for: the file, read once, or the built-in one.
    pub fn load(&self) -> Result<Cow<'static, Catalog>, CommandError> {
        match &self.catalog {
            Some(path) => Catalog::from_path(path)
                .map(Cow::Owned)
                .map_err(CommandError::failure),
            None => Ok(Cow::Borrowed(Catalog::builtin())),
        }
    }
}

/// Subcommands of `moodreel catalog`.
#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// Summarise a catalog: films, genres, years, and the warnings noted while reading it.
    Stats {
        /// Which catalog.
        #[command(flatten)]
        catalog: CatalogArg,
        /// Print one JSON document: {"movies", "genres", "years", "warnings", ...}.
        #[arg(long)]
        json: bool,
    },
    /// Check a catalog file row by row and list every problem as FILE:LINE: COLUMN: PROBLEM.
    /// Exits with 1 if any row cannot be read.
    Check {
        /// The CSV file to check.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print one JSON document: {"file", "format", "movies", "skipped", "warnings", "errors"}.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `moodreel catalog ...`.
pub fn run(command: CatalogCommand) -> CommandResult {
    match command {
        CatalogCommand::Stats { catalog, json } => stats(&catalog, json),
        CatalogCommand::Check { file, json } => check(file, json),
    }
}

fn stats(source: &CatalogArg, json: bool) -> CommandResult {
    let catalog = source.load()?;
    let stats = catalog.stats();
    if json {
        print_json(&stats)?;
        return Ok(());
    }
    let mut out = format!(
        "source:   {} ({})\nfilms:    {} ({} rated, mean rating {:.2})\n",
        stats.source,
        stats.format.description(),
        stats.movies,
        stats.rated,
        stats.mean_rating
    );
    if let Some([first, last]) = stats.years {
        out.push_str(&format!("years:    {first}–{last}\n"));
    }
    out.push_str("genres:\n");
    let mut genres: Vec<_> = stats.genres.iter().collect();
    genres.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (genre, count) in genres {
        out.push_str(&format!("  {genre:<12} {count:>5}\n"));
    }
    out.push_str(&format!("warnings: {}\n", stats.warnings.len()));
    for warning in &stats.warnings {
        out.push_str(&format!("  {warning}\n"));
    }
    write_stdout(&out)
}

/// How many warnings of one kind `catalog check` prints before it only counts them.
const SHOWN_PER_KIND: usize = 5;

/// The warnings as lines, at most `shown` of each kind (same column, same message once quoted
/// values and numbers are set aside), each kind's rest summed up in one line with a count.
fn capped_warnings(warnings: &[catalog::Diagnostic], shown: usize) -> Vec<String> {
    let kind = |warning: &catalog::Diagnostic| {
        let mut message = String::new();
        let mut quoted = false;
        for c in warning.message.chars() {
            if c == '"' {
                quoted = !quoted;
                message.push('…');
            } else if !quoted && !c.is_ascii_digit() {
                message.push(c);
            }
        }
        (warning.column.clone(), message)
    };
    let mut counts: std::collections::HashMap<(Option<String>, String), usize> =
        std::collections::HashMap::new();
    let mut lines = Vec::new();
    let mut order = Vec::new();
    for warning in warnings {
        let key = kind(warning);
        let count = counts.entry(key.clone()).or_insert(0);
        *count += 1;
        if *count == 1 {
            order.push(key);
        }
        if *count <= shown {
            lines.push(format!("{warning} (warning)"));
        }
    }
    for key in order {
        let count = counts[&key];
        if count > shown {
            let column = key
                .0
                .map(|column| format!("{column}: "))
                .unwrap_or_default();
            lines.push(format!(
                "... and {} more warnings like \"{column}{}\" (run with --json to see all)",
                count - shown,
                key.1.trim()
            ));
        }
    }
    lines
}

fn check(file: PathBuf, json: bool) -> CommandResult {
    let report = Catalog::check_path(&file).map_err(CommandError::failure)?;
    if json {
        print_json(&report)?;
    } else {
        let mut out = String::new();
        for error in &report.errors {
            out.push_str(&format!("{error}\n"));
        }
        for line in capped_warnings(&report.warnings, SHOWN_PER_KIND) {
            out.push_str(&line);
            out.push('\n');
        }
        out.push_str(&format!(
            "{}: {}, {} films, {} skipped, {} warnings, {} bad rows\n",
            report.file,
            report.format.description(),
            report.movies,
            report.skipped,
            report.warnings.len(),
            report.errors.len()
        ));
        write_stdout(&out)?;
    }
    match report.errors.first() {
        Some(first) => Err(CommandError::failure(anyhow!(
            "{}: {} bad row{}, the first: {first}",
            report.file,
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" }
        ))),
        None if report.movies == 0 => Err(CommandError::failure(anyhow!(
            "{}: the catalog holds no films",
            report.file
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_warnings_are_capped_with_a_count() {
        let warning = |line: u64, column: &str, message: &str| catalog::Diagnostic {
            line: Some(line),
            column: Some(column.into()),
            ..catalog::Diagnostic::file("f.csv", message)
        };
        let mut warnings: Vec<_> = (2..14)
            .map(|line| warning(line, "release_date", "blank; kept without a year"))
            .collect();
        warnings.push(warning(20, "runtime", "\"x\" is not a running time"));
        let lines = capped_warnings(&warnings, 5);
        assert_eq!(lines.len(), 7, "{lines:#?}");
        assert!(lines[0].starts_with("f.csv:2: release_date: blank"));
        assert!(lines[5].starts_with("f.csv:20: runtime:"));
        assert!(
            lines[6].starts_with("... and 7 more warnings like \"release_date: blank"),
            "{}",
            lines[6]
        );
    }
}
