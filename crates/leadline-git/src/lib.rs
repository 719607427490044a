//! leadline's history miner: reads a git repository with gix and returns core rows whose
//! file changes equal `git log --numstat --no-renames` row for row. It never writes anywhere;
//! callers decide what to store.

mod attributes;
mod cache;
mod commit;
mod delta;
mod head;
pub use head::Blob;
mod numstat;
mod packs;
mod refs;
mod resident;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use leadline_core::model::{Commit, HeadFile};

pub use gix::ObjectId;
pub use refs::RefSnapshot;

/// Commits handed to one worker at a time: consecutive commits share most of their trees and
/// blobs, so one worker's caches serve a whole chunk.
const CHUNK: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum MineError {
    #[error("{}: not a git repository", path.display())]
    NotARepository {
        path: PathBuf,
        #[source]
        source: BoxError,
    },
    /// A missing or corrupt object: the repository is damaged or incomplete.
    #[error("cannot read object {id}")]
    Object {
        id: ObjectId,
        #[source]
        source: BoxError,
    },
    #[error("{context}")]
    Git {
        context: &'static str,
        #[source]
        source: BoxError,
    },
    /// The consumer of mined batches gave up (e.g. the store failed); its own error says why.
    #[error("mining stopped by its consumer")]
    Stopped,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl MineError {
    pub(crate) fn object(id: ObjectId, source: impl Into<BoxError>) -> Self {
        MineError::Object {
            id,
            source: source.into(),
        }
    }

    pub(crate) fn git<E: Into<BoxError>>(context: &'static str) -> impl FnOnce(E) -> MineError {
        move |source| MineError::Git {
            context,
            source: source.into(),
        }
    }
}

/// Tuning of a mining run.
#[derive(Debug, Clone)]
pub struct MineOptions {
    /// Worker threads diffing commits (default: every core).
    pub threads: usize,
    /// Memory each worker may spend keeping the objects it builds from packs, delta bases
    /// included: the cache that matters most for speed (see `packs.rs`).
    pub pack_cache_bytes: usize,
    /// Commits per batch handed to the consumer.
    pub batch: usize,
}

impl Default for MineOptions {
    fn default() -> Self {
        MineOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            pack_cache_bytes: 64 << 20,
            batch: 5000,
        }
    }
}

/// An opened repository.
pub struct Miner {
    repo: gix::ThreadSafeRepository,
    location: PathBuf,
}

impl Miner {
    /// Opens the repository at `path` (a work tree, its `.git`, or a bare repository).
    pub fn open(path: &Path) -> Result<Miner, MineError> {
        let repo = gix::open(path).map_err(|source| MineError::NotARepository {
            path: path.to_owned(),
            source: source.into(),
        })?;
        let location = repo.workdir().unwrap_or_else(|| repo.git_dir()).to_owned();
        let location = std::fs::canonicalize(&location).unwrap_or(location);
        Ok(Miner {
            repo: repo.into_sync(),
            location,
        })
    }

    /// The canonical path of the work tree, or of the git directory for a bare repository.
    pub fn location(&self) -> &Path {
        &self.location
    }

