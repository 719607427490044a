//! `leadline ingest github|gitlab`: runs the connector of `leadline-sources` and stores each page it
//! fetches together with the cursor that follows it.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leadline_core::events::Events;
use leadline_core::store::Store;
use leadline_sources::forge::github::{self, Cursor};
use leadline_sources::forge::gitlab;
use leadline_sources::forge::{Client, Options, Sink};

use crate::cli::{IngestGithubArgs, IngestGitlabArgs};
use crate::config::ServerConfig;

/// Stores a sync's pages under `source` (`github`, `gitlab`), the cursor under `scope` (the
/// repository's path).
struct StoreSink<'a> {
    store: &'a Arc<dyn Store>,
    source: &'static str,
    scope: String,
    bar: ProgressBar,
}

impl Sink for StoreSink<'_> {
    async fn save(&mut self, events: Events, cursor: &str) -> Result<(), String> {
        self.store
            .store_events(self.source, &events, Some((&self.scope, cursor)))
            .await
            .map_err(|e| e.to_string())
    }

    fn progress(&mut self, what: &str, done: u64) {
        if self.bar.length().is_some() && self.bar.message() == what {
            self.bar.set_position(done);
            return;
        }
        if self.bar.length().is_some() {
            // A listing without a known total: back to a counter.
            self.bar.unset_length();
            self.bar.set_style(spinner());
        }
        self.bar.set_message(format!("{what}: {done}"));
        self.bar.tick();
    }

    fn total(&mut self, what: &str, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.bar.set_message(what.to_owned());
        self.bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {msg}: {pos}/{len} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }

    fn notice(&mut self, message: &str) {
        self.bar.suspend(|| eprintln!("{}: {message}", self.scope));
    }
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &IngestGithubArgs,
    config: &ServerConfig,
    chatty: bool,
) -> Result<()> {
    if std::env::var("GITHUB_TOKEN").map_or(true, |t| t.is_empty()) && chatty {
        eprintln!("GITHUB_TOKEN is not set: unauthenticated requests are limited to 60 an hour");
    }
    let client = client(Forge::Github, args.api_url.as_deref(), config)?;
    let repos = match args.target.split_once('/') {
        Some((owner, name)) if !owner.is_empty() && !name.is_empty() && !name.contains('/') => {
            if args.list || args.filter.is_some() {
                bail!("--list and --filter apply to an organisation, not OWNER/REPO");
            }
            vec![args.target.clone()]
        }
        Some(_) => bail!("{:?}: expected OWNER/REPO or an organisation", args.target),
        None => {
            let mut sink = StoreSink {
                store,
                source: "github",
                scope: args.target.clone(),
                bar: ProgressBar::hidden(),
            };
            let repos =
                github::list_repos(&client, &args.target, args.filter.as_deref(), &mut sink)
                    .await?;
            if args.list {
                for r in &repos {
                    println!("{r}");
                }
                eprintln!("{} repositories", repos.len());
                return Ok(());
            }
            repos
        }
    };
    for repo in repos {
        sync(store, &client, Forge::Github, &repo, chatty).await?;
    }
    Ok(())
}

/// Counts without a known total: the listing's name, its count and the time spent.
fn spinner() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// `leadline ingest gitlab GROUP/PROJECT`.
pub async fn run_gitlab(
    store: &Arc<dyn Store>,
    args: &IngestGitlabArgs,
    config: &ServerConfig,
    chatty: bool,
) -> Result<()> {
    if !args.group && (!args.project.contains('/') || args.project.ends_with('/')) {
        bail!(
            "{:?}: expected GROUP/PROJECT (or pass --group for a group)",
            args.project
        );
    }
    let client = client(Forge::Gitlab, args.api_url.as_deref(), config)?;
    let projects = if args.group {
        let mut sink = StoreSink {
            store,
            source: "gitlab",
            scope: args.project.clone(),
            bar: ProgressBar::hidden(),
        };
        let projects =
            gitlab::list_projects(&client, &args.project, args.filter.as_deref(), &mut sink)
                .await?;
        if args.list {
            for p in &projects {
                println!("{p}");
            }
            eprintln!("{} projects", projects.len());
            return Ok(());
        }
        projects
    } else {
        vec![args.project.clone()]
    };
    for project in projects {
        sync(store, &client, Forge::Gitlab, &project, chatty).await?;
    }
    Ok(())
}

