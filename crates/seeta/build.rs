//! Copies the SeetaFace frontal face model shipped inside the `rustface` package into `OUT_DIR`,
//! so that the library can embed it with `include_bytes!`. Nothing is downloaded: the file is
//! part of the `rustface` crate package that cargo has already fetched to build this crate.
//!
//! The package directory is found by asking `cargo metadata --offline` about a one-line manifest
//! that depends on the same `rustface` version: asking about the whole workspace would need
//! every package of every member downloaded, which a partial build does not do.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const MODEL_FILE: &str = "seeta_fd_frontal_v1.0.bin";
/// Must match the `rustface` requirement in Cargo.toml.
const RUSTFACE_VERSION: &str = "0.1.7";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SEETA_MODEL_FILE");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let source = match env::var_os("SEETA_MODEL_FILE") {
        // For unusual build set-ups where cargo cannot say where its sources are.
        Some(path) => PathBuf::from(path),
        None => rustface_package_dir(&out_dir)
            .join("model")
            .join(MODEL_FILE),
    };
    println!("cargo:rerun-if-changed={}", source.display());
    if let Err(error) = std::fs::copy(&source, out_dir.join(MODEL_FILE)) {
        panic!(
            "cannot copy the face model {}: {error} (set SEETA_MODEL_FILE to its path)",
            source.display()
        );
    }
}

/// The directory of the `rustface` package in cargo's source cache (or vendor directory).
fn rustface_package_dir(out_dir: &Path) -> PathBuf {
    let probe = out_dir.join("locate-rustface");
    let manifest = format!(
        "[package]\nname = \"locate-rustface\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         [lib]\npath = \"lib.rs\"\n\
         [dependencies]\nrustface = {{ version = \"={RUSTFACE_VERSION}\", default-features = false }}\n\
         [workspace]\n"
    );
    let written = std::fs::create_dir_all(&probe)
        .and_then(|()| std::fs::write(probe.join("Cargo.toml"), manifest))
        .and_then(|()| std::fs::write(probe.join("lib.rs"), ""));
    if let Err(error) = written {
        panic!("cannot write {}: {error}", probe.display());
    }
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(&probe)
        .args(["metadata", "--offline", "--format-version", "1"])
        .output()
        .unwrap_or_else(|error| panic!("cannot run `cargo metadata`: {error}"));
    if !output.status.success() {
        panic!(
            "`cargo metadata` failed (set SEETA_MODEL_FILE to the model's path): {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("`cargo metadata` prints JSON");
    let manifest_path = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|package| package["name"] == "rustface")
        .and_then(|package| package["manifest_path"].as_str())
        .expect("`cargo metadata` lists the rustface package with its manifest path");
    Path::new(manifest_path)
        .parent()
        .expect("a manifest path names a file inside the package directory")
        .to_path_buf()
}
