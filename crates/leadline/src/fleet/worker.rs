//! `leadline worker`: claims jobs under leases and runs them.
//!
//! A job runs while a sibling future renews its lease every third of the lease; if a renewal
//! finds the lease gone (the worker stalled past it and another took the job over), the job's
//! future is dropped, which rolls back whatever transaction it had open, and the other
//! worker's run is the one that counts. A worker killed outright renews nothing: its lease
//! expires and the next claim takes the job over, resuming from the ingest's cursor.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use leadline_core::model::Millis;
use leadline_core::store::{Exclusive, Job, JobOutcome, Store};

use super::{Work, arm_due, mirror};
use crate::cli::{IngestOpsgenieArgs, IngestPagerdutyArgs, WorkerArgs};
use crate::config::{Settings, Verbosity};

/// The longest wait between retries, however many attempts failed.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

struct Shared {
    store: Arc<dyn Store>,
    settings: Settings,
    owner: String,
    until_idle: bool,
    /// Turns true on SIGINT or SIGTERM.
    stop: tokio::sync::watch::Receiver<bool>,
    /// Jobs this worker marked failed for good.
    failed: std::sync::atomic::AtomicUsize,
    /// Whether to report each job (`-q` keeps only failures).
    chatty: bool,
}

impl Shared {
    /// A progress line on stderr, unless `-q`.
    fn say(&self, line: std::fmt::Arguments<'_>) {
        if self.chatty {
            eprintln!("{line}");
        }
    }

    fn lease_ms(&self) -> Millis {
        self.settings.fleet.lease.as_millis() as Millis
    }
}

pub async fn run(store: &Arc<dyn Store>, args: &WorkerArgs, settings: &Settings) -> Result<()> {
    let mut concurrency = usize::from(args.concurrency.max(1));
    let chatty = settings.verbosity >= Verbosity::Normal;
    let _only_worker = single_on_sqlite(store, &mut concurrency, chatty).await?;
    let (stopping, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        crate::web::shutdown().await;
        eprintln!("stopping: the jobs running now go back to the queue");
        let _ = stopping.send(true);
    });
    let shared = Arc::new(Shared {
        store: store.clone(),
        settings: settings.clone(),
        owner: owner_name(),
        until_idle: args.until_idle,
        stop,
        failed: Default::default(),
        chatty: settings.verbosity >= Verbosity::Normal,
    });
    shared.say(format_args!(
        "worker {}: running up to {concurrency} at a time{}",
        shared.owner,
        if args.until_idle {
            ", until the queue is empty"
        } else {
            ""
        }
    ));
    let scheduler = args
        .schedule
        .then(|| tokio::spawn(schedule(shared.clone())));
    let mut slots = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        slots.spawn(slot(shared.clone()));
    }
    let mut result = Ok(());
    while let Some(done) = slots.join_next().await {
        let ended = done.context("a worker slot panicked").and_then(|r| r);
        if ended.is_err() && result.is_ok() {
            result = ended;
        }
    }
    if let Some(s) = scheduler {
        s.abort();
    }
    let failed = shared.failed.load(std::sync::atomic::Ordering::SeqCst);
    if result.is_ok() && args.until_idle && failed > 0 {
        bail!("{failed} jobs failed after their last attempt (see `leadline fleet status`)");
    }
    result
}

/// On SQLite one worker process runs, one job at a time: the database has one writer, and a
/// lock beside the file turns a second worker away.
async fn single_on_sqlite(
    store: &Arc<dyn Store>,
    concurrency: &mut usize,
    chatty: bool,
) -> Result<Option<Exclusive>> {
    if store.backend() != "sqlite" {
        return Ok(None);
    }
    let Some(held) = store.try_exclusive("worker").await? else {
        bail!(
            "another worker is running on this SQLite store; SQLite takes one worker \
             (use a PostgreSQL store for several)"
        );
    };
    if chatty || *concurrency > 1 {
        eprintln!(
            "SQLite store: this is its only worker, running one job at a time{}",
            if *concurrency > 1 {
                " (--concurrency needs a PostgreSQL store)"
            } else {
                ""
            }
        );
    }
    *concurrency = 1;
    Ok(Some(held))
}