    /// A name for the repository: its directory name without a `.git` suffix.
    pub fn default_name(&self) -> String {
        let base = self
            .location
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "repository".to_owned());
        base.strip_suffix(".git").map(str::to_owned).unwrap_or(base)
    }

    /// True for a shallow clone, whose history is cut off and so incomplete.
    pub fn is_shallow(&self) -> bool {
        self.repo.to_thread_local().is_shallow().unwrap_or(false)
    }

    /// The refs `git log --branches --remotes --tags HEAD` starts from, and a digest of them.
    pub fn refs(&self) -> Result<RefSnapshot, MineError> {
        refs::snapshot(&self.repo.to_thread_local())
    }

    /// The regular files at HEAD with their complexity (see [`HeadFile`]). Files whose blob is
    /// unchanged from `known`, the previous snapshot by path, are not read again.
    pub fn head_files(
        &self,
        known: &std::collections::HashMap<Vec<u8>, HeadFile>,
    ) -> Result<Vec<HeadFile>, MineError> {
        head::files(&self.repo.to_thread_local(), known)
    }

    /// The contents of the files at HEAD whose path `wanted` accepts, sorted by path.
    pub fn head_blobs(&self, wanted: &dyn Fn(&[u8]) -> bool) -> Result<Vec<head::Blob>, MineError> {
        head::blobs(&self.repo.to_thread_local(), wanted)
    }

    /// The files (those `wanted` accepts) HEAD had at `before` (seconds): at the newest
    /// first-parent commit committed then or earlier, with its sha; `None` before the first.
    pub fn blobs_at(
        &self,
        wanted: &dyn Fn(&[u8]) -> bool,
        before: i64,
    ) -> Result<Option<(String, Vec<head::Blob>)>, MineError> {
        head::blobs_at(&self.repo.to_thread_local(), wanted, before)
    }

    /// When a platform capability was adopted for good: the oldest commit of the unbroken run
    /// of first-parent commits back from HEAD that hold a file `wanted` accepts with contents
    /// `content` accepts, as (sha, committer time in seconds); `None` when HEAD does not.
    pub fn adoption(
        &self,
        wanted: &dyn Fn(&[u8]) -> bool,
        content: &dyn Fn(&[u8]) -> bool,
        limit: usize,
    ) -> Result<Option<(String, i64)>, MineError> {
        head::adoption(&self.repo.to_thread_local(), wanted, content, limit)
    }

    /// Walks the history from `tips` (newest commit time first) and, while it walks, mines the
    /// commits `wanted` accepts on `options.threads` workers: the walk of a large history takes
    /// as long as mining its first thousands of commits, and would otherwise leave a core idle.
    /// The commits reach `consume` in batches of `options.batch`, on the calling thread, in no
    /// particular order; if it returns `false`, mining stops with [`MineError::Stopped`].
    /// `walked` is told how many commits were wanted once the walk is done. Returns every
    /// reachable commit.
    pub fn mine_reachable(
        &self,
        tips: &[ObjectId],
        wanted: impl Fn(&ObjectId) -> bool + Send,
        walked: impl FnOnce(usize) + Send,
        options: &MineOptions,
        consume: impl FnMut(Vec<Commit>) -> bool,
    ) -> Result<Vec<ObjectId>, MineError> {
        let feed = move |send: &mut dyn FnMut(Vec<ObjectId>) -> bool| {
            let repo = self.repo.to_thread_local();
            let mut all = Vec::new();
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut count = 0;
            for id in walk(&repo, tips)? {
                let id = id?;
                all.push(id);
                if !wanted(&id) {
                    continue;
                }
                count += 1;
                chunk.push(id);
                if chunk.len() == CHUNK && !send(std::mem::take(&mut chunk)) {
                    return Ok(all);
                }
            }
            walked(count);
            if !chunk.is_empty() {
                send(chunk);
            }
            Ok(all)
        };
        self.mine_fed(options, feed, consume)
    }

    /// Runs the workers on the chunks of commits `feed` sends (from its own thread; a send
    /// returns `false` once mining has stopped) and returns what `feed` returns.
    fn mine_fed<R: Send>(
        &self,
        options: &MineOptions,
        feed: impl FnOnce(&mut dyn FnMut(Vec<ObjectId>) -> bool) -> Result<R, MineError> + Send,
        mut consume: impl FnMut(Vec<Commit>) -> bool,
    ) -> Result<R, MineError> {
        let shallow = Arc::new(self.shallow_boundary()?);
        let local = self.repo.to_thread_local();
        let mailmap = local.open_mailmap();
        let packs = Arc::new(packs::Packs::open(
            &local.common_dir().join("objects"),
            local.object_hash(),
        ));
        let threads = options.threads.max(1);
        let (chunk_tx, chunk_rx) = crossbeam_channel::bounded::<Vec<ObjectId>>(threads * 2);
        let (tx, rx) = mpsc::sync_channel::<Result<Vec<Commit>, MineError>>(threads * 2);

        std::thread::scope(|scope| {
            let feeder = scope.spawn(move || feed(&mut |chunk| chunk_tx.send(chunk).is_ok()));
            for _ in 0..threads {
                let mut miner = self.commit_miner(&packs, &mailmap, &shallow, options)?;
                let (tx, chunks) = (tx.clone(), chunk_rx.clone());
                scope.spawn(move || {
                    // Ends when the feed is done, or when the results are no longer wanted:
                    // then the receivers go, and the feed's next send fails.
                    for chunk in chunks {
                        let mined = chunk.iter().map(|id| miner.mine(*id)).collect();
                        resident::release_pack_pages();
                        if tx.send(mined).is_err() {
                            break;
                        }
                    }
                });
            }
            drop((tx, chunk_rx));
            let mined = collect_batches(rx, options.batch, &mut consume);
            let fed = feeder
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            mined.and(fed)
        })
    }

    fn commit_miner(
        &self,
        packs: &Arc<packs::Packs>,
        mailmap: &gix::mailmap::Snapshot,
        shallow: &Arc<HashSet<ObjectId>>,
        options: &MineOptions,
    ) -> Result<commit::CommitMiner, MineError> {
        let repo = self.repo.to_thread_local();
        let objects = packs::Reader::new(
            Arc::clone(packs),
            repo.objects.clone(),
            options.pack_cache_bytes,
        );
        let attributes = attributes::DiffAttributes::new(&repo)?;
        Ok(commit::CommitMiner::new(
            repo,
            objects,
            attributes,
            mailmap.clone(),
            Arc::clone(shallow),
        ))
    }

    fn shallow_boundary(&self) -> Result<HashSet<ObjectId>, MineError> {
        let commits = self
            .repo
            .to_thread_local()
            .shallow_commits()
            .map_err(MineError::git("cannot read the shallow file"))?;
        Ok(commits
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default())
    }
}

/// The commits reachable from `tips`, newest commit time first.
fn walk<'r>(
    repo: &'r gix::Repository,
    tips: &[ObjectId],
) -> Result<impl Iterator<Item = Result<ObjectId, MineError>> + 'r, MineError> {
    let walk = repo
        .rev_walk(tips.iter().copied())
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .all()
        .map_err(MineError::git("cannot walk history"))?;
    Ok(walk.map(|info| {
        info.map(|i| i.id)
            .map_err(MineError::git("cannot walk history"))
    }))
}

/// Regroups the workers' chunks into batches of `batch` commits for `consume`. The first error
/// (a worker's or `consume` declining) ends the run; dropping `rx` then stops the workers.
fn collect_batches(
    rx: mpsc::Receiver<Result<Vec<Commit>, MineError>>,
    batch: usize,
    consume: &mut impl FnMut(Vec<Commit>) -> bool,
) -> Result<(), MineError> {
    let mut pending = Vec::with_capacity(batch);
    for chunk in rx {
        pending.extend(chunk?);
        if pending.len() >= batch
            && !consume(std::mem::replace(&mut pending, Vec::with_capacity(batch)))
        {
            return Err(MineError::Stopped);
        }
    }
    if !pending.is_empty() && !consume(pending) {
        return Err(MineError::Stopped);
    }
    Ok(())
}
