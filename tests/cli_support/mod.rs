//! Helpers shared by the command-line tests.

#![allow(dead_code)] // Each test file uses its own part of this module.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The `moodreel` binary, without the environment variables a user's shell may set for it
/// (`MOODREEL_CATALOG`, `RUST_LOG`), so that a test sees the defaults it expects.
pub fn moodreel() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("moodreel").expect("the binary is built");
    command
        .env_remove("MOODREEL_CATALOG")
        .env_remove("RUST_LOG");
    command
}

/// A file committed in `testdata/` (always present; see `testdata/README.md`).
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// `../shared/data` next to the repository, or `None` (with a note on stderr) when it is absent,
/// as in a fresh clone: tests that need it then skip.
pub fn shared_data(what: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        // Written to stderr directly, past the test harness's capture, so that a run
        // without the development data says what it skipped.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {what}: development data not found at {}",
            dir.display()
        );
        None
    }
}