/// `host:pid:random`, unique among the workers sharing a store.
fn owner_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned());
    format!(
        "{host}:{}:{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}

/// Claims and runs jobs until stopped, or (`--until-idle`) until none is pending or running.
async fn slot(shared: Arc<Shared>) -> Result<()> {
    let poll = shared.settings.fleet.poll;
    let mut stop = shared.stop.clone();
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let now = crate::time::now();
        match shared
            .store
            .claim_job(&shared.owner, now, now + shared.lease_ms())
            .await
        {
            Ok(Some(job)) => run_job(&shared, job).await,
            Ok(None) => {
                if shared.until_idle && idle(&shared.store).await? {
                    return Ok(());
                }
                tokio::select! {
                    () = tokio::time::sleep(poll) => {}
                    _ = stop.changed() => {}
                }
            }
            Err(e) if shared.until_idle => return Err(e).context("cannot claim a job"),
            Err(e) => {
                tracing::warn!("cannot claim a job: {e}; trying again");
                tokio::time::sleep(poll.max(Duration::from_secs(5))).await;
            }
        }
    }
}

/// No job pending or running anywhere (a running job under an expired lease is one to take
/// over, so the worker stays).
async fn idle(store: &Arc<dyn Store>) -> Result<bool> {
    let jobs = store.jobs().await.context("cannot read the job queue")?;
    Ok(jobs
        .iter()
        .all(|j| j.state != "pending" && j.state != "running"))
}

async fn run_job(shared: &Shared, job: Job) {
    let started = Instant::now();
    let label = format!("{} {}", job.kind, job.target);
    let mut stop = shared.stop.clone();
    let result = match serde_json::from_str::<Work>(&job.payload) {
        Ok(work) => tokio::select! {
            r = with_lease(shared, &job, execute(shared, &work)) => r,
            () = stopped(&mut stop) => {
                // Dropping the work rolled back what it had open; the job is due again now.
                let back = JobOutcome::Retry { at: crate::time::now(), error: "the worker stopped" };
                if let Err(e) = shared.store.finish_job(job.id, &shared.owner, crate::time::now(), back).await {
                    tracing::warn!("{label}: cannot hand the job back: {e}");
                }
                return;
            }
        },
        Err(e) => Some(Err(anyhow::Error::new(e).context("unreadable job payload"))),
    };
    let Some(result) = result else {
        eprintln!("{label}: the lease passed to another worker; leaving the job to it");
        return;
    };
    let now = crate::time::now();
    let secs = started.elapsed().as_secs_f64();
    let message;
    let outcome = match &result {
        Ok(summary) => {
            shared.say(format_args!("{label}: done in {secs:.1} s{}", summary.text));
            JobOutcome::Done
        }
        Err(e) => {
            message = format!("{e:#}");
            if job.attempts >= shared.settings.fleet.max_attempts {
                eprintln!("{label}: failed after {} attempts: {message}", job.attempts);
                shared
                    .failed
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                JobOutcome::Failed { error: &message }
            } else {
                let wait = backoff(shared.settings.fleet.retry, job.attempts);
                eprintln!(
                    "{label}: attempt {} failed in {secs:.1} s, retrying in {} s: {message}",
                    job.attempts,
                    wait.as_secs()
                );
                JobOutcome::Retry {
                    at: now + wait.as_millis() as Millis,
                    error: &message,
                }
            }
        }
    };
    match shared
        .store
        .finish_job(job.id, &shared.owner, now, outcome)
        .await
    {
        Ok(true) => {}
        Ok(false) => eprintln!("{label}: the lease passed to another worker before the end"),
        Err(e) => tracing::warn!("{label}: cannot record the end of the job: {e}"),
    }
    // Only a change is announced: servers drop their caches on every announcement, and most
    // refreshes of a fleet find nothing new.
    if result.as_ref().is_ok_and(|r| r.changed)
        && let Err(e) = shared.store.announce_change().await
    {
        tracing::warn!("cannot announce the change: {e}");
    }
}

