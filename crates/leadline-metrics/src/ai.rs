//! The AI family (`leadline ai`): the share of changes — non-merge commits on each repository's
//! HEAD history, in the window — and of lines changed that an AI wrote (`ai_authored`) or
//! helped write (`ai_assisted`), by the rules of [`leadline_core::ai`]. Repository level only:
//! never who used an assistant. docs/metrics.md ("AI-assisted changes") says what the numbers
//! can and cannot claim.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use leadline_core::ai::{Class, Rules};
use leadline_core::dora::Window;
use leadline_core::health::history_of;
use leadline_core::model::{Millis, RefKind};
use leadline_core::store::Store;
use serde::{Deserialize, Serialize};

use crate::error::{Result, UsageError};
use crate::window::{By, DAY_MS, MAX_PERIODS, buckets, resolve, utc};

const DEFAULT_DAYS: i64 = 90;
/// A revert this soon after a change makes it a failed change.
const REVERTED_WITHIN: Millis = 90 * DAY_MS;
/// A fix or revert of one of a change's files this soon after it is rework of it.
const REWORK_WITHIN: Millis = 21 * DAY_MS;
/// Below this many changes on a side, an outcome is "not enough data".
const ENOUGH: u64 = 20;
/// Size buckets by lines changed (the last is everything larger).
const SIZES: [u64; 4] = [10, 50, 200, 1000];

/// What the family needs from the configuration.
pub struct Settings<'a> {
    pub rules: &'a Rules,
    /// Deployments and their failures (the DORA attribution).
    pub dora: &'a crate::dora::Settings,
    /// Which commits are fixes (the capacity classifier).
    pub capacity: &'a leadline_core::capacity::Rules,
    pub teams: &'a [leadline_core::team::Team],
    /// A team view with fewer distinct authors in a window is refused (`privacy.min_group_size`).
    pub min_group_size: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Query {
    /// Only this ingested repository.
    pub repo: Option<String>,
    /// Only changes authored by this team's members (`[[teams]]`).
    pub team: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub by: Option<By>,
    /// With the AI-marked changes behind the numbers and the rule that marked each.
    pub explain: bool,
}

/// Counts per class.
#[derive(Debug, Default, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct ByClass {
    pub total: u64,
    pub human: u64,
    pub ai_assisted: u64,
    pub ai_authored: u64,
}

impl ByClass {
    fn add(&mut self, class: Class, n: u64) {
        self.total += n;
        *match class {
            Class::Human => &mut self.human,
            Class::AiAssisted => &mut self.ai_assisted,
            Class::AiAuthored => &mut self.ai_authored,
        } += n;
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub since: String,
    pub until: String,
    pub changes: ByClass,
    /// Lines added and deleted.
    pub lines: ByClass,
    /// (ai_assisted + ai_authored) / total changes; `null` without changes.
    pub ai_share: Option<f64>,
    /// AI changes (assisted and authored) against human ones of similar size.
    pub outcomes: Outcomes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<Explained>>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Outcomes {
    /// The change's first deployment failed, or the change was reverted within 90 days.
    pub change_failure: Outcome,
    /// Another commit changed one of its files within 21 days and was a fix or a revert.
    pub rework: Outcome,
    /// Pull requests merged in the window (when a forge was synced): reviewed by someone
    /// other than the author, and how long the first such review took.
    pub review: ReviewOutcome,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReviewOutcome {
    pub human: ReviewSide,
    pub ai: ReviewSide,
    /// "not enough data" below 20 pull requests on a side.
    pub note: Option<String>,
}

#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct ReviewSide {
    pub pull_requests: u64,
    /// Reviewed by someone other than the author before merging.
    pub reviewed: u64,
    /// reviewed / pull_requests.
    pub coverage: Option<f64>,
    /// Median time from ready for review (else opened) to the first review by someone else.
    pub median_review_seconds: Option<f64>,
}

/// One outcome on both sides, with sample sizes.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Outcome {
    pub human: Side,
    pub ai: Side,
    /// Σ over size buckets holding both sides of (AI rate − human rate) × the bucket's share of
    /// the human changes in those buckets; `null` with fewer than 20 changes on a side.
    pub size_weighted_difference: Option<f64>,
    /// "not enough data" below 20 changes on a side.
    pub note: Option<String>,
}

#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Side {
    pub changes: u64,
    /// Changes with the outcome.
    pub with_outcome: u64,
    pub rate: Option<f64>,
}

