//! The command line the repository benchmarks share: `[PATH] [--commits N] [--files N]
//! [--seed N] [--keep DIR]`.

use std::path::PathBuf;
use std::time::Instant;

use crate::synth;

/// The repository to measure: the one at PATH, else a synthetic one built with `git
/// fast-import` (in DIR with `--keep`, reused from there when it exists), living as long as the
/// returned guard.
pub fn repository(default_commits: usize) -> (PathBuf, tempfile::TempDir) {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut path = None;
    let mut keep: Option<PathBuf> = None;
    let mut shape = synth::Shape {
        commits: default_commits,
        files: 3_000,
        seed: 42,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> usize {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--commits" => shape.commits = value("--commits"),
            "--files" => shape.files = value("--files"),
            "--seed" => shape.seed = value("--seed") as u64,
            "--keep" => keep = args.next().map(PathBuf::from),
            other => path = Some(PathBuf::from(other)),
        }
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let repo = match (path, keep) {
        (Some(p), _) => p,
        (None, Some(k)) if k.exists() => k,
        (None, keep) => {
            let dir = keep.unwrap_or_else(|| scratch.path().join("synthetic"));
            let t = Instant::now();
            synth::build(&dir, shape);
            println!(
                "built synthetic repository {shape:?} in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            dir
        }
    };
    (repo, scratch)
}