/// `retry × 2^(attempts − 1)`, at most [`MAX_BACKOFF`].
fn backoff(retry: Duration, attempts: i64) -> Duration {
    let doublings = attempts.clamp(1, 30) as u32 - 1;
    retry.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// Runs `work` while renewing the job's lease; None when the lease was lost.
async fn with_lease<F: Future<Output = Result<Ran>>>(
    shared: &Shared,
    job: &Job,
    work: F,
) -> Option<Result<Ran>> {
    let every = shared.settings.fleet.lease / 3;
    let renew = async {
        loop {
            tokio::time::sleep(every).await;
            let until = crate::time::now() + shared.lease_ms();
            match shared.store.renew_lease(job.id, &shared.owner, until).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => tracing::warn!("{}: cannot renew the lease: {e}", job.target),
            }
        }
    };
    tokio::select! {
        result = work => Some(result),
        () = renew => None,
    }
}

/// What a job did: a summary for the log, and whether the store may have changed.
struct Ran {
    text: String,
    changed: bool,
}

/// Runs one unit of work with the code of the matching `ingest` command.
async fn execute(shared: &Shared, work: &Work) -> Result<Ran> {
    let store = &shared.store;
    let settings = &shared.settings;
    match work {
        Work::Git { name, url } => {
            let dir = settings.fleet.mirror_dir.clone();
            let (name_, url_) = (name.clone(), url.clone());
            let mirror = tokio::task::spawn_blocking(move || mirror::update(&dir, &name_, &url_))
                .await
                .context("the mirror thread panicked")??;
            let report =
                crate::ingest::ingest_git(store, &mirror, Some(name), &settings.mine, false)
                    .await?;
            Ok(match report.up_to_date {
                true => Ran {
                    text: ", up to date".to_owned(),
                    changed: false,
                },
                false => Ran {
                    text: format!(
                        ", {} new commits, {} removed",
                        report.new_commits, report.removed_commits
                    ),
                    changed: true,
                },
            })
        }
        Work::Forge {
            forge,
            repo,
            api_url,
        } => {
            crate::forge::sync_one(store, &settings.server, forge, repo, api_url.as_deref())
                .await?;
            Ok(Ran {
                text: String::new(),
                changed: true,
            })
        }
        Work::Incidents {
            vendor,
            api_url,
            eu,
            since,
        } => {
            match vendor.as_str() {
                "pagerduty" => {
                    let args = IngestPagerdutyArgs {
                        api_url: api_url.clone(),
                        since: since.clone(),
                    };
                    crate::oncall::pagerduty(store, &args, false).await?
                }
                "opsgenie" => {
                    let args = IngestOpsgenieArgs {
                        eu: *eu,
                        api_url: api_url.clone(),
                        since: since.clone(),
                    };
                    crate::oncall::opsgenie(store, &args, false).await?
                }
                other => bail!("{other:?} is not an incident tool leadline syncs"),
            }
            Ok(Ran {
                text: String::new(),
                changed: true,
            })
        }
    }
}

/// `worker --schedule`: arms what is due on every tick while this worker holds the scheduler
/// lock; the others keep trying to take it, so one takes over when the holder dies.
async fn schedule(shared: Arc<Shared>) {
    let tick = (shared.settings.fleet.every / 4)
        .clamp(Duration::from_secs(1), Duration::from_secs(60))
        .max(shared.settings.fleet.poll);
    let mut held: Option<Exclusive> = None;
    loop {
        if held.is_none() {
            match shared.store.try_exclusive("scheduler").await {
                Ok(Some(lock)) => {
                    shared.say(format_args!("worker {}: scheduling", shared.owner));
                    held = Some(lock);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("cannot take the scheduler lock: {e}"),
            }
        }
        if held.is_some() {
            match arm_due(&shared.store, &shared.settings, crate::time::now(), false).await {
                Ok(armed) => {
                    if armed.armed > 0 {
                        shared.say(format_args!("scheduler: armed {} jobs", armed.armed));
                    }
                    for e in armed.errors {
                        tracing::warn!("scheduler: {e}");
                    }
                }
                Err(e) => tracing::warn!("scheduler: {e:#}"),
            }
        }
        tokio::time::sleep(tick).await;
    }
}

/// Resolves once the worker is told to stop.
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    // An error means the sender is gone: nobody can ask to stop any more.
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), Duration::from_secs(30));
        assert_eq!(backoff(base, 2), Duration::from_secs(60));
        assert_eq!(backoff(base, 4), Duration::from_secs(240));
        assert_eq!(backoff(base, 40), MAX_BACKOFF);
    }
}