/// An AI-marked change: where and why, never who.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Explained {
    pub repository: String,
    pub sha: String,
    pub committed_at: String,
    pub class: Class,
    /// The rule that matched: the trailer, the footer line or the agent identity.
    pub rule: String,
    pub lines: u64,
}

/// One change as the family counts it.
struct Change {
    repository: String,
    sha: String,
    at: Millis,
    class: Class,
    rule: Option<String>,
    lines: u64,
    failed: bool,
    reworked: bool,
    /// Lower-case author email: to select a team and count its authors, never shown.
    author: String,
}

/// Every non-merge commit on the HEAD history of the chosen repositories, classified, with
/// its outcomes.
async fn changes(
    store: &Arc<dyn Store>,
    q: &Query,
    settings: &Settings<'_>,
) -> Result<Vec<Change>> {
    let gathered = crate::dora::load(store, settings.dora).await?;
    let (attribution, _) = crate::dora::attribute(
        &gathered.inputs,
        leadline_core::dora::Scope {
            environment: "production",
            service: None,
            paths: None,
        },
    );
    let mut out = Vec::new();
    for repo in crate::health::selected(store, q.repo.as_deref()).await? {
        let refs = store.refs(repo.id).await?;
        let parents = store.commit_parents(repo.id).await?;
        let on_head: Option<HashSet<&str>> = refs
            .iter()
            .find(|r| r.kind == RefKind::Head)
            .map(|h| history_of(&h.commit, &parents));
        let mut lines: HashMap<String, u64> = HashMap::new();
        let mut paths: HashMap<String, Vec<String>> = HashMap::new();
        store
            .each_file_change(repo.id, &mut |row| {
                *lines.entry(row.sha.clone()).or_default() +=
                    row.added.unwrap_or(0) + row.deleted.unwrap_or(0);
                paths
                    .entry(row.sha)
                    .or_default()
                    .push(String::from_utf8_lossy(&row.path).into_owned());
            })
            .await?;
        let messages = store.commit_messages(repo.id).await?;
        // Reverts: (reverted sha or prefix, when).
        let reverts: Vec<(String, Millis)> = messages
            .iter()
            .filter_map(|m| {
                leadline_core::dora::infer::reverted_sha(&m.body).map(|s| (s, m.committed_at))
            })
            .collect();
        // Per file, the commits that fixed or reverted something there: (time, sha).
        let mut fixes: HashMap<&str, Vec<(Millis, &str)>> = HashMap::new();
        for m in &messages {
            let touched = paths.get(&m.sha).map(Vec::as_slice).unwrap_or(&[]);
            let fix = leadline_core::dora::infer::reverted_sha(&m.body).is_some()
                || settings.capacity.classify(leadline_core::capacity::Change {
                    title: &m.subject,
                    labels: &[],
                    paths: touched,
                }) == leadline_core::capacity::Class::Fix;
            if fix {
                for p in touched {
                    fixes
                        .entry(p.as_str())
                        .or_default()
                        .push((m.committed_at, m.sha.as_str()));
                }
            }
        }
        for m in messages
            .iter()
            .filter(|m| !m.is_merge && on_head.as_ref().is_none_or(|h| h.contains(m.sha.as_str())))
        {
            let (class, rule) =
                settings
                    .rules
                    .classify(&m.author, &m.committer, &m.trailers, &m.body);
            let deployed_failed = attribution
                .first_deployment_of_any(&m.sha)
                .is_some_and(|d| !d.incidents.is_empty());
            let reverted = reverts.iter().any(|(sha, at)| {
                m.sha.starts_with(sha.as_str())
                    && *at > m.committed_at
                    && *at - m.committed_at <= REVERTED_WITHIN
            });
            let reworked = paths.get(&m.sha).into_iter().flatten().any(|p| {
                fixes.get(p.as_str()).is_some_and(|later| {
                    later.iter().any(|(at, sha)| {
                        *sha != m.sha
                            && *at > m.committed_at
                            && *at - m.committed_at <= REWORK_WITHIN
                    })
                })
            });
            out.push(Change {
                repository: repo.name.clone(),
                lines: lines.get(&m.sha).copied().unwrap_or(0),
                sha: m.sha.clone(),
                at: m.committed_at,
                class,
                rule,
                failed: deployed_failed || reverted,
                reworked,
                author: m.author.email.to_lowercase(),
            });
        }
    }
    out.sort_by(|a, b| (a.at, &a.sha).cmp(&(b.at, &b.sha)));
    Ok(out)
}

