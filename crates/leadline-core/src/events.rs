//! What a forge or alerting webhook tells leadline, as domain rows, and the raw delivery it
//! came in. Mapping payloads to [`Events`] lives in `leadline-sources`; storing a delivery with
//! its events is one transaction of the store, so a delivery is stored whole or not at all.

use serde::Serialize;

use crate::model::{Deployment, Incident, Millis};

/// A pull request (GitHub) or merge request (GitLab) as last seen; natural key
/// (forge, repo, number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    pub forge: String,
    /// `owner/name` (GitHub) or the project path (GitLab).
    pub repo: String,
    pub number: i64,
    pub title: String,
    /// The forge login; personal data, erased by `forget`.
    pub author: String,
    /// `open`, `closed` or `merged`.
    pub state: String,
    pub draft: bool,
    pub created_at: Millis,
    /// When its first commit was written (forge APIs tell; webhooks do not, and never clear it).
    pub first_commit_at: Option<Millis>,
    /// Commits pushed after its first review by someone else (forge APIs tell; webhooks do not).
    pub rework_commits: Option<i64>,
    /// When it was first marked ready for review after being opened as a draft, where the
    /// forge says so (GitHub's `ready_for_review` event, GitLab's "marked as ready" note or
    /// draft change); `None` for one never drafted or when the source does not tell. Pickup
    /// starts here. The earliest value seen is kept.
    pub ready_at: Option<Millis>,
    /// Orders deliveries: an older one never overwrites a newer row.
    pub updated_at: Millis,
    pub merged_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    pub base_ref: String,
    pub head_sha: String,
    pub merge_sha: Option<String>,
    pub additions: Option<i64>,
    pub deletions: Option<i64>,
    pub changed_files: Option<i64>,
    pub commits: Option<i64>,
    pub labels: Vec<String>,
    /// Logins (people) and team names asked to review, as last seen; people's logins are
    /// erased by `forget`.
    pub review_requests: Vec<String>,
    /// Postmortem action items its title or description names (`PM-2026-014/A1`): all that
    /// is kept of the description, which may hold anything.
    pub actions: Vec<String>,
    /// Issue keys (`PAY-12`) its title, description and head branch name, of any project, as
    /// [`crate::planning::issue_keys`] finds them (planning keeps those of tracked projects):
    /// all that is kept of the branch name.
    pub issue_keys: Vec<String>,
}

/// A review of a pull request; natural key (forge, repo, number, id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub forge: String,
    pub repo: String,
    pub number: i64,
    pub id: String,
    pub reviewer: String,
    /// `approved`, `changes_requested`, `commented` or `dismissed`.
    pub state: String,
    pub submitted_at: Millis,
    /// Line comments it left (forge APIs tell; webhooks do not, and never clear it).
    pub comments: Option<i64>,
}

/// One attempt of a CI run; natural key (source, id) where the id names run and attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Build {
    pub id: String,
    pub repo: String,
    pub pipeline: String,
    pub sha: String,
    pub branch: Option<String>,
    pub attempt: i64,
    /// `success`, `failure`, `cancelled`, … when finished; else the run's state (`running`).
    pub status: String,
    pub created_at: Millis,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub updated_at: Millis,
}

/// A commit as a push announced it: metadata only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushedCommit {
    pub forge: String,
    pub repo: String,
    pub sha: String,
    pub ref_name: String,
    pub author_name: String,
    pub author_email: String,
    pub committed_at: Millis,
    pub pushed_at: Millis,
    pub message: String,
}

/// The files a pull request changes (replacing what was stored for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequestFiles {
    pub forge: String,
    pub repo: String,
    pub number: i64,
    pub paths: Vec<String>,
}

/// A repository's CODEOWNERS rules (replacing what was stored for it; none: no file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeOwnersFile {
    pub forge: String,
    pub repo: String,
    /// (pattern, owners) in file order.
    pub rules: Vec<(String, Vec<String>)>,
}

/// A step of an incident's lifecycle reported by an alert that names only the incident's id
/// (PagerDuty's `incident.acknowledged`, Opsgenie's `Close`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Milestone {
    pub id: String,
    pub stage: Stage,
    pub at: Millis,
}

/// Which lifecycle instant a [`Milestone`] sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Acknowledged,
    Mitigated,
    Resolved,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Acknowledged, Stage::Mitigated, Stage::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Acknowledged => "acknowledged",
            Stage::Mitigated => "mitigated",
            Stage::Resolved => "resolved",
        }
    }

    /// The incident column it sets.
    pub fn column(self) -> &'static str {
        match self {
            Stage::Acknowledged => "acknowledged_at",
            Stage::Mitigated => "mitigated_at",
            Stage::Resolved => "resolved_at",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.as_str() == s)
    }
}

/// The domain rows one delivery maps to; deployments, incidents, milestones and builds are
/// keyed by the delivery's source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Events {
    pub deployments: Vec<Deployment>,
    pub incidents: Vec<Incident>,
    pub milestones: Vec<Milestone>,
    pub pull_requests: Vec<PullRequest>,
    pub reviews: Vec<Review>,
    pub builds: Vec<Build>,
    pub pushed_commits: Vec<PushedCommit>,
    pub pull_request_files: Vec<PullRequestFiles>,
    pub code_owners: Vec<CodeOwnersFile>,
}

impl Events {
    pub fn is_empty(&self) -> bool {
        self.deployments.is_empty()
            && self.incidents.is_empty()
            && self.milestones.is_empty()
            && self.pull_requests.is_empty()
            && self.reviews.is_empty()
            && self.builds.is_empty()
            && self.pushed_commits.is_empty()
            && self.pull_request_files.is_empty()
            && self.code_owners.is_empty()
    }

    /// What was stored, in words: `1 deployment, 2 builds`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            (self.deployments.len(), "deployment"),
            (self.incidents.len(), "incident"),
            (self.milestones.len(), "milestone"),
            (self.pull_requests.len(), "pull request"),
            (self.reviews.len(), "review"),
            (self.builds.len(), "build"),
            (self.pushed_commits.len(), "pushed commit"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}{}", if n == 1 { "" } else { "s" }))
        .collect();
        parts.join(", ")
    }
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Mapped and stored.
    Stored,
    /// Understood but not tracked (an unknown event, a label that is not the incident label).
    Ignored,
    /// Verified but not mappable (a payload missing a field the mapping needs).
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Stored => "stored",
            Outcome::Ignored => "ignored",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Some(match s {
            "stored" => Outcome::Stored,
            "ignored" => Outcome::Ignored,
            "failed" => Outcome::Failed,
            _ => return None,
        })
    }
}

/// A webhook request as received, kept so that a mapping can be fixed and replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `github`, `gitlab` or `incidents`.
    pub source: String,
    pub id: String,
    pub event: String,
    pub received_at: Millis,
    pub body: Vec<u8>,
    pub outcome: Outcome,
    /// What was stored, or why nothing was.
    pub detail: String,
}

/// An API token as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub name: String,
    pub scope: Scope,
    #[serde(skip)]
    pub hash: String,
    pub created_at: Millis,
}

/// What a token may do; each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "read" => Scope::Read,
            "write" => Scope::Write,
            "admin" => Scope::Admin,
            _ => return None,
        })
    }
}
