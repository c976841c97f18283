//! Where the workspace's tests, benches and examples find their data.
//!
//! Two places, and one function for each:
//!
//! - [`testdata`]: small files committed in `testdata/` at the repository root (sources,
//!   licences and checksums in `testdata/README.md`). Always present, a fresh clone included,
//!   so tests that read them never skip.
//! - [`shared_data`] (and [`shared_file`] for one file of it): the optional development data
//!   in `../shared/data` next to the repository (FER-2013, photo sets, film files; never
//!   committed). Absent in a fresh clone: the function then writes a visible `SKIPPED …` line
//!   and returns `None`, and the caller skips.
//!
//! A dev-dependency only; nothing here is part of the product.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The repository root (this crate lives in `crates/devdata`).
pub fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/devdata lies two folders below the repository root")
}

/// A file committed in `testdata/` at the repository root (always present).
pub fn testdata(name: &str) -> PathBuf {
    repository_root().join("testdata").join(name)
}

/// Where the optional development data is looked for: `shared/data` beside the repository.
pub fn shared_data_dir() -> PathBuf {
    repository_root()
        .parent()
        .unwrap_or_else(|| Path::new(".."))
        .join("shared/data")
}

/// `../shared/data` next to the repository, or `None` (with a `SKIPPED {what}` note on stderr)
/// when it is absent, as in a fresh clone: the test, bench or example that needs it then skips.
pub fn shared_data(what: &str) -> Option<PathBuf> {
    let dir = shared_data_dir();
    if dir.is_dir() {
        Some(dir)
    } else {
        skipped(
            what,
            &format!("development data not found at {}", dir.display()),
        );
        None
    }
}

/// A file of the development data, `relative` to `../shared/data` (`movies/tmdb_5000_movies.csv`),
/// or `None` (with a `SKIPPED` note on stderr) when it is absent: the caller then skips.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let path = shared_data(relative)?.join(relative);
    if path.is_file() {
        Some(path)
    } else {
        skipped(relative, &format!("{} is absent", path.display()));
        None
    }
}

/// Writes the `SKIPPED {what}: {why}` note to stderr directly, past the test harness's
/// capture, so that a run without the development data says what it skipped.
fn skipped(what: &str, why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}: {why}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testdata_is_found_from_the_repository_root() {
        assert!(repository_root().join("Cargo.toml").is_file());
        assert!(testdata("README.md").is_file());
    }

    #[test]
    fn shared_data_is_some_exactly_when_the_folder_exists() {
        assert_eq!(
            shared_data("this check").is_some(),
            shared_data_dir().is_dir()
        );
    }
}
