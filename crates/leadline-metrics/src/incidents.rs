//! The incidents family (`leadline incidents`): how incidents were detected, acknowledged,
//! mitigated and resolved, whether the serious ones got a postmortem reviewed in time, whether
//! the postmortems' action items were done (by their files or by what shipped), and how often
//! a problem came back. Team- and service-level numbers only: no output names a responder or
//! an author. docs/metrics.md ("Incidents") defines every field with a worked example.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use leadline_core::dora::Window;
use leadline_core::incident::Severity;
use leadline_core::model::{Incident, Millis};
use leadline_core::postmortem::{ActionState, Postmortem};
use leadline_core::stats::percentile;
use leadline_core::store::Store;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::postmortems::{self, Settings, Tracked, utc_date};
use crate::window::{By, DAY_MS, MAX_PERIODS, buckets, resolve, utc};

/// The default window: the 90 days before the UTC midnight after the newest incident.
const DEFAULT_DAYS: i64 = 90;
/// How far back an earlier incident can make one a repeat.
const REPEAT_WINDOW_MS: Millis = 90 * DAY_MS;

/// What an incidents report is asked for, however it was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Query {
    /// Only this service's incidents.
    pub service: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// A series, one report per calendar week or month.
    pub by: Option<By>,
    /// With the incidents and actions behind the numbers.
    pub explain: bool,
}

/// One window's report, as `leadline incidents --format json` and `GET /api/v1/incidents`
/// give it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub since: String,
    pub until: String,
    pub service: Option<String>,
    pub incidents: Counts,
    pub time_to_detect: Durations,
    pub time_to_acknowledge: Durations,
    pub time_to_mitigate: Durations,
    pub time_to_resolve: Durations,
    pub postmortems: PostmortemCoverage,
    pub actions: ActionCounts,
    pub repeats: Repeats,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Counts {
    pub total: usize,
    pub by_severity: BySeverity,
}

#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct BySeverity {
    pub sev1: usize,
    pub sev2: usize,
    pub sev3: usize,
    pub sev4: usize,
    pub unknown: usize,
}