/// An outcome compared between AI and human changes of similar size.
fn outcome(changes: &[&Change], has: impl Fn(&Change) -> bool) -> Outcome {
    let bucket = |lines: u64| {
        SIZES
            .iter()
            .position(|s| lines <= *s)
            .unwrap_or(SIZES.len())
    };
    // Per bucket: (human n, human with, ai n, ai with).
    let mut per = [(0u64, 0u64, 0u64, 0u64); SIZES.len() + 1];
    let (mut human, mut ai) = (Side::default(), Side::default());
    for c in changes {
        let b = &mut per[bucket(c.lines)];
        let hit = u64::from(has(c));
        let side = if c.class == Class::Human {
            b.0 += 1;
            b.1 += hit;
            &mut human
        } else {
            b.2 += 1;
            b.3 += hit;
            &mut ai
        };
        side.changes += 1;
        side.with_outcome += hit;
    }
    for side in [&mut human, &mut ai] {
        side.rate = (side.changes > 0).then(|| side.with_outcome as f64 / side.changes as f64);
    }
    let enough = human.changes >= ENOUGH && ai.changes >= ENOUGH;
    let both: Vec<_> = per.iter().filter(|b| b.0 > 0 && b.2 > 0).collect();
    let weight: u64 = both.iter().map(|b| b.0).sum();
    let difference = (enough && weight > 0).then(|| {
        both.iter()
            .map(|b| {
                (b.0 as f64 / weight as f64) * (b.3 as f64 / b.2 as f64 - b.1 as f64 / b.0 as f64)
            })
            .sum()
    });
    Outcome {
        human,
        ai,
        size_weighted_difference: difference,
        note: (!enough).then(|| "not enough data".to_owned()),
    }
}

/// The reports `q` asks for: one, or one per period with `by`.
pub async fn compute(
    store: &Arc<dyn Store>,
    q: &Query,
    settings: &Settings<'_>,
) -> Result<Vec<Report>> {
    let mut all = changes(store, q, settings).await?;
    if let Some(name) = &q.team {
        let Some(team) = settings.teams.iter().find(|t| &t.name == name) else {
            let known: Vec<&str> = settings.teams.iter().map(|t| t.name.as_str()).collect();
            return Err(UsageError(format!(
                "no team {name:?} in leadline.toml (the teams: {})",
                known.join(", ")
            ))
            .into());
        };
        let members: HashSet<String> = team.members.iter().map(|m| m.to_lowercase()).collect();
        all.retain(|c| members.contains(&c.author));
    }
    let newest = all.iter().map(|c| c.at).max();
    let window = resolve(q.since.as_deref(), q.until.as_deref(), newest, |until| {
        Ok(until - DEFAULT_DAYS * DAY_MS)
    })?;
    let windows = match q.by {
        None => vec![window],
        Some(by) => buckets(window, by, MAX_PERIODS)?,
    };
    if let Some(name) = &q.team {
        for w in &windows {
            let authors: HashSet<&str> = all
                .iter()
                .filter(|c| w.contains(c.at))
                .map(|c| c.author.as_str())
                .collect();
            if authors.len() < settings.min_group_size {
                return Err(UsageError(format!(
                    "team {name:?}: fewer than {} people changed code from {} to {}; its numbers \
                     would come close to naming them (privacy.min_group_size)",
                    settings.min_group_size,
                    &utc(w.since)[..10],
                    &utc(w.until)[..10]
                ))
                .into());
            }
        }
    }
    let prs = pull_requests(store, q, &all, settings).await?;
    Ok(windows
        .into_iter()
        .map(|w| report(&all, &prs, w, q.explain))
        .collect())
}

