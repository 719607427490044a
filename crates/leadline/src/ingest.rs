//! `leadline ingest git`: composes the miner and the store into an incremental, crash-safe
//! ingest.
//!
//! How the contract holds:
//! - *Incremental*: the digest of all ref tips is kept as a cursor; an equal digest ends the
//!   run before any walk. Otherwise only commits reachable now and not stored are mined, and
//!   stored commits no ref reaches any more (rewritten or deleted branches) are removed.
//! - *Crash-safe*: each batch of whole commits is one transaction and the cursor moves last, in
//!   the transaction that also replaces the refs. After a kill, the re-run sees the old cursor,
//!   mines exactly the commits still missing and ends in the state one clean run gives.
//! - *Nothing half-written on bad input*: when mining fails (an unreadable object), the commits
//!   this run stored are removed again, or the repository if this run created it.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leadline_core::model::{Commit, HeadFile, Repository};
use leadline_core::store::{Store, StoreError};
use leadline_git::{MineError, MineOptions, Miner, ObjectId};

/// The cursor source for git history; its scope is the repository's location.
const CURSOR_SOURCE: &str = "git";

/// What one ingest of one repository did.
#[derive(Debug)]
pub struct IngestReport {
    pub repo: Repository,
    pub new_commits: usize,
    pub file_changes: usize,
    pub removed_commits: usize,
    pub up_to_date: bool,
    pub shallow: bool,
    pub elapsed: Duration,
}

impl IngestReport {
    /// The closing line shown to users.
    pub fn summary(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        if self.up_to_date {
            return format!("{}: up to date ({:.2} s)", self.repo.name, secs);
        }
        let rate = self.new_commits as f64 / secs.max(1e-6);
        let mut line = format!(
            "{}: ingested {} commits ({} file changes) in {:.2} s, {:.0} commits/s",
            self.repo.name, self.new_commits, self.file_changes, secs, rate
        );
        if self.removed_commits > 0 {
            line.push_str(&format!(
                "; removed {} no longer reachable",
                self.removed_commits
            ));
        }
        line
    }
}

pub async fn ingest_git(
    store: &Arc<dyn Store>,
    path: &Path,
    name: Option<&str>,
    options: &MineOptions,
    progress: bool,
) -> Result<IngestReport> {
    let started = Instant::now();
    let miner = Miner::open(path)?;
    let shallow = miner.is_shallow();
    if shallow {
        tracing::warn!(
            "{} is a shallow clone: history before its cut-off is missing, so counts and spans are incomplete \
             (run `git fetch --unshallow` for the full history)",
            path.display()
        );
    }
    let location = miner.location().display().to_string();
    let (repo, created) = match name {
        Some(name) => store.upsert_repository(name, &location).await?,
        None => register_by_default_name(store, &miner, &location).await?,
    };
    let result = mine_into(store, miner, &repo, options, progress).await;
    let (new_commits, file_changes, removed_commits, up_to_date) = match result {
        Ok(done) => done,
        Err(failure) => {
            undo(store, &repo, created, &failure.inserted).await;
            return Err(failure.error);
        }
    };
    Ok(IngestReport {
        repo,
        new_commits,
        file_changes,
        removed_commits,
        up_to_date,
        shallow,
        elapsed: started.elapsed(),
    })
}

/// Registers under the directory's name, or `parent/name` when another repository already
/// has that name (two clones both called `app`, or mirrors all called `repo`).
async fn register_by_default_name(
    store: &Arc<dyn Store>,
    miner: &Miner,
    location: &str,
) -> Result<(Repository, bool)> {
    let name = miner.default_name();
    match store.upsert_repository(&name, location).await {
        Err(StoreError::Conflict(_)) => {
            let parent = miner
                .location()
                .parent()
                .and_then(|p| p.file_name())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(store
                .upsert_repository(&format!("{parent}/{name}"), location)
                .await?)
        }
        other => Ok(other?),
    }
}

struct Failure {
    error: anyhow::Error,
    inserted: Vec<String>,
}

/// A failure before anything was stored.
fn early<E: Into<anyhow::Error>>(e: E) -> Failure {
    Failure {
        error: e.into(),
        inserted: Vec::new(),
    }
}

