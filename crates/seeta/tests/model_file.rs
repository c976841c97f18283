//! The vendored SeetaFace model is the file it claims to be (`model/README.md` records its
//! source, licence and checksum) and the one `FRONTAL_MODEL` embeds.

use sha2::{Digest, Sha256};

/// The sha256 of `seeta_fd_frontal_v1.0.bin` in the `rustface` 0.1.7 package.
const MODEL_SHA256: &str = "c4619d066ed35e84d9a8e842860b0dff567aba0cbb139881075538761db3ff5d";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
fn the_embedded_model_has_the_recorded_checksum() {
    assert_eq!(seeta::FRONTAL_MODEL.len(), 1_209_904);
    assert_eq!(hex(&Sha256::digest(seeta::FRONTAL_MODEL)), MODEL_SHA256);
}

#[test]
fn the_readme_records_the_same_checksum() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("model/README.md"),
    )
    .expect("model/README.md is committed beside the model");
    assert!(readme.contains(MODEL_SHA256));
    assert!(readme.contains("BSD-2-Clause"));
}