/// A merged pull request as the review outcome sees it.
pub(crate) struct Pr {
    merged_at: Millis,
    ai: bool,
    /// Seconds from ready (else opened) to the first review by someone else.
    first_review: Option<f64>,
}

/// Merged pull requests of the chosen repositories with their class: AI when an agent opened
/// it, a label says so, or its merge commit is an AI change.
async fn pull_requests(
    store: &Arc<dyn Store>,
    q: &Query,
    all: &[Change],
    settings: &Settings<'_>,
) -> Result<Vec<Pr>> {
    let members: Option<HashSet<String>> = q.team.as_ref().map(|name| {
        settings
            .teams
            .iter()
            .filter(|t| &t.name == name)
            .flat_map(|t| t.members.iter().map(|m| m.to_lowercase()))
            .collect()
    });
    let ai_commits: HashSet<&str> = all
        .iter()
        .filter(|c| c.class != Class::Human)
        .map(|c| c.sha.as_str())
        .collect();
    let reviews = store.reviews().await?;
    let mut first: HashMap<(&str, &str, i64), Millis> = HashMap::new();
    let prs = store.pull_requests().await?;
    let authors: HashMap<(&str, &str, i64), &str> = prs
        .iter()
        .map(|p| {
            (
                (p.forge.as_str(), p.repo.as_str(), p.number),
                p.author.as_str(),
            )
        })
        .collect();
    for r in &reviews {
        let key = (r.forge.as_str(), r.repo.as_str(), r.number);
        if authors.get(&key).is_some_and(|a| *a != r.reviewer) {
            let at = first.entry(key).or_insert(r.submitted_at);
            *at = (*at).min(r.submitted_at);
        }
    }
    let agent = |login: &str| {
        let login = login.to_lowercase();
        settings
            .rules
            .identities
            .iter()
            .any(|i| login.contains(i.as_str()))
    };
    Ok(prs
        .iter()
        .filter(|p| {
            q.repo
                .as_deref()
                .is_none_or(|r| p.repo == r || p.repo.ends_with(&format!("/{r}")))
                && members
                    .as_ref()
                    .is_none_or(|m| m.contains(&p.author.to_lowercase()))
        })
        .filter_map(|p| {
            let merged_at = p.merged_at?;
            let ai = agent(&p.author)
                || settings.rules.labelled(&p.labels)
                || p.merge_sha
                    .as_deref()
                    .is_some_and(|s| ai_commits.contains(s));
            let start = p.ready_at.unwrap_or(p.created_at);
            let first_review = first
                .get(&(p.forge.as_str(), p.repo.as_str(), p.number))
                .map(|at| (at - start).max(0) as f64 / 1000.0);
            Some(Pr {
                merged_at,
                ai,
                first_review,
            })
        })
        .collect())
}

fn review_outcome(prs: &[Pr], w: Window) -> ReviewOutcome {
    let side = |ai: bool| {
        let mine: Vec<&Pr> = prs
            .iter()
            .filter(|p| p.ai == ai && w.contains(p.merged_at))
            .collect();
        let mut times: Vec<f64> = mine.iter().filter_map(|p| p.first_review).collect();
        times.sort_by(f64::total_cmp);
        let reviewed = times.len() as u64;
        ReviewSide {
            pull_requests: mine.len() as u64,
            reviewed,
            coverage: (!mine.is_empty()).then(|| reviewed as f64 / mine.len() as f64),
            median_review_seconds: leadline_core::stats::percentile(&times, 50.0),
        }
    };
    let (human, ai) = (side(false), side(true));
    let enough = human.pull_requests >= ENOUGH && ai.pull_requests >= ENOUGH;
    ReviewOutcome {
        human,
        ai,
        note: (!enough).then(|| "not enough data".to_owned()),
    }
}

