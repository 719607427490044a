//! Product metrics from analytics events, by the definitions of docs/metrics.md ("Product
//! metrics"): activation, time to value, feature usage and stickiness. Users are keyed
//! pseudonyms here: the raw id is replaced before anything is stored.

use std::collections::{BTreeMap, HashMap, HashSet};

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::Millis;
use crate::store::ProductEvent;

const DAY_MS: Millis = 86_400_000;

/// An event as a source gives it, with the raw user id.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    pub id: Option<String>,
    pub at: Millis,
    pub user: String,
    pub event: String,
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The pseudonym of a user id under `key`: `user-` and 16 hex digits of HMAC-SHA256. The id
/// is taken exactly as given (ids are case-sensitive), unlike people's emails.
pub fn user_key(key: &[u8], user: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"user\0");
    mac.update(user.as_bytes());
    format!("user-{}", hex::encode(&mac.finalize().into_bytes()[..8]))
}

/// Replaces every string equal to `raw` anywhere in `value` by `pseudonym`.
fn scrub(value: &mut serde_json::Value, raw: &str, pseudonym: &str) {
    match value {
        serde_json::Value::String(s) if s == raw => *s = pseudonym.to_owned(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, raw, pseudonym)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| scrub(v, raw, pseudonym)),
        _ => {}
    }
}

/// The event as stored: the user as its pseudonym (also wherever the raw id appears in the
/// properties), and an id when the source gave none: a digest of the event, so importing the
/// same file twice stores it once.
pub fn stored(key: &[u8], raw: RawEvent) -> ProductEvent {
    let user = user_key(key, &raw.user);
    let properties = raw.properties.map(|map| {
        let mut value = serde_json::Value::Object(map);
        scrub(&mut value, &raw.user, &user);
        value.to_string()
    });
    let id = raw.id.unwrap_or_else(|| {
        let mut h = Sha256::new();
        for part in [
            raw.at.to_string().as_str(),
            &user,
            &raw.event,
            properties.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update(b"\0");
        }
        format!("digest-{}", hex::encode(&h.finalize()[..16]))
    });
    ProductEvent {
        id,
        at: raw.at,
        user,
        event: raw.event,
        properties,
    }
}

/// `[[product.activation]]`: a user activates by doing every `criteria` event within
/// `within_days` of their signup; time to value runs to the first `value` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub name: String,
    pub signup: String,
    pub criteria: Vec<String>,
    pub within_days: i64,
    pub value: Vec<String>,
}

