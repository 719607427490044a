//! Webhook deliveries, received or stored, mapped with the current mappings; `leadline
//! replay` re-maps stored ones after a mapping fix.

use std::sync::Arc;

use anyhow::{Result, bail};
use leadline_core::events::{Delivery, Outcome};
use leadline_core::model::Millis;
use leadline_core::store::{EventPosition, Store};
use leadline_sources::webhook::{Mapping, MappingError, alerts, github, gitlab};

use crate::cli::ReplayArgs;
use crate::config::ServerConfig;

pub const GITHUB: &str = "github";
pub const GITLAB: &str = "gitlab";
pub const ALERTS: &str = "alerts";

/// Maps a delivery of `source` with the mapping for it.
pub fn map(
    source: &str,
    event: &str,
    body: &[u8],
    received_at: Millis,
    config: &ServerConfig,
) -> Result<Mapping, MappingError> {
    match source {
        GITHUB => github::map(event, body, received_at, &config.github),
        GITLAB => gitlab::map(body, received_at),
        _ => alerts::map(body),
    }
}

/// Re-maps stored deliveries, oldest first, replacing their outcome and storing their events
/// again (upserts: replaying twice changes nothing more).
pub async fn replay(
    store: &Arc<dyn Store>,
    args: &ReplayArgs,
    config: &ServerConfig,
) -> Result<()> {
    if let Some(source) = &args.source
        && ![GITHUB, GITLAB, ALERTS].contains(&source.as_str())
    {
        bail!("--source {source:?}: expected github, gitlab or alerts");
    }
    let since = args
        .since
        .as_deref()
        .map(|s| leadline_metrics::window::parse_instant("--since", s))
        .transpose()?;
    let mut after: Option<EventPosition> = None;
    let (mut seen, mut stored, mut failed) = (0usize, 0usize, 0usize);
    loop {
        let page = store
            .deliveries_page(args.source.as_deref(), after.as_ref(), 200)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(EventPosition {
            at: last.received_at,
            source: last.source.clone(),
            id: last.id.clone(),
        });
        for d in page
            .iter()
            .filter(|d| since.is_none_or(|s| d.received_at >= s))
        {
            seen += 1;
            let (outcome, detail, events) =
                match map(&d.source, &d.event, &d.body, d.received_at, config) {
                    Ok(m) => (m.outcome, m.detail, m.events),
                    Err(e) => (Outcome::Failed, e.to_string(), Default::default()),
                };
            match outcome {
                Outcome::Stored => stored += 1,
                Outcome::Failed => failed += 1,
                Outcome::Ignored => {}
            }
            let replayed = Delivery {
                outcome,
                detail,
                ..d.clone()
            };
            store.apply_delivery(&replayed, &events, true).await?;
        }
    }
    eprintln!(
        "replayed {seen} deliveries: {stored} stored events, {failed} could not be mapped, {} ignored",
        seen - stored - failed
    );
    Ok(())
}
