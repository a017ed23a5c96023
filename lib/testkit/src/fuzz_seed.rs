//! Seeds for an empty corpus, written by the fuzz target itself.
//!
//! `cargo fuzz run` hands libFuzzer the corpus directory (`corpus/<target>`)
//! as its first positional argument. When that directory is empty, the
//! target writes its seeds into it before libFuzzer reads it, so a run
//! starts from well-formed inputs made by code (keys and documents minted
//! here) instead of rediscovering their structure byte by byte. Merges
//! (`-merge=1`, `cargo fuzz cmin`) and runs on a single file (reproducing
//! an artifact) are left alone.

use std::path::PathBuf;

/// Writes `seeds()` into the corpus directory when it is empty.
pub fn plant(seeds: impl FnOnce() -> Vec<Vec<u8>>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a.starts_with("-merge")) {
        return;
    }
    let Some(dir) = args.iter().find(|a| !a.starts_with('-')).map(PathBuf::from) else {
        return;
    };
    let empty = std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_none());
    if !empty {
        return;
    }
    let seeds = seeds();
    for (i, seed) in seeds.iter().enumerate() {
        if let Err(e) = std::fs::write(dir.join(format!("seed-{i:03}")), seed) {
            eprintln!("cannot write seed {i} into {}: {e}", dir.display());
            return;
        }
    }
    eprintln!("seeded {} with {} inputs", dir.display(), seeds.len());
}