/// Mines what is new and stores it; returns (new commits, file changes, removed, up to date).
async fn mine_into(
    store: &Arc<dyn Store>,
    miner: Miner,
    repo: &Repository,
    options: &MineOptions,
    progress: bool,
) -> Result<(usize, usize, usize, bool), Failure> {
    let snapshot = miner.refs().map_err(early)?;
    let cursor = store
        .cursor(CURSOR_SOURCE, &repo.location)
        .await
        .map_err(early)?;
    let miner = Arc::new(miner);
    if cursor.as_deref() == Some(&snapshot.digest) {
        // A store from before hotspots has history but no snapshot of HEAD yet.
        if store.head_file_count(repo.id).await.map_err(early)? == 0 {
            snapshot_head(store, &miner, repo, Vec::new())
                .await
                .map_err(early)?;
        }
        return Ok((0, 0, 0, true));
    }
    let known: HashSet<ObjectId> = store
        .commit_shas(repo.id)
        .await
        .map_err(early)?
        .iter()
        .filter_map(|sha| ObjectId::from_hex(sha.as_bytes()).ok())
        .collect();

    // HEAD's files are measured alongside mining too, and stored after it.
    let head = measure_head(&miner, store.head_files(repo.id).await.map_err(early)?);
    let bar = progress_bar(progress);
    // Set by the walk, which runs alongside mining: the commits to mine.
    let total = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Commit>>(2);
    let opts = options.clone();
    let worker = Arc::clone(&miner);
    let (tips, walked) = (snapshot.tips.clone(), Arc::clone(&total));
    let mining = tokio::task::spawn_blocking(move || {
        let reachable = worker.mine_reachable(
            &tips,
            |id| !known.contains(id),
            |count| walked.store(count as u64, Ordering::Relaxed),
            &opts,
            |batch| tx.blocking_send(batch).is_ok(),
        )?;
        let reachable: HashSet<ObjectId> = reachable.into_iter().collect();
        let unreachable: Vec<String> = known
            .iter()
            .filter(|id| !reachable.contains(*id))
            .map(ToString::to_string)
            .collect();
        Ok::<_, MineError>(unreachable)
    });

    let mut inserted = Vec::new();
    let mut file_changes = 0;
    let mut store_error = None;
    while let Some(batch) = rx.recv().await {
        if let Err(e) = store.insert_commits(repo.id, &batch).await {
            store_error = Some(anyhow!(e));
            break;
        }
        file_changes += batch.iter().map(|c| c.file_changes.len()).sum::<usize>();
        inserted.extend(batch.into_iter().map(|c| c.sha));
        show_progress(&bar, inserted.len() as u64, total.load(Ordering::Relaxed));
    }
    drop(rx);
    let mined = mining.await.context("the mining thread panicked");
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let unreachable = match (store_error, mined) {
        (Some(error), _) | (None, Err(error)) => return Err(Failure { error, inserted }),
        (None, Ok(Err(e))) => {
            let error = mine_error(e, &repo.name);
            return Err(Failure { error, inserted });
        }
        (None, Ok(Ok(unreachable))) => unreachable,
    };
    if let Err(error) = store_head(store, repo, head).await {
        return Err(Failure { error, inserted });
    }
    // The repository's mapped packs count towards memory while the graph is encoded.
    drop(miner);
    store
        .finish_ingest(
            repo.id,
            &unreachable,
            &snapshot.refs,
            (CURSOR_SOURCE, &repo.location, &snapshot.digest),
        )
        .await
        .map_err(|e| Failure {
            error: e.into(),
            inserted: inserted.clone(),
        })?;
    Ok((inserted.len(), file_changes, unreachable.len(), false))
}

/// Measures the files at HEAD, reading only blobs that changed since `known`, and stores them.
async fn snapshot_head(
    store: &Arc<dyn Store>,
    miner: &Arc<Miner>,
    repo: &Repository,
    known: Vec<HeadFile>,
) -> Result<()> {
    store_head(store, repo, measure_head(miner, known)).await
}

/// Starts measuring the files at HEAD on a thread of its own (see [`snapshot_head`]).
fn measure_head(
    miner: &Arc<Miner>,
    known: Vec<HeadFile>,
) -> tokio::task::JoinHandle<Result<Vec<HeadFile>, MineError>> {
    let miner = Arc::clone(miner);
    tokio::task::spawn_blocking(move || {
        let known = known.into_iter().map(|f| (f.path.clone(), f)).collect();
        miner.head_files(&known)
    })
}

async fn store_head(
    store: &Arc<dyn Store>,
    repo: &Repository,
    measured: tokio::task::JoinHandle<Result<Vec<HeadFile>, MineError>>,
) -> Result<()> {
    let files = measured
        .await
        .context("the thread reading HEAD panicked")?
        .map_err(|e| mine_error(e, &repo.name))?;
    store.replace_head_files(repo.id, &files).await?;
    Ok(())
}

fn mine_error(e: MineError, repo: &str) -> anyhow::Error {
    let context = match &e {
        MineError::Object { .. } => {
            format!("{repo}: the repository is damaged or incomplete (try `git fsck`)")
        }
        _ => repo.to_owned(),
    };
    anyhow::Error::new(e).context(context)
}

/// Leaves the store as it was before a failed run. Best effort: if the store itself is
/// failing, the commits stay but the cursor was never moved, so a re-run completes the work.
async fn undo(store: &Arc<dyn Store>, repo: &Repository, created: bool, inserted: &[String]) {
    let undone = if created {
        store.delete_repository(repo.id).await
    } else {
        store.delete_commits(repo.id, inserted).await
    };
    if let Err(e) = undone {
        tracing::warn!("could not undo the partial ingest of {}: {e}", repo.name);
    }
}

fn progress_bar(visible: bool) -> Option<ProgressBar> {
    if !visible {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    let style = ProgressStyle::with_template(
        "{spinner} mining {pos}/{len} commits [{bar:30}] {rate} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0} commits/s", state.per_sec());
        },
    )
    .progress_chars("=> ");
    bar.set_style(style);
    Some(bar)
}

/// Moves the bar to `done`; it appears once the walk has counted the commits to mine (`total`,
/// 0 until then), and only when there are enough of them to wait for.
fn show_progress(bar: &Option<ProgressBar>, done: u64, total: u64) {
    let Some(bar) = bar else {
        return;
    };
    if bar.length().is_none() && total > 0 {
        bar.set_length(total);
        if total >= 1000 {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(200));
        }
    }
    bar.set_position(done);
}