/// A connector client for `forge` (`github` or `gitlab`), its token from the environment.
fn client(forge: Forge, api_url: Option<&str>, config: &ServerConfig) -> Result<Client> {
    Ok(match forge {
        Forge::Github => {
            let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
            let api_url = api_url.unwrap_or(&config.github_api_url);
            Client::new(Options {
                rerun_lookback_days: config.github_rerun_lookback_days,
                ..Options::new(api_url, token)
            })?
        }
        Forge::Gitlab => {
            let token = std::env::var("GITLAB_TOKEN").ok().filter(|t| !t.is_empty());
            let api_url = api_url.unwrap_or(&config.gitlab_api_url);
            Client::new(Options::new(api_url, token))?
        }
    })
}

fn forge_named(forge: &str) -> Result<Forge> {
    match forge {
        "github" => Ok(Forge::Github),
        "gitlab" => Ok(Forge::Gitlab),
        other => bail!("{other:?} is not a forge leadline syncs (github, gitlab)"),
    }
}

/// The repositories of a GitHub organisation or GitLab group (full names), for the fleet.
pub async fn discover(
    store: &Arc<dyn Store>,
    config: &ServerConfig,
    forge: &str,
    owner: &str,
    filter: Option<&str>,
    api_url: Option<&str>,
) -> Result<Vec<String>> {
    let kind = forge_named(forge)?;
    let client = client(kind, api_url, config)?;
    let mut sink = StoreSink {
        store,
        source: kind.source(),
        scope: owner.to_owned(),
        bar: ProgressBar::hidden(),
    };
    Ok(match kind {
        Forge::Github => github::list_repos(&client, owner, filter, &mut sink).await?,
        Forge::Gitlab => gitlab::list_projects(&client, owner, filter, &mut sink).await?,
    })
}

/// Syncs one repository's pull requests, reviews and CI, resuming from its cursor (the
/// fleet's `forge` jobs).
pub async fn sync_one(
    store: &Arc<dyn Store>,
    config: &ServerConfig,
    forge: &str,
    repo: &str,
    api_url: Option<&str>,
) -> Result<()> {
    let kind = forge_named(forge)?;
    let client = client(kind, api_url, config)?;
    sync(store, &client, kind, repo, false).await
}

#[derive(Clone, Copy)]
enum Forge {
    Github,
    Gitlab,
}

impl Forge {
    /// The source its events and cursors are stored under.
    fn source(self) -> &'static str {
        match self {
            Forge::Github => "github",
            Forge::Gitlab => "gitlab",
        }
    }
}

async fn sync(
    store: &Arc<dyn Store>,
    client: &Client,
    forge: Forge,
    repo: &str,
    chatty: bool,
) -> Result<()> {
    let source = forge.source();
    let scope = repo.to_owned();
    let cursor: Cursor = match store.cursor(source, &scope).await? {
        Some(text) => serde_json::from_str(&text)
            .with_context(|| format!("{repo}: unreadable sync cursor in the store"))?,
        None => Cursor::default(),
    };
    let resuming = cursor.pulls.next.is_some() || cursor.runs.next.is_some();
    let bar = if chatty {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(spinner());
        bar.set_prefix(repo.to_owned());
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut sink = StoreSink {
        store,
        source,
        scope,
        bar: bar.clone(),
    };
    let synced = match forge {
        Forge::Github => github::sync_repo(client, repo, cursor, &mut sink).await,
        Forge::Gitlab => gitlab::sync_project(client, repo, cursor, &mut sink).await,
    }
    .with_context(|| format!("{repo}: sync stopped; run again to resume"))?;
    bar.finish_and_clear();
    if chatty {
        eprintln!(
            "{repo}: {}{} pull requests, {} reviews, {} CI run attempts ({} requests)",
            if resuming { "resumed; " } else { "" },
            synced.pull_requests,
            synced.reviews,
            synced.builds,
            synced.requests
        );
    }
    Ok(())
}