/// `[[product.feature]]`: a feature is used by doing any of its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    pub name: String,
    pub events: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ActivationResult {
    pub name: String,
    /// Users whose signup is in the window and at least `within_days` before its end.
    pub cohort: usize,
    pub activated: usize,
    /// activated / cohort; `null` for an empty cohort.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TimeToValue {
    pub name: String,
    /// Users whose signup is in the window.
    pub users: usize,
    /// Of them, those with a `value` event at or after signup and before the window's end.
    pub reached: usize,
    pub p50_seconds: Option<f64>,
    pub p75_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FeatureUsage {
    pub name: String,
    /// Distinct users with any of the feature's events in the window.
    pub users: usize,
    /// Distinct users with any event in the window.
    pub active_users: usize,
    /// users / active_users; `null` without active users.
    pub usage: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Stickiness {
    /// The mean over the last 30 UTC days of the window of the distinct users active each day.
    pub dau_avg: Option<f64>,
    /// Distinct users active over those days.
    pub mau: usize,
    /// dau_avg / mau; `null` without active users.
    pub ratio: Option<f64>,
}

/// Events indexed for the definitions: per user, per event name, their times (sorted).
pub struct Index<'a> {
    by_user: HashMap<&'a str, HashMap<&'a str, Vec<Millis>>>,
    events: &'a [ProductEvent],
}

impl<'a> Index<'a> {
    pub fn new(events: &'a [ProductEvent]) -> Index<'a> {
        let mut by_user: HashMap<&str, HashMap<&str, Vec<Millis>>> = HashMap::new();
        for e in events {
            by_user
                .entry(&e.user)
                .or_default()
                .entry(&e.event)
                .or_default()
                .push(e.at);
        }
        for names in by_user.values_mut() {
            for times in names.values_mut() {
                times.sort_unstable();
            }
        }
        Index { by_user, events }
    }

    /// Each user's signup (their first `signup` event) when it is in [since, until).
    fn cohort(&self, signup: &str, since: Millis, until: Millis) -> Vec<(&'a str, Millis)> {
        let mut out: Vec<(&str, Millis)> = self
            .by_user
            .iter()
            .filter_map(|(user, names)| {
                let first = *names.get(signup)?.first()?;
                (since <= first && first < until).then_some((*user, first))
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// The first time `user` did any of `names` in [from, to].
    fn first(&self, user: &str, names: &[String], from: Millis, to: Millis) -> Option<Millis> {
        let of_user = self.by_user.get(user)?;
        names
            .iter()
            .filter_map(|n| of_user.get(n.as_str()))
            .filter_map(|times| {
                let i = times.partition_point(|t| *t < from);
                times.get(i).copied().filter(|t| *t <= to)
            })
            .min()
    }

    pub fn activation(&self, a: &Activation, since: Millis, until: Millis) -> ActivationResult {
        let within = a.within_days * DAY_MS;
        let eligible: Vec<(&str, Millis)> = self
            .cohort(&a.signup, since, until)
            .into_iter()
            .filter(|(_, signup)| signup + within <= until)
            .collect();
        let activated = eligible
            .iter()
            .filter(|(user, signup)| {
                a.criteria.iter().all(|c| {
                    self.first(user, std::slice::from_ref(c), *signup, signup + within)
                        .is_some()
                })
            })
            .count();
        ActivationResult {
            name: a.name.clone(),
            cohort: eligible.len(),
            activated,
            rate: ratio(activated, eligible.len()),
        }
    }

    pub fn time_to_value(&self, a: &Activation, since: Millis, until: Millis) -> TimeToValue {
        let cohort = self.cohort(&a.signup, since, until);
        let mut waits: Vec<Millis> = cohort
            .iter()
            .filter_map(|(user, signup)| {
                self.first(user, &a.value, *signup, until - 1)
                    .map(|t| t - signup)
            })
            .collect();
        waits.sort_unstable();
        let seconds = |p: f64| nearest_rank(&waits, p).map(|ms| ms as f64 / 1000.0);
        TimeToValue {
            name: a.name.clone(),
            users: cohort.len(),
            reached: waits.len(),
            p50_seconds: seconds(0.5),
            p75_seconds: seconds(0.75),
        }
    }

    /// Distinct users with any event in [since, until), or with one of `names` when given.
    fn active(&self, names: Option<&[String]>, since: Millis, until: Millis) -> HashSet<&'a str> {
        self.events
            .iter()
            .filter(|e| since <= e.at && e.at < until)
            .filter(|e| names.is_none_or(|n| n.contains(&e.event)))
            .map(|e| e.user.as_str())
            .collect()
    }

    pub fn feature(&self, f: &Feature, since: Millis, until: Millis) -> FeatureUsage {
        let users = self.active(Some(&f.events), since, until).len();
        let active_users = self.active(None, since, until).len();
        FeatureUsage {
            name: f.name.clone(),
            users,
            active_users,
            usage: ratio(users, active_users),
        }
    }

    /// Over the last 30 UTC days of [since, until) (fewer when the window is shorter).
    pub fn stickiness(&self, since: Millis, until: Millis) -> Stickiness {
        let start = since.max(until - 30 * DAY_MS);
        let mut per_day: BTreeMap<Millis, HashSet<&str>> = BTreeMap::new();
        for e in self.events.iter().filter(|e| start <= e.at && e.at < until) {
            per_day
                .entry(e.at.div_euclid(DAY_MS))
                .or_default()
                .insert(&e.user);
        }
        let days = (until - start + DAY_MS - 1) / DAY_MS;
        let mau = self.active(None, start, until).len();
        let dau_avg = (days > 0)
            .then(|| per_day.values().map(HashSet::len).sum::<usize>() as f64 / days as f64);
        Stickiness {
            dau_avg,
            mau,
            ratio: dau_avg.filter(|_| mau > 0).map(|d| d / mau as f64),
        }
    }
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The nearest-rank percentile of sorted `values`: the value at rank ⌈p · n⌉ (1-based).
pub fn nearest_rank(values: &[Millis], p: f64) -> Option<Millis> {
    if values.is_empty() {
        return None;
    }
    let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

#[cfg(test)]
mod tests;
