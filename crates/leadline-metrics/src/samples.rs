//! `samples.NAME`: metrics that live elsewhere (revenue, NPS, an Amplitude export), imported
//! as samples and read by name like any catalog metric. A window's value is its latest
//! sample; several label sets at that instant add up (revenue of every region), and labels in
//! the name (`samples.revenue{region=eu}`) keep only the samples that carry them.

use std::sync::Arc;

use leadline_core::store::{Sample, Store};
use serde_json::Value;

use crate::error::{Result, UsageError};
use crate::reading::{Point, Reading};
use crate::scope::Scope;
use crate::window::{DAY_MS, MAX_PERIODS, buckets, resolve, utc};

/// The default window: the 90 days before the UTC midnight after the newest sample.
const DEFAULT_DAYS: i64 = 90;

/// Whether `sample` carries every one of `labels`.
fn carries(sample: &Sample, labels: &[(String, String)]) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&sample.labels) else {
        return labels.is_empty();
    };
    labels
        .iter()
        .all(|(k, v)| map.get(k).and_then(Value::as_str) == Some(v.as_str()))
}

/// The latest samples in [since, until), added up: `None` when there is none.
fn latest(samples: &[&Sample], since: i64, until: i64) -> Option<f64> {
    let inside: Vec<&&Sample> = samples
        .iter()
        .filter(|s| since <= s.at && s.at < until)
        .collect();
    let at = inside.iter().map(|s| s.at).max()?;
    Some(inside.iter().filter(|s| s.at == at).map(|s| s.value).sum())
}

/// `samples.NAME{labels}` over `scope` (`--since`, `--until`, `--by` only).
pub async fn read(
    store: &Arc<dyn Store>,
    full_name: &str,
    labels: &[(String, String)],
    scope: &Scope,
) -> Result<Reading> {
    let name = full_name
        .split('{')
        .next()
        .unwrap_or(full_name)
        .trim_start_matches("samples.");
    let given = [
        ("--service", scope.service.is_some()),
        ("--repo", scope.repo.is_some()),
        ("--team", scope.team.is_some()),
        ("--env", scope.env.is_some()),
        ("--slo", scope.slo.is_some()),
    ];
    if let Some((option, _)) = given.iter().find(|(_, set)| *set) {
        return Err(UsageError(format!(
            "{option} does not apply to samples (filter them by their labels: samples.{name}{{key=value}})"
        ))
        .into());
    }
    let all = store.samples(name).await?;
    if all.is_empty() {
        let known = store.sample_names().await?;
        return Err(UsageError(format!(
            "no samples are called {name:?} (imported: {}); `leadline import samples FILE` adds them",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ))
        .into());
    }
    let chosen: Vec<&Sample> = all.iter().filter(|s| carries(s, labels)).collect();
    let newest = all.iter().map(|s| s.at).max();
    let window = resolve(
        scope.since.as_deref(),
        scope.until.as_deref(),
        newest,
        |until| Ok(until - DEFAULT_DAYS * DAY_MS),
    )?;
    let reason = || format!("no sample of {full_name} in this window");
    Ok(match scope.by {
        None => {
            let value = latest(&chosen, window.since, window.until);
            Reading::Value {
                name: full_name.to_owned(),
                value: value.map_or(Value::Null, Value::from),
                reason: value.is_none().then(reason),
            }
        }
        Some(by) => Reading::Series {
            name: full_name.to_owned(),
            series: buckets(window, by, MAX_PERIODS)?
                .into_iter()
                .map(|w| {
                    let value = latest(&chosen, w.since, w.until);
                    Point {
                        since: utc(w.since),
                        until: utc(w.until),
                        value: value.map_or(Value::Null, Value::from),
                        reason: value.is_none().then(reason),
                    }
                })
                .collect(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: i64, labels: &str, value: f64) -> Sample {
        Sample {
            name: "revenue".into(),
            at,
            labels: labels.into(),
            value,
        }
    }

    #[test]
    fn the_latest_instant_wins_and_its_label_sets_add_up() {
        let all = [
            sample(10, r#"{"region":"eu"}"#, 5.0),
            sample(20, r#"{"region":"eu"}"#, 7.0),
            sample(20, r#"{"region":"us"}"#, 3.0),
            sample(30, r#"{"region":"us"}"#, 4.0),
        ];
        let refs: Vec<&Sample> = all.iter().collect();
        assert_eq!(latest(&refs, 0, 30), Some(10.0));
        assert_eq!(latest(&refs, 0, 31), Some(4.0));
        assert_eq!(latest(&refs, 31, 40), None);
        let eu: Vec<&Sample> = all
            .iter()
            .filter(|s| carries(s, &[("region".into(), "eu".into())]))
            .collect();
        assert_eq!(latest(&eu, 0, 100), Some(7.0));
    }
}
