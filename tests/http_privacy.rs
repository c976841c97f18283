//! The real `moodreel serve` process: it writes no file while handling uploads (photos live in
//! memory only), and it stops cleanly on SIGTERM.
#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod http_support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::ImageFormat;
use serde_json::{Value, json};

use http_support::*;

/// Every file and folder under `dir`.
fn contents(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        found.push(path.display().to_string());
        if path.is_dir() {
            found.extend(contents(&path));
        }
    }
    found
}

/// Starts the binary on port 0 and returns it with its address.
fn start(workdir: &Path, home: &Path, tmp: &Path) -> (Child, String) {
    start_with(workdir, home, tmp, &[])
}

/// [`start`] with more arguments.
fn start_with(workdir: &Path, home: &Path, tmp: &Path, more: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_moodreel"))
        .args(["serve", "--port", "0", "-v"])
        .args(more)
        .current_dir(workdir)
        .env_clear()
        .env("HOME", home)
        .env("TMPDIR", tmp)
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let address = announced_address(&mut child);
    (child, address)
}

/// Waits for the process to end (20 s at most) and returns how it ended.
fn wait(child: &mut Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "moodreel serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn serving_uploads_writes_no_file_and_sigterm_stops_it_cleanly() {
    let (workdir, home, tmp) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let (mut child, address) = start(workdir.path(), home.path(), tmp.path());
    let client = reqwest::Client::new();

    // Uploads of every kind: no face, a face (when the development photo is there), a large
    // photo, a form with settings, and bad ones.
    let mut photos = vec![
        encode(&faceless(160, 120), ImageFormat::Png),
        encode(&faceless(3000, 2000), ImageFormat::Jpeg),
        png_claiming(100_000, 100_000),
        b"not a photo".to_vec(),
    ];
    photos.extend(face_photo());
    for photo in &photos {
        let response = client
            .post(format!("{address}/api/v1/analyze"))
            .multipart(image_form(photo.clone()))
            .send()
            .await
            .unwrap();
        assert!(response.status().as_u16() < 500, "{}", response.status());
        let form = image_form(photo.clone())
            .text("mode", "lift")
            .text("n", "3");
        let response = client
            .post(format!("{address}/api/v1/recommendations"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(response.status().as_u16() < 500, "{}", response.status());
    }
    let list: Value = client
        .post(format!("{address}/api/v1/recommendations"))
        .json(&json!({"mood": "sad", "n": 3}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["movies"].as_array().unwrap().len(), 3);

    terminate(&child);
    let status = wait(&mut child);
    assert!(status.success(), "exit status after SIGTERM: {status}");

    for dir in [workdir.path(), home.path(), tmp.path()] {
        assert_eq!(contents(dir), Vec::<String>::new(), "files were written");
    }
    // The log (at -v) names requests, never what was in them.
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    assert!(log.contains("photo read"), "{log}");
    assert!(!log.contains("not a photo"), "{log}");
}

#[test]
fn listening_beyond_this_machine_prints_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, address) =
        start_with(dir.path(), dir.path(), dir.path(), &["--host", "0.0.0.0"]);
    assert!(address.starts_with("http://0.0.0.0:"), "{address}");
    terminate(&child);
    assert!(wait(&mut child).success());
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    assert!(log.contains("warning: listening on 0.0.0.0"), "{log}");
}
