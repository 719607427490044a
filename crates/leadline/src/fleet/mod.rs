//! The fleet: repositories and sources kept fresh by workers sharing one store.
//!
//! `fleet sync` (and `worker --schedule`) arm the jobs that are due; `worker` claims them
//! under leases and runs them with the same code as `ingest git|github|gitlab|pagerduty|
//! opsgenie`, whose cursors make a job taken over after a worker's death resume where it
//! stopped. The queue itself is the store's ([`JobStore`](leadline_core::store::JobStore)).

mod mirror;
pub mod settings;
mod worker;

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use leadline_core::model::Millis;
use leadline_core::store::{Job, Store};
use serde::{Deserialize, Serialize};

use crate::cli::{FleetCommand, SummaryFormat};
use crate::config::Settings;
use crate::time::rfc3339;
pub use settings::{FleetFileConfig, Settings as FleetSettings};
pub use worker::run as worker;

/// How long finished runs are kept for `/metrics` and `fleet status`.
const RUNS_KEPT_MS: Millis = 7 * 86_400_000;

/// One unit of work, as stored in a job's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Work {
    /// Mirror `url` and ingest it as `name`.
    Git { name: String, url: String },
    /// Sync a forge repository's pull requests, reviews and CI.
    Forge {
        forge: String,
        repo: String,
        api_url: Option<String>,
    },
    /// Sync an incident tool.
    Incidents {
        vendor: String,
        api_url: Option<String>,
        eu: bool,
        since: Option<String>,
    },
}

impl Work {
    pub fn kind(&self) -> &'static str {
        match self {
            Work::Git { .. } => "git",
            Work::Forge { .. } => "forge",
            Work::Incidents { .. } => "incidents",
        }
    }

    /// The target's name: the repository's name, `github:OWNER/REPO`, or the incident tool.
    pub fn target(&self) -> String {
        match self {
            Work::Git { name, .. } => name.clone(),
            Work::Forge { forge, repo, .. } => format!("{forge}:{repo}"),
            Work::Incidents {
                vendor, api_url, ..
            } => match api_url {
                Some(url) => format!("{vendor} {url}"),
                None => vendor.clone(),
            },
        }
    }

    async fn arm(&self, store: &Arc<dyn Store>, now: Millis) -> Result<()> {
        let payload = serde_json::to_string(self)?;
        store
            .enqueue_job(self.kind(), &self.target(), &payload, now)
            .await?;
        Ok(())
    }
}

/// What arming found: jobs armed, targets not yet due, and sources that could not be listed.
#[derive(Debug, Default)]
pub struct Armed {
    pub armed: usize,
    pub not_due: usize,
    pub errors: Vec<String>,
}

/// Arms every target that is due at `now` (never run, or finished at least `[fleet] every`
/// ago), or every target not already queued when `all`. Discovery failures are collected,
/// not fatal: the other targets are armed all the same.
pub async fn arm_due(
    store: &Arc<dyn Store>,
    settings: &Settings,
    now: Millis,
    all: bool,
) -> Result<Armed> {
    let mut armed = Armed::default();
    let works = works(store, settings, &mut armed.errors).await;
    let jobs: HashMap<(String, String), Job> = store
        .jobs()
        .await?
        .into_iter()
        .map(|j| ((j.kind.clone(), j.target.clone()), j))
        .collect();
    let every = settings.fleet.every.as_millis() as Millis;
    for work in works {
        let due = match jobs.get(&(work.kind().to_owned(), work.target())) {
            None => true,
            Some(j) if j.state == "done" || j.state == "failed" => {
                all || j.finished_at.unwrap_or(0).saturating_add(every) <= now
            }
            Some(_) => false,
        };
        if due {
            work.arm(store, now).await?;
            armed.armed += 1;
        } else {
            armed.not_due += 1;
        }
    }
    store.prune_job_runs(now - RUNS_KEPT_MS).await?;
    Ok(armed)
}

/// The configured targets, with those discovered through the forge and incident sources.
async fn works(store: &Arc<dyn Store>, settings: &Settings, errors: &mut Vec<String>) -> Vec<Work> {
    let fleet = &settings.fleet;
    let mut out = Vec::new();
    for r in &fleet.repositories {
        out.push(Work::Git {
            name: r.name.clone(),
            url: r.url.clone(),
        });
        if let Some(f) = &r.forge {
            out.push(Work::Forge {
                forge: f.forge.clone(),
                repo: f.repo.clone(),
                api_url: None,
            });
        }
    }
    for source in &fleet.sources {
        match source {
            settings::Source::Forge {
                forge,
                owner,
                filter,
                clone_url,
                api_url,
            } => {
                let found = crate::forge::discover(
                    store,
                    &settings.server,
                    forge,
                    owner,
                    filter.as_deref(),
                    api_url.as_deref(),
                )
                .await;
                let repos = match found {
                    Ok(repos) => repos,
                    Err(e) => {
                        errors.push(format!("{forge}:{owner}: {e:#}"));
                        continue;
                    }
                };
                for repo in repos {
                    if let Some(template) = clone_url {
                        out.push(Work::Git {
                            name: repo.clone(),
                            url: template.replace("{repo}", &repo),
                        });
                    }
                    out.push(Work::Forge {
                        forge: forge.clone(),
                        repo,
                        api_url: api_url.clone(),
                    });
                }
            }
            settings::Source::Incidents {
                vendor,
                api_url,
                eu,
                since,
            } => out.push(Work::Incidents {
                vendor: vendor.clone(),
                api_url: api_url.clone(),
                eu: *eu,
                since: since.clone(),
            }),
        }
    }
    out
}

