//! `leadline ingest pagerduty|opsgenie`: runs the on-call connector of `leadline-sources` and
//! stores each page with the cursor that follows it (source `alerts`, as the alert webhooks
//! write, so a webhook and a sync of one incident meet in one row).

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use leadline_core::events::Events;
use leadline_core::model::Millis;
use leadline_core::store::Store;
use leadline_sources::forge::{Client, Sink};
use leadline_sources::oncall::{self, Cursor, Synced};

use crate::cli::{IngestOpsgenieArgs, IngestPagerdutyArgs};

const SOURCE: &str = "alerts";
const DAY_MS: Millis = 86_400_000;

/// Stores pages under `alerts`, the cursor under `scope` (the vendor and its API root).
struct StoreSink<'a> {
    store: &'a Arc<dyn Store>,
    scope: String,
    chatty: bool,
}

impl Sink for StoreSink<'_> {
    async fn save(&mut self, events: Events, cursor: &str) -> Result<(), String> {
        self.store
            .store_events(SOURCE, &events, Some((&self.scope, cursor)))
            .await
            .map_err(|e| e.to_string())
    }

    fn progress(&mut self, _what: &str, _done: u64) {}

    fn total(&mut self, _what: &str, _total: u64) {}

    fn notice(&mut self, message: &str) {
        if self.chatty {
            eprintln!("{}: {message}", self.scope);
        }
    }
}

fn secret(name: &str) -> Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            anyhow!(leadline_metrics::UsageError(format!(
                "set {name} to an API key"
            )))
        })
}

/// The first sync's start: `--since`, else a year before now.
fn start(since: &Option<String>, now: Millis) -> Result<Millis> {
    Ok(match since {
        Some(v) => leadline_metrics::window::parse_instant("--since", v)?,
        None => now - 365 * DAY_MS,
    })
}

async fn cursor(store: &Arc<dyn Store>, scope: &str) -> Result<Cursor> {
    Ok(match store.cursor(SOURCE, scope).await? {
        Some(text) => serde_json::from_str(&text)
            .with_context(|| format!("{scope}: unreadable sync cursor in the store"))?,
        None => Cursor::default(),
    })
}

fn report(scope: &str, synced: &Synced) {
    eprintln!(
        "{scope}: {}{} incidents ({} requests)",
        if synced.resumed { "continued; " } else { "" },
        synced.incidents,
        synced.requests
    );
}

pub async fn pagerduty(
    store: &Arc<dyn Store>,
    args: &IngestPagerdutyArgs,
    chatty: bool,
) -> Result<()> {
    let token = secret("PAGERDUTY_TOKEN")?;
    let api = args
        .api_url
        .as_deref()
        .unwrap_or("https://api.pagerduty.com");
    let client = Client::new(oncall::pagerduty::options(api, &token))?;
    let scope = format!("pagerduty {}", client.options.api_url);
    let now = jiff::Timestamp::now().as_millisecond();
    let from = cursor(store, &scope).await?;
    let mut sink = StoreSink {
        store,
        scope: scope.clone(),
        chatty,
    };
    let synced = oncall::pagerduty::sync(&client, from, start(&args.since, now)?, now, &mut sink)
        .await
        .with_context(|| format!("{scope}: sync stopped; run again to resume"))?;
    if chatty {
        report(&scope, &synced);
    }
    Ok(())
}

pub async fn opsgenie(
    store: &Arc<dyn Store>,
    args: &IngestOpsgenieArgs,
    chatty: bool,
) -> Result<()> {
    let key = secret("OPSGENIE_API_KEY")?;
    let api = match (&args.api_url, args.eu) {
        (Some(url), _) => url.as_str(),
        (None, true) => oncall::opsgenie::EU,
        (None, false) => oncall::opsgenie::US,
    };
    let client = Client::new(oncall::opsgenie::options(api, &key))?;
    let scope = format!("opsgenie {}", client.options.api_url);
    let now = jiff::Timestamp::now().as_millisecond();
    let from = cursor(store, &scope).await?;
    let mut sink = StoreSink {
        store,
        scope: scope.clone(),
        chatty,
    };
    let synced = oncall::opsgenie::sync(&client, from, start(&args.since, now)?, &mut sink)
        .await
        .with_context(|| format!("{scope}: sync stopped; run again to resume"))?;
    if chatty {
        report(&scope, &synced);
    }
    Ok(())
}
