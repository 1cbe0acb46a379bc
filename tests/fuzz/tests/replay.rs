//! Replays every file of the seed corpus (`corpus/<target>/`) and of `regressions/<target>/` (inputs
//! that once failed) through the targets, deterministically and without a fuzzer. Every file is
//! run even after a failure; the test then fails listing each failing file and its message.
//!
//! `MOCKD_FUZZ_REPLAY=<dir>` adds the files of another directory (a fuzzer's corpus or crashes).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn files(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![
        root.join("corpus").join(target),
        root.join("regressions").join(target),
    ];
    if let Ok(extra) = std::env::var("MOCKD_FUZZ_REPLAY") {
        dirs.push(PathBuf::from(extra).join(target));
    }
    let mut out = Vec::new();
    for d in dirs {
        if let Ok(entries) = std::fs::read_dir(&d) {
            out.extend(
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file()),
            );
        }
    }
    out.sort();
    out
}

fn replay(target: &str, check: fn(&[u8])) {
    let files = files(target);
    assert!(!files.is_empty(), "no corpus for {target}");
    let mut failures = Vec::new();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}:\n{msg}", f.display()));
        }
    }
    eprintln!(
        "{target}: {} files replayed, {} failed",
        files.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} inputs failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn replay_http() {
    replay("http", mockd_fuzz::http::check);
}

#[test]
fn replay_create() {
    replay("create", mockd_fuzz::create::check);
}