fn report(all: &[Change], prs: &[Pr], w: Window, explain: bool) -> Report {
    let (mut changes, mut lines) = (ByClass::default(), ByClass::default());
    let mut explained = Vec::new();
    let chosen: Vec<&Change> = all.iter().filter(|c| w.contains(c.at)).collect();
    for c in chosen.iter().copied() {
        changes.add(c.class, 1);
        lines.add(c.class, c.lines);
        if explain && c.class != Class::Human {
            explained.push(Explained {
                repository: c.repository.clone(),
                sha: c.sha.clone(),
                committed_at: utc(c.at),
                class: c.class,
                rule: c.rule.clone().unwrap_or_default(),
                lines: c.lines,
            });
        }
    }
    Report {
        since: utc(w.since),
        until: utc(w.until),
        changes,
        lines,
        ai_share: (changes.total > 0)
            .then(|| (changes.ai_assisted + changes.ai_authored) as f64 / changes.total as f64),
        outcomes: Outcomes {
            change_failure: outcome(&chosen, |c| c.failed),
            rework: outcome(&chosen, |c| c.reworked),
            review: review_outcome(prs, w),
        },
        explain: explain.then_some(explained),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(class: Class, lines: u64, failed: bool) -> Change {
        Change {
            repository: "r".into(),
            sha: String::new(),
            at: 0,
            class,
            rule: None,
            lines,
            failed,
            reworked: false,
            author: String::new(),
        }
    }

    /// docs/metrics.md, "AI-assisted changes": 30 human changes (20 small, 2 failed; 10 large,
    /// 4 failed) and 20 AI ones (5 small, 1 failed; 15 large, 9 failed). Raw rates 0.2 and 0.5;
    /// by the human size mix (2/3 small, 1/3 large): (2/3)(0.2 − 0.1) + (1/3)(0.6 − 0.4) =
    /// 0.1333.
    #[test]
    fn review_coverage_and_time_per_side() {
        let w = Window {
            since: 0,
            until: 1_000_000_000,
        };
        let pr = |ai: bool, first_review: Option<f64>| Pr {
            merged_at: 10,
            ai,
            first_review,
        };
        // Human: reviewed after 1 h and 3 h, one unreviewed; AI: reviewed after 2 h.
        let prs = [
            pr(false, Some(3600.0)),
            pr(false, Some(10_800.0)),
            pr(false, None),
            pr(true, Some(7200.0)),
        ];
        let o = review_outcome(&prs, w);
        assert_eq!((o.human.pull_requests, o.human.reviewed), (3, 2));
        assert_eq!(o.human.coverage, Some(2.0 / 3.0));
        // Nearest-rank median of {1 h, 3 h}: 1 h.
        assert_eq!(o.human.median_review_seconds, Some(3600.0));
        assert_eq!(
            (o.ai.coverage, o.ai.median_review_seconds),
            (Some(1.0), Some(7200.0))
        );
        assert_eq!(o.note.as_deref(), Some("not enough data"));
    }

    #[test]
    fn worked_example_size_weighted_difference() {
        let mut all = Vec::new();
        for i in 0..20 {
            all.push(change(Class::Human, 5, i < 2));
        }
        for i in 0..10 {
            all.push(change(Class::Human, 500, i < 4));
        }
        for i in 0..5 {
            all.push(change(Class::AiAssisted, 5, i < 1));
        }
        for i in 0..15 {
            all.push(change(Class::AiAuthored, 500, i < 9));
        }
        let refs: Vec<&Change> = all.iter().collect();
        let o = outcome(&refs, |c| c.failed);
        assert_eq!(
            (
                o.human.changes,
                o.human.with_outcome,
                o.ai.changes,
                o.ai.with_outcome
            ),
            (30, 6, 20, 10)
        );
        assert_eq!((o.human.rate, o.ai.rate), (Some(0.2), Some(0.5)));
        let d = o.size_weighted_difference.unwrap();
        assert!((d - 0.133_333_333_333_333_3).abs() < 1e-12, "{d}");
        assert_eq!(o.note, None);
        // Nineteen AI changes are not enough.
        let o = outcome(&refs[..49], |c| c.failed);
        assert_eq!(
            (o.size_weighted_difference, o.note.as_deref()),
            (None, Some("not enough data"))
        );
    }
}
