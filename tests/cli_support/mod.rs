//! Helpers shared by the command-line tests.

#![allow(dead_code, unused_imports)] // Each test file uses its own part of this module.

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
pub use devdata::testdata;

/// `../shared/data` next to the repository, or `None` with a visible note (tests then skip).
pub use devdata::shared_data;
