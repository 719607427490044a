//! `leadline ingest github`: runs the connector of `leadline-sources` and stores each page it
//! fetches together with the cursor that follows it.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leadline_core::events::Events;
use leadline_core::store::Store;
use leadline_sources::forge::github::{self, Cursor};
use leadline_sources::forge::{Client, Options, Sink};

use crate::cli::IngestGithubArgs;
use crate::config::ServerConfig;

/// The cursor source of GitHub syncs; the scope is `OWNER/REPO`.
const SOURCE: &str = "github";

struct StoreSink<'a> {
    store: &'a Arc<dyn Store>,
    scope: String,
    bar: ProgressBar,
}

impl Sink for StoreSink<'_> {
    async fn save(&mut self, events: Events, cursor: &str) -> Result<(), String> {
        self.store
            .store_events(SOURCE, &events, Some((&self.scope, cursor)))
            .await
            .map_err(|e| e.to_string())
    }

    fn progress(&mut self, what: &str, done: u64) {
        self.bar.set_message(format!("{what}: {done}"));
        self.bar.tick();
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
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    if token.is_none() && chatty {
        eprintln!("GITHUB_TOKEN is not set: unauthenticated requests are limited to 60 an hour");
    }
    let api_url = args.api_url.as_deref().unwrap_or(&config.github_api_url);
    let client = Client::new(Options::new(api_url, token))?;
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
        sync(store, &client, &repo, chatty).await?;
    }
    Ok(())
}

async fn sync(store: &Arc<dyn Store>, client: &Client, repo: &str, chatty: bool) -> Result<()> {
    let scope = repo.to_owned();
    let cursor: Cursor = match store.cursor(SOURCE, &scope).await? {
        Some(text) => serde_json::from_str(&text)
            .with_context(|| format!("{repo}: unreadable sync cursor in the store"))?,
        None => Cursor::default(),
    };
    let resuming = cursor.pulls.next.is_some() || cursor.runs.next.is_some();
    let bar = if chatty {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(repo.to_owned());
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut sink = StoreSink {
        store,
        scope,
        bar: bar.clone(),
    };
    let synced = github::sync_repo(client, repo, cursor, &mut sink)
        .await
        .with_context(|| format!("{repo}: sync stopped; run again to resume"))?;
    bar.finish_and_clear();
    if chatty {
        eprintln!(
            "{repo}: {}{} pull requests, {} reviews, {} workflow run attempts ({} requests)",
            if resuming { "resumed; " } else { "" },
            synced.pull_requests,
            synced.reviews,
            synced.builds,
            synced.requests
        );
    }
    Ok(())
}
