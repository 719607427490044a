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

use crate::error::Result;
use crate::window::{By, DAY_MS, MAX_PERIODS, buckets, resolve, utc};

const DEFAULT_DAYS: i64 = 90;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Query {
    /// Only this ingested repository.
    pub repo: Option<String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<Explained>>,
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
}

/// Every non-merge commit on the HEAD history of the chosen repositories, classified.
async fn changes(store: &Arc<dyn Store>, q: &Query, rules: &Rules) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    for repo in crate::health::selected(store, q.repo.as_deref()).await? {
        let refs = store.refs(repo.id).await?;
        let parents = store.commit_parents(repo.id).await?;
        let on_head: Option<HashSet<&str>> = refs
            .iter()
            .find(|r| r.kind == RefKind::Head)
            .map(|h| history_of(&h.commit, &parents));
        let mut lines: HashMap<String, u64> = HashMap::new();
        store
            .each_file_change(repo.id, &mut |row| {
                *lines.entry(row.sha).or_default() +=
                    row.added.unwrap_or(0) + row.deleted.unwrap_or(0);
            })
            .await?;
        for m in store.commit_messages(repo.id).await? {
            if m.is_merge
                || on_head
                    .as_ref()
                    .is_some_and(|h| !h.contains(m.sha.as_str()))
            {
                continue;
            }
            let (class, rule) = rules.classify(&m.author, &m.committer, &m.trailers, &m.body);
            out.push(Change {
                repository: repo.name.clone(),
                lines: lines.get(&m.sha).copied().unwrap_or(0),
                sha: m.sha,
                at: m.committed_at,
                class,
                rule,
            });
        }
    }
    out.sort_by(|a, b| (a.at, &a.sha).cmp(&(b.at, &b.sha)));
    Ok(out)
}

/// The reports `q` asks for: one, or one per period with `by`.
pub async fn compute(store: &Arc<dyn Store>, q: &Query, rules: &Rules) -> Result<Vec<Report>> {
    let all = changes(store, q, rules).await?;
    let newest = all.iter().map(|c| c.at).max();
    let window = resolve(q.since.as_deref(), q.until.as_deref(), newest, |until| {
        Ok(until - DEFAULT_DAYS * DAY_MS)
    })?;
    let windows = match q.by {
        None => vec![window],
        Some(by) => buckets(window, by, MAX_PERIODS)?,
    };
    Ok(windows
        .into_iter()
        .map(|w| report(&all, w, q.explain))
        .collect())
}

fn report(all: &[Change], w: Window, explain: bool) -> Report {
    let (mut changes, mut lines) = (ByClass::default(), ByClass::default());
    let mut explained = Vec::new();
    for c in all.iter().filter(|c| w.contains(c.at)) {
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
        explain: explain.then_some(explained),
    }
}
