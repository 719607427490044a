//! `leadline notify list|test|run` and the server's notification loop: conditions (SLO burn
//! alerts) are decided into the store's outbox, then each due delivery is sent and recorded.
//! A crash between sending and recording sends again after the restart: at least once.

use crate::time::now;
use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::model::Millis;
use leadline_core::store::Store;
use leadline_metrics::slo;
use leadline_metrics::window::{parse_instant, utc};
use leadline_sources::notify::{self, Target};
use serde::Serialize;

use crate::cli::{NotifyCommand, NotifyListArgs, SummaryFormat};
use crate::config::Settings;

/// Passes of the notification loop between two anomaly evaluations.
const ANOMALY_PASSES: u64 = 10;

/// Deliveries sent per pass.
const PER_PASS: usize = 200;

fn names(targets: &[Target]) -> Vec<String> {
    targets.iter().map(|t| t.name.clone()).collect()
}

pub async fn run(
    store: &Arc<dyn Store>,
    command: &NotifyCommand,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    match command {
        NotifyCommand::List(args) => list(store, args, out).await,
        NotifyCommand::Test => {
            if settings.notify.is_empty() {
                anyhow::bail!(leadline_metrics::UsageError(
                    "no [[notify]] targets in leadline.toml".into()
                ));
            }
            let at = now();
            let payload = serde_json::json!({
                "key": format!("test/{at}"), "state": "firing", "kind": "test", "at": utc(at),
                "text": "leadline test notification: delivery works",
            });
            store
                .enqueue(
                    &format!("test/{at}"),
                    "firing",
                    &payload.to_string(),
                    at,
                    &names(&settings.notify),
                )
                .await?;
            let (sent, failed) = deliver(store, &settings.notify, now()).await?;
            writeln!(out, "{sent} delivered, {failed} to retry")?;
            Ok(())
        }
        NotifyCommand::Run(args) => {
            let at = match &args.at {
                Some(v) => parse_instant("--at", v)?,
                None => now(),
            };
            let decided = evaluate(store, settings, at, true).await?;
            let (sent, failed) = deliver(store, &settings.notify, now()).await?;
            writeln!(
                out,
                "{decided} decided, {sent} delivered, {failed} to retry"
            )?;
            Ok(())
        }
    }
}

/// One condition a notification is about: its key, whether it holds, and the words for it.
struct Condition {
    key: String,
    firing: bool,
    payload: serde_json::Value,
}

/// Decides a notification for every condition whose state changed (SLO burn alerts, overdue
/// postmortem actions, debt items past their deadline, and, with `anomalies`, new anomaly
/// proposals); returns how many.
pub async fn evaluate(
    store: &Arc<dyn Store>,
    settings: &Settings,
    at: Millis,
    anomalies: bool,
) -> Result<usize> {
    if settings.notify.is_empty() {
        return Ok(0);
    }
    let mut conditions = slo_conditions(store, settings, at).await?;
    let today = leadline_metrics::postmortems::utc_date(at);
    conditions.extend(action_conditions(store, settings, today).await?);
    conditions.extend(debt_conditions(settings, today)?);
    if anomalies {
        conditions.extend(anomaly_conditions(store, settings, at).await?);
    }
    let mut decided = 0;
    for c in conditions {
        let state = if c.firing { "firing" } else { "resolved" };
        let mut payload = c.payload;
        payload["key"] = c.key.clone().into();
        payload["state"] = state.into();
        payload["at"] = utc(at).into();
        let stored = store
            .enqueue(
                &c.key,
                state,
                &payload.to_string(),
                at,
                &names(&settings.notify),
            )
            .await?;
        decided += usize::from(stored.is_some());
    }
    Ok(decided)
}

