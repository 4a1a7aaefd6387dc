//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The public reference data (`../shared/reference` beside the checkout), or
/// None with a printed notice when it is absent (a user's clone has none).
pub fn reference_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: {} is absent; skipping the reference-data checks",
            dir.display()
        );
        None
    }
}

/// A file of the reference data, or None (with a notice) when absent.
pub fn reference_file(name: &str) -> Option<PathBuf> {
    reference_dir().map(|d| d.join(name))
}
