//! What can go wrong reading a catalog, and where.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// One problem in a catalog file, located as `file:line: column: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file (or source name) the problem is in.
    pub file: String,
    /// 1-based line where the row starts (line 1 is the header); `None` for the whole file.
    pub line: Option<u64>,
    /// The column's name in the header, when one column is at fault.
    pub column: Option<String>,
    /// What is wrong, and what was done about it for a warning.
    pub message: String,
}

impl Diagnostic {
    /// A problem with the file as a whole.
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file)?;
        if let Some(line) = self.line {
            write!(f, "{line}:")?;
        }
        if let Some(column) = &self.column {
            write!(f, " {column}:")?;
        }
        write!(f, " {}", self.message)
    }
}

/// Why a catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The file has no header line.
    #[error("{file}: the file is empty; expected a CSV catalog with a header line")]
    EmptyFile {
        /// The file.
        file: String,
    },
    /// The header matches none of the known layouts.
    #[error(
        "{file}:1: the header matches no known catalog layout (moodreel CSV: title,year,genres,...; \
         Kaggle IMDB Top 1000: Series_Title,...,IMDB_Rating; Kaggle TMDB 5000: genres,...,vote_average); \
         found: {header}"
    )]
    UnknownFormat {
        /// The file.
        file: String,
        /// The header line as read.
        header: String,
    },
    /// The header looks like a known layout but lacks columns it needs.
    #[error("{file}:1: looks like a {format} file but has no {columns} column (required)")]
    MissingColumns {
        /// The file.
        file: String,
        /// The layout it looks like.
        format: &'static str,
        /// The missing columns, comma-separated.
        columns: String,
    },
    /// Some rows are broken; `catalog check` lists them all.
    #[error("{}", bad_rows_message(.file, .errors))]
    BadRows {
        /// The file.
        file: String,
        /// Every broken row, in file order.
        errors: Vec<Diagnostic>,
    },
    /// The catalog holds no film at all.
    #[error("{file}: the catalog holds no films")]
    NoMovies {
        /// The file.
        file: String,
    },
}

/// How many broken rows a [`CatalogError::BadRows`] message shows before summarising.
const SHOWN_ERRORS: usize = 5;

fn bad_rows_message(file: &str, errors: &[Diagnostic]) -> String {
    let mut message = format!(
        "{file}: {} bad row{}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for error in errors.iter().take(SHOWN_ERRORS) {
        message.push_str("\n  ");
        message.push_str(&error.to_string());
    }
    if errors.len() > SHOWN_ERRORS {
        message.push_str(&format!(
            "\n  ... and {} more (run `moodreel catalog check {file}` to see all)",
            errors.len() - SHOWN_ERRORS
        ));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_read_file_line_column_message() {
        let diagnostic = Diagnostic {
            file: "films.csv".into(),
            line: Some(6),
            column: Some("rating".into()),
            message: "\"x\" is not a number".into(),
        };
        assert_eq!(
            diagnostic.to_string(),
            "films.csv:6: rating: \"x\" is not a number"
        );
        assert_eq!(
            Diagnostic::file("films.csv", "no films").to_string(),
            "films.csv: no films"
        );
    }

    #[test]
    fn bad_rows_show_the_first_few() {
        let errors: Vec<_> = (2..10)
            .map(|line| Diagnostic {
                line: Some(line),
                ..Diagnostic::file("f.csv", "broken")
            })
            .collect();
        let message = CatalogError::BadRows {
            file: "f.csv".into(),
            errors,
        }
        .to_string();
        assert!(message.starts_with("f.csv: 8 bad rows"), "{message}");
        assert!(message.contains("f.csv:2: broken"));
        assert!(!message.contains("f.csv:7: broken"));
        assert!(message.contains("3 more"));
    }
}