/// Open postmortem actions past due are firing; done or not yet due, resolved.
async fn action_conditions(
    store: &Arc<dyn Store>,
    settings: &Settings,
    today: jiff::civil::Date,
) -> Result<Vec<Condition>> {
    let pm = &settings.debt.postmortems;
    let found = leadline_metrics::postmortems::load(pm)?;
    let evidence = leadline_metrics::postmortems::evidence(store).await?;
    Ok(
        leadline_metrics::postmortems::track(&found, &evidence, &pm.policies)
            .into_iter()
            .map(|a| {
                let firing = a.overdue_on(today);
                let due = a.due.map(|d| d.to_string()).unwrap_or_default();
                let text = if firing {
                    format!(
                        "OVERDUE postmortem action {} ({}): {}, due {due}",
                        a.reference,
                        a.priority.as_str(),
                        a.title
                    )
                } else {
                    format!(
                        "RESOLVED postmortem action {}: no longer overdue",
                        a.reference
                    )
                };
                Condition {
                    key: format!("action/{}", a.reference),
                    firing,
                    payload: serde_json::json!({
                        "kind": "action_overdue", "action": a.reference,
                        "priority": a.priority.as_str(), "owner": a.owner, "due": due, "text": text,
                    }),
                }
            })
            .collect(),
    )
}

/// How far back a new anomaly proposal is still news: older weeks are history, not alerts
/// (the first run on a long history must not send every proposal it ever had).
const ANOMALY_NEWS_DAYS: i64 = 28;