/// Arms the git job of the fleet repository a push went to (`github:OWNER/REPO`), at once.
/// False when no fleet repository has that forge name.
pub async fn arm_pushed(
    store: &Arc<dyn Store>,
    fleet: &FleetSettings,
    forge_target: &str,
    now: Millis,
) -> Result<bool> {
    let Some(r) = fleet
        .repositories
        .iter()
        .find(|r| r.forge.as_ref().is_some_and(|f| f.target() == forge_target))
    else {
        return Ok(false);
    };
    let work = Work::Git {
        name: r.name.clone(),
        url: r.url.clone(),
    };
    work.arm(store, now).await?;
    Ok(true)
}

/// `fleet status --format json`.
#[derive(Debug, Serialize)]
pub struct Status {
    pub targets: Vec<TargetStatus>,
    pub queue: Queue,
}

#[derive(Debug, Serialize)]
pub struct TargetStatus {
    pub name: String,
    pub kind: String,
    pub state: String,
    /// RFC 3339.
    pub last_success: Option<String>,
    /// Seconds since the last success.
    pub lag_seconds: Option<i64>,
    pub attempts: i64,
    pub error: Option<String>,
    /// The worker holding a running job.
    pub owner: Option<String>,
    /// When a pending job may run (RFC 3339).
    pub next_at: Option<String>,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Queue {
    pub pending: usize,
    pub running: usize,
    pub failed: usize,
}

impl Queue {
    pub fn of(jobs: &[Job]) -> Queue {
        let count = |s: &str| jobs.iter().filter(|j| j.state == s).count();
        Queue {
            pending: count("pending"),
            running: count("running"),
            failed: count("failed"),
        }
    }
}

pub fn status(jobs: &[Job], now: Millis) -> Status {
    let targets = jobs
        .iter()
        .map(|j| TargetStatus {
            name: j.target.clone(),
            kind: j.kind.clone(),
            state: j.state.clone(),
            last_success: j.last_success.map(|t| rfc3339(t, 0)),
            lag_seconds: j.last_success.map(|t| (now - t).max(0) / 1000),
            attempts: j.attempts,
            error: j.last_error.clone(),
            owner: j.lease_owner.clone(),
            next_at: (j.state == "pending").then(|| rfc3339(j.next_at, 0)),
        })
        .collect();
    Status {
        targets,
        queue: Queue::of(jobs),
    }
}

pub async fn run(
    store: &Arc<dyn Store>,
    command: &FleetCommand,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    match command {
        FleetCommand::Sync(args) => {
            if settings.fleet.is_empty() {
                return Err(leadline_metrics::UsageError(
                    "no fleet is defined: add [[fleet.repository]] or [[fleet.source]] to leadline.toml"
                        .to_owned(),
                )
                .into());
            }
            let armed = arm_due(store, settings, crate::time::now(), args.all).await?;
            if settings.verbosity >= crate::config::Verbosity::Normal {
                eprintln!(
                    "armed {} jobs ({} targets not due yet)",
                    armed.armed, armed.not_due
                );
            }
            for e in &armed.errors {
                eprintln!("error: {e}");
            }
            if !armed.errors.is_empty() {
                bail!("{} sources could not be listed", armed.errors.len());
            }
            Ok(())
        }
        FleetCommand::Status(args) => {
            let jobs = store.jobs().await.context("cannot read the job queue")?;
            let status = status(&jobs, crate::time::now());
            if args.format == SummaryFormat::Json {
                serde_json::to_writer_pretty(&mut *out, &status)?;
                writeln!(out)?;
                return Ok(());
            }
            status_table(&status, out)
        }
    }
}

fn status_table(status: &Status, out: &mut dyn Write) -> Result<()> {
    let mut t = crate::table::table(&[
        "target",
        "kind",
        "state",
        "last success",
        "lag",
        "attempts",
        "error",
    ]);
    for s in &status.targets {
        t.add_row(vec![
            s.name.clone(),
            s.kind.clone(),
            s.state.clone(),
            s.last_success.clone().unwrap_or_else(|| "never".to_owned()),
            s.lag_seconds
                .map_or_else(String::new, |l| crate::table::human(l as f64)),
            s.attempts.to_string(),
            s.error.as_deref().map(clip).unwrap_or_default(),
        ]);
    }
    writeln!(out, "{t}")?;
    let q = &status.queue;
    writeln!(
        out,
        "queue: {} pending, {} running, {} failed",
        q.pending, q.running, q.failed
    )?;
    Ok(())
}

/// An error cut to fit a table row (JSON has it whole).
fn clip(error: &str) -> String {
    match error.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &error[..at]),
        None => error.to_owned(),
    }
}