/// Durations over the incidents that have both ends (nearest-rank percentiles).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Durations {
    pub incidents: usize,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PostmortemCoverage {
    /// sev1 and sev2 incidents.
    pub required: usize,
    /// Required incidents a postmortem file names.
    pub written: usize,
    /// Required incidents whose postmortem was reviewed within the allowed days of resolution.
    pub reviewed_on_time: usize,
    /// reviewed_on_time / required.
    pub coverage: Option<f64>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ActionCounts {
    pub total: usize,
    pub done: usize,
    pub done_on_time: usize,
    pub open: usize,
    /// Open with the due date before the date of `until`.
    pub overdue: usize,
    pub completion_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Repeats {
    pub incidents: usize,
    pub repeats: usize,
    pub rate: Option<f64>,
}

/// The rows behind the numbers; services, times and references, never people.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Explanation {
    pub incidents: Vec<ExplainedIncident>,
    pub actions: Vec<Tracked>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ExplainedIncident {
    pub source: String,
    pub id: String,
    pub service: String,
    pub severity: Severity,
    pub opened_at: String,
    pub time_to_detect_seconds: Option<f64>,
    pub time_to_acknowledge_seconds: Option<f64>,
    pub time_to_mitigate_seconds: Option<f64>,
    pub time_to_resolve_seconds: Option<f64>,
    /// The postmortems naming it.
    pub postmortems: Vec<String>,
    /// The earlier incident it repeats, when it is a repeat.
    pub repeat_of: Option<String>,
}

/// Everything a report is computed from.
pub struct Inputs {
    pub incidents: Vec<(String, Incident)>,
    pub postmortems: Vec<Postmortem>,
    pub actions: Vec<Tracked>,
    pub review_within_days: u32,
}

/// Loads the stored incidents, the postmortem folder and the actions' evidence.
pub async fn gather(store: &Arc<dyn Store>, settings: &Settings) -> Result<Inputs> {
    let postmortems = postmortems::load(settings)?;
    let evidence = postmortems::evidence(store).await?;
    let actions = postmortems::track(&postmortems, &evidence, &settings.policies);
    Ok(Inputs {
        incidents: store.incidents().await?,
        postmortems,
        actions,
        review_within_days: settings.review_within_days,
    })
}

/// The reports `q` asks for: one, or one per period with `by`.
pub async fn compute(
    store: &Arc<dyn Store>,
    q: &Query,
    settings: &Settings,
) -> Result<Vec<Report>> {
    let inputs = gather(store, settings).await?;
    let window = window(q, &inputs)?;
    let windows = match q.by {
        None => vec![window],
        Some(by) => buckets(window, by, MAX_PERIODS)?,
    };
    Ok(windows.into_iter().map(|w| report(&inputs, q, w)).collect())
}

fn window(q: &Query, inputs: &Inputs) -> Result<Window> {
    let newest = inputs.incidents.iter().map(|(_, i)| i.opened_at).max();
    Ok(resolve(
        q.since.as_deref(),
        q.until.as_deref(),
        newest,
        |until| Ok(until - DEFAULT_DAYS * DAY_MS),
    )?)
}

/// The report of one window.
pub fn report(inputs: &Inputs, q: &Query, w: Window) -> Report {
    let of_service = |i: &Incident| q.service.as_deref().is_none_or(|s| i.service == s);
    let chosen: Vec<&(String, Incident)> = inputs
        .incidents
        .iter()
        .filter(|(_, i)| w.contains(i.opened_at) && of_service(i))
        .collect();
    let mut by_severity = BySeverity::default();
    for (_, i) in &chosen {
        *match i.level() {
            Severity::Sev1 => &mut by_severity.sev1,
            Severity::Sev2 => &mut by_severity.sev2,
            Severity::Sev3 => &mut by_severity.sev3,
            Severity::Sev4 => &mut by_severity.sev4,
            Severity::Unknown => &mut by_severity.unknown,
        } += 1;
    }
    let naming = naming(&inputs.postmortems);
    let repeat_of = repeats(&inputs.incidents, &chosen, &naming);
    let ids: HashSet<&str> = chosen.iter().map(|(_, i)| i.id.as_str()).collect();
    let actions: Vec<&Tracked> = inputs
        .actions
        .iter()
        .filter(|a| a.incidents.iter().any(|i| ids.contains(i.as_str())))
        .collect();
    let until_day = utc_date(w.until);
    let repeat_count = repeat_of.iter().filter(|r| r.is_some()).count();
    Report {
        since: utc(w.since),
        until: utc(w.until),
        service: q.service.clone(),
        incidents: Counts {
            total: chosen.len(),
            by_severity,
        },
        time_to_detect: durations(chosen.iter().map(|(_, i)| to_detect(i))),
        time_to_acknowledge: durations(chosen.iter().map(|(_, i)| to_acknowledge(i))),
        time_to_mitigate: durations(chosen.iter().map(|(_, i)| to_mitigate(i))),
        time_to_resolve: durations(chosen.iter().map(|(_, i)| to_resolve(i))),
        postmortems: coverage(&chosen, &naming, inputs.review_within_days),
        actions: action_counts(&actions, until_day),
        repeats: Repeats {
            incidents: chosen.len(),
            repeats: repeat_count,
            rate: ratio(repeat_count, chosen.len()),
        },
        explain: q.explain.then(|| Explanation {
            incidents: chosen
                .iter()
                .zip(&repeat_of)
                .map(|((source, i), repeat)| ExplainedIncident {
                    source: source.clone(),
                    id: i.id.clone(),
                    service: i.service.clone(),
                    severity: i.level(),
                    opened_at: utc(i.opened_at),
                    time_to_detect_seconds: to_detect(i).map(seconds),
                    time_to_acknowledge_seconds: to_acknowledge(i).map(seconds),
                    time_to_mitigate_seconds: to_mitigate(i).map(seconds),
                    time_to_resolve_seconds: to_resolve(i).map(seconds),
                    postmortems: naming
                        .get(i.id.as_str())
                        .map(|pms| pms.iter().map(|p| p.id.clone()).collect())
                        .unwrap_or_default(),
                    repeat_of: repeat.clone(),
                })
                .collect(),
            actions: actions.into_iter().cloned().collect(),
        }),
    }
}

/// detected − start, only when the start of impact is known.
fn to_detect(i: &Incident) -> Option<Millis> {
    i.started_at.map(|s| i.detected() - s)
}

fn to_acknowledge(i: &Incident) -> Option<Millis> {
    i.acknowledged_at.map(|a| a - i.detected())
}

fn to_mitigate(i: &Incident) -> Option<Millis> {
    i.mitigated_at.or(i.resolved_at).map(|m| m - i.start())
}

fn to_resolve(i: &Incident) -> Option<Millis> {
    i.resolved_at.map(|r| r - i.start())
}

fn seconds(ms: Millis) -> f64 {
    ms as f64 / 1000.0
}

fn durations(values: impl Iterator<Item = Option<Millis>>) -> Durations {
    let mut s: Vec<f64> = values.flatten().map(seconds).collect();
    s.sort_by(f64::total_cmp);
    Durations {
        incidents: s.len(),
        median_seconds: percentile(&s, 50.0),
        p90_seconds: percentile(&s, 90.0),
    }
}

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// The postmortems naming each incident id.
fn naming(postmortems: &[Postmortem]) -> HashMap<&str, Vec<&Postmortem>> {
    let mut out: HashMap<&str, Vec<&Postmortem>> = HashMap::new();
    for pm in postmortems {
        for id in &pm.incidents {
            let list = out.entry(id.as_str()).or_default();
            if !list.iter().any(|p| std::ptr::eq(*p, pm)) {
                list.push(pm);
            }
        }
    }
    out
}

fn coverage(
    chosen: &[&(String, Incident)],
    naming: &HashMap<&str, Vec<&Postmortem>>,
    within_days: u32,
) -> PostmortemCoverage {
    let required: Vec<&Incident> = chosen
        .iter()
        .map(|(_, i)| i)
        .filter(|i| matches!(i.level(), Severity::Sev1 | Severity::Sev2))
        .collect();
    let written = required
        .iter()
        .filter(|i| naming.contains_key(i.id.as_str()))
        .count();
    let on_time = required
        .iter()
        .filter(|i| {
            let Some(resolved) = i.resolved_at else {
                return false;
            };
            let Ok(limit) =
                utc_date(resolved).checked_add(jiff::Span::new().days(i64::from(within_days)))
            else {
                return false;
            };
            naming.get(i.id.as_str()).is_some_and(|pms| {
                pms.iter()
                    .any(|pm| pm.status.is_reviewed() && pm.reviewed.is_some_and(|r| r <= limit))
            })
        })
        .count();
    PostmortemCoverage {
        required: required.len(),
        written,
        reviewed_on_time: on_time,
        coverage: ratio(on_time, required.len()),
    }
}

fn action_counts(actions: &[&Tracked], until_day: jiff::civil::Date) -> ActionCounts {
    let done = actions
        .iter()
        .filter(|a| a.state == ActionState::Done)
        .count();
    let done_on_time = actions.iter().filter(|a| a.on_time).count();
    let overdue = actions.iter().filter(|a| a.overdue_on(until_day)).count();
    ActionCounts {
        total: actions.len(),
        done,
        done_on_time,
        open: actions.len() - done,
        overdue,
        completion_rate: ratio(done, actions.len()),
        on_time_rate: ratio(done_on_time, actions.len()),
    }
}

/// For each chosen incident, the earlier incident it repeats: one of the same service that
/// opened at most 90 days before it and shares its fingerprint or one of its postmortems'
/// contributing factors (the most recent such one).
fn repeats(
    all: &[(String, Incident)],
    chosen: &[&(String, Incident)],
    naming: &HashMap<&str, Vec<&Postmortem>>,
) -> Vec<Option<String>> {
    let factors = |id: &str| -> HashSet<&str> {
        naming
            .get(id)
            .into_iter()
            .flatten()
            .flat_map(|pm| pm.factors.iter().map(String::as_str))
            .collect()
    };
    chosen
        .iter()
        .map(|(_, i)| {
            let mine = factors(&i.id);
            all.iter()
                .rev()
                .map(|(_, e)| e)
                .filter(|e| {
                    e.service == i.service
                        && e.opened_at < i.opened_at
                        && i.opened_at - e.opened_at <= REPEAT_WINDOW_MS
                })
                .find(|e| {
                    let same_fingerprint =
                        i.fingerprint.is_some() && e.fingerprint == i.fingerprint;
                    same_fingerprint || factors(&e.id).iter().any(|f| mine.contains(f))
                })
                .map(|e| e.id.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests;