/// Anomaly proposals of recent weeks: firing until a person dismisses one (then resolved);
/// each is sent once, when first proposed.
async fn anomaly_conditions(
    store: &Arc<dyn Store>,
    settings: &Settings,
    at: Millis,
) -> Result<Vec<Condition>> {
    let slo_reader = crate::slo::reader(store, &settings.slo)?;
    let ctx = settings.ctx(store, &slo_reader);
    let reviews = store.anomaly_reviews().await?;
    let since = at - ANOMALY_NEWS_DAYS * 86_400_000;
    let query = leadline_metrics::anomalies::Query {
        since: Some(utc(since)),
        ..Default::default()
    };
    let found =
        leadline_metrics::anomalies::propose(&ctx, None, &settings.anomalies, &reviews, &query, at)
            .await?;
    Ok(found
        .into_iter()
        .map(|p| {
            let firing = p.state != leadline_metrics::anomalies::State::Dismissed;
            let text = format!(
                "ANOMALY {} {} in {} ({}): {} against a baseline of {} (band {} to {}); \
                 leadline anomalies ack|dismiss {}",
                serde_json::to_value(p.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                p.metric,
                p.week,
                p.scope.key(),
                p.value,
                p.baseline,
                p.low,
                p.high,
                p.id
            );
            Condition {
                key: format!("anomaly/{}", p.id),
                firing,
                payload: serde_json::json!({
                    "kind": "anomaly", "anomaly": p, "text": text,
                }),
            }
        })
        .collect())
}

/// Open debt items past their deadline are firing; the others, resolved.
fn debt_conditions(settings: &Settings, today: jiff::civil::Date) -> Result<Vec<Condition>> {
    let register = leadline_metrics::debt::Register::open(&settings.debt.file, today)?;
    let breaches = leadline_core::debt::breaches(&register.items, &settings.debt.policies, today);
    Ok(register
        .items
        .iter()
        .map(|item| {
            let breach = breaches.iter().find(|b| b.id == item.id);
            let text = match breach {
                Some(b) => format!(
                    "PAST DEADLINE debt item {} ({}): {}, {} day(s) past {}",
                    b.id, b.rule, b.title, b.days_over, b.deadline
                ),
                None => format!(
                    "RESOLVED debt item {}: no longer past its deadline",
                    item.id
                ),
            };
            Condition {
                key: format!("debt/{}", item.id),
                firing: breach.is_some(),
                payload: serde_json::json!({
                    "kind": "debt_breach", "item": item.id, "owner": item.owner, "text": text,
                }),
            }
        })
        .collect())
}

/// Each SLO's page and ticket alerts at the minute of `at`.
async fn slo_conditions(
    store: &Arc<dyn Store>,
    settings: &Settings,
    at: Millis,
) -> Result<Vec<Condition>> {
    let slos = slo::load(&settings.slo)?;
    let slos: Vec<_> = slos
        .into_iter()
        .filter(|s| {
            settings.slo.prometheus_url.is_some()
                || !matches!(
                    s.source,
                    leadline_core::slo::openslo::Source::Prometheus { .. }
                )
        })
        .collect();
    let reader = crate::slo::reader(store, &settings.slo)?;
    Ok(slo::conditions(&reader, &slos, at)
        .await?
        .into_iter()
        .map(|c| Condition {
            key: c.key,
            firing: c.firing,
            payload: serde_json::json!({
                "kind": "slo_burn", "slo": c.slo, "service": c.service,
                "severity": c.severity, "text": c.text,
            }),
        })
        .collect())
}

/// Sends every due delivery once; returns (delivered, failed).
pub async fn deliver(
    store: &Arc<dyn Store>,
    targets: &[Target],
    at: Millis,
) -> Result<(usize, usize)> {
    let client = notify::client().map_err(anyhow::Error::msg)?;
    let (mut sent, mut failed) = (0, 0);
    for d in store.due_deliveries(at, PER_PASS).await? {
        let Some(target) = targets.iter().find(|t| t.name == d.target) else {
            // A target removed from the configuration: retried if it comes back.
            continue;
        };
        let result =
            notify::send(&client, target, d.notification.id, &d.notification.payload).await;
        let done = now();
        match result {
            Ok(()) => {
                store
                    .record_attempt(d.notification.id, &d.target, Some(done), done, None)
                    .await?;
                sent += 1;
            }
            Err(e) => {
                let wait = target.backoff(d.attempts as u32 + 1).as_millis() as Millis;
                store
                    .record_attempt(d.notification.id, &d.target, None, done + wait, Some(&e))
                    .await?;
                tracing::warn!("notification {} to {}: {e}", d.notification.id, d.target);
                failed += 1;
            }
        }
    }
    Ok((sent, failed))
}

/// The server's loop: evaluate and deliver every 30 seconds, until the process ends.
pub fn spawn(store: Arc<dyn Store>, settings: Arc<Settings>) {
    if settings.notify.is_empty() {
        return;
    }
    tokio::spawn(async move {
        for pass in 0u64.. {
            let at = now();
            // Proposals read every watched series (the whole DORA history among them) and
            // change when a week ends: every tenth pass, five minutes, is soon enough.
            let anomalies = pass % ANOMALY_PASSES == 0;
            if let Err(e) = evaluate(&store, &settings, at, anomalies).await {
                tracing::warn!("notifications: cannot evaluate the alerts: {e:#}");
            }
            if let Err(e) = deliver(&store, &settings.notify, now()).await {
                tracing::warn!("notifications: cannot deliver: {e:#}");
            }
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        }
    });
}

#[derive(Serialize)]
struct Listed {
    id: i64,
    key: String,
    state: String,
    created_at: String,
    target: String,
    attempts: i64,
    delivered_at: Option<String>,
    next_at: Option<String>,
    last_error: Option<String>,
}

async fn list(store: &Arc<dyn Store>, args: &NotifyListArgs, out: &mut dyn Write) -> Result<()> {
    let listed: Vec<Listed> = store
        .notifications(args.limit.min(1000))
        .await?
        .into_iter()
        .map(|d| Listed {
            id: d.notification.id,
            key: d.notification.key,
            state: d.notification.state,
            created_at: utc(d.notification.created_at),
            target: d.target,
            attempts: d.attempts,
            next_at: d.delivered_at.is_none().then(|| utc(d.next_at)),
            delivered_at: d.delivered_at.map(utc),
            last_error: d.last_error,
        })
        .collect();
    match args.format {
        SummaryFormat::Json => crate::table::write_json(&[listed], false, out)?,
        SummaryFormat::Table => {
            let mut t = crate::table::table(&[
                "id",
                "key",
                "state",
                "decided",
                "target",
                "attempts",
                "delivered",
                "next try",
            ]);
            for l in &listed {
                t.add_row(vec![
                    l.id.to_string(),
                    l.key.clone(),
                    l.state.clone(),
                    l.created_at.clone(),
                    l.target.clone(),
                    l.attempts.to_string(),
                    l.delivered_at.clone().unwrap_or_default(),
                    l.next_at.clone().unwrap_or_default(),
                ]);
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}
