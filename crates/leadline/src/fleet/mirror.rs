//! Bare mirrors of the fleet's repositories: `git clone --mirror` once, `git fetch --prune`
//! after. A mirror is updated under a lock on a file beside it, so the workers of one host
//! never fetch into one mirror at once; the lock dies with its process.
//!
//! The lock is handed down to the git it runs, so a killed worker's orphaned fetch keeps the
//! mirror locked until it ends. A first clone goes to a temporary directory renamed into place when complete, so a worker
//! killed mid-clone leaves no half mirror that a later fetch would trust.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Brings the mirror of `url` under `dir` up to date and returns its path.
pub fn update(dir: &Path, name: &str, url: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the mirror directory {}", dir.display()))?;
    let file = file_name(name);
    let mirror = dir.join(format!("{file}.git"));
    let lock_path = dir.join(format!("{file}.lock"));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", lock_path.display()))?;
    // git inherits the lock: a worker killed mid-fetch leaves its git running, and the mirror
    // stays locked until that git ends too, so a worker taking the job over waits for it.
    rustix::io::fcntl_setfd(&lock, rustix::io::FdFlags::empty())
        .with_context(|| format!("cannot share the lock on {}", lock_path.display()))?;
    if mirror.join("HEAD").is_file() {
        git(
            Command::new("git")
                .arg("--git-dir")
                .arg(&mirror)
                .args(["fetch", "--prune", "--quiet", "origin"]),
            name,
            "fetch",
        )?;
    } else {
        let partial = dir.join(format!("{file}.git.partial"));
        if partial.exists() {
            std::fs::remove_dir_all(&partial)
                .with_context(|| format!("cannot remove {}", partial.display()))?;
        }
        git(
            Command::new("git")
                .args(["clone", "--mirror", "--quiet", url])
                .arg(&partial),
            name,
            "clone",
        )?;
        std::fs::rename(&partial, &mirror)
            .with_context(|| format!("cannot move the new mirror to {}", mirror.display()))?;
    }
    drop(lock);
    Ok(mirror)
}

/// Runs git without a terminal prompt; its error output becomes the error.
fn git(command: &mut Command, name: &str, what: &str) -> Result<()> {
    let out = command
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .context("cannot run git (is it installed?)")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!("{name}: git {what} failed: {}", stderr.trim());
    }
    Ok(())
}

/// A file name for a repository name: path separators and anything unusual become `_`, and
/// no name can climb out of the mirror directory.
fn file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '_',
        })
        .collect();
    if out.starts_with('.') || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_mirror_directory() {
        assert_eq!(file_name("org/app"), "org_app");
        assert_eq!(file_name("../../etc"), "_.._.._etc");
        assert_eq!(file_name(".hidden"), "_.hidden");
        assert_eq!(file_name(""), "_");
    }
}
