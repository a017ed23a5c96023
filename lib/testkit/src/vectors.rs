//! Where the shared conformance vectors live.
//!
//! The vectors sit beside the repository in `../shared/vectors`; the
//! `VOUCH_VECTORS` environment variable overrides the path. They are never
//! copied into the repository.

use std::path::{Path, PathBuf};

/// Environment variable that overrides the vectors folder.
pub const VECTORS_ENV: &str = "VOUCH_VECTORS";

/// Returns the vectors folder, or `None` when it does not exist outside CI.
///
/// # Panics
///
/// Panics when the folder is missing and the `CI` environment variable is
/// set: conformance tests must fail loudly in CI rather than pass vacuously.
pub fn dir() -> Option<PathBuf> {
    let path = match std::env::var_os(VECTORS_ENV) {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
    };
    if path.join("MANIFEST.md").is_file() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "conformance vectors not found at {} (set {VECTORS_ENV}); CI must have them",
            path.display()
        );
    }
    eprintln!(
        "WARNING: conformance vectors not found at {}; set {VECTORS_ENV} to run these checks",
        path.display()
    );
    None
}

/// Reads one vector file, relative to the vectors folder.
///
/// # Panics
///
/// Panics when the file cannot be read: a listed vector that is missing is a
/// broken test setup.
pub fn read(dir: &Path, relative: &str) -> Vec<u8> {
    let path = dir.join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading vector {}: {e}", path.display()))
}

/// The `.cbor` files under `sub` of the vectors folder, recursively, in
/// path order.
///
/// # Panics
///
/// Panics when the folder cannot be read or holds no such file: a listed
/// folder that is empty is a broken test setup.
pub fn cbor_files(dir: &Path, sub: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join(sub)];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).expect("vectors folder") {
            let p = e.expect("vectors folder entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "cbor") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no vectors under {sub}");
    out
}
