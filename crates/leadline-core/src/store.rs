//! The storage API every front-end uses. Implementations live in `leadline-store`; one
//! conformance suite holds each backend to the contract written on these methods.

use async_trait::async_trait;

use crate::events::{
    ApiToken, Build, CodeOwnersFile, Delivery, Events, PullRequest, PullRequestFiles, PushedCommit,
    Review,
};
use crate::model::{
    Commit, Complexity, Deployment, HeadFile, Identity, Incident, Millis, Ref, Repository,
};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database was written by a newer leadline; refusing to touch it keeps it intact.
    #[error(
        "the store has schema version {found}, newer than the {supported} this leadline knows; upgrade leadline"
    )]
    NewerSchema { found: i64, supported: i64 },
    /// A natural key is already taken by something else (e.g. a repository name by another path).
    #[error("{0}")]
    Conflict(String),
    /// The `--db` value cannot be understood.
    #[error("invalid store location {location:?}: {reason}")]
    InvalidLocation { location: String, reason: String },
    /// Stored data that cannot be read back (e.g. an unknown enum code): the store was altered
    /// by something other than leadline.
    #[error("corrupt store data: {0}")]
    Corrupt(String),
    /// The store cannot take writes (or answer) for a reason that passes: a full disk, an I/O
    /// error, a lock held too long, a lost connection. Nothing was committed; the same request
    /// may succeed later, so servers answer 503 with `Retry-After`.
    #[error("{context}: the store is unavailable ({reason})")]
    Unavailable {
        context: String,
        reason: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database engine failed; `context` says what leadline was doing.
    #[error("{context}")]
    Backend {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A commit as listed by exports, without its file changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRow {
    pub repo: String,
    pub sha: String,
    pub parents: Vec<String>,
    pub author: Identity,
    pub authored_at: Millis,
    pub author_offset_minutes: i32,
    pub committer: Identity,
    pub committed_at: Millis,
    pub committer_offset_minutes: i32,
    pub subject: String,
}

impl CommitRow {
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }
}

/// One `git log --numstat` row with the repository it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChangeRow {
    pub repo: String,
    pub sha: String,
    pub path: Vec<u8>,
    pub added: Option<u64>,
    pub deleted: Option<u64>,
}

/// A tag with the repository it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRow {
    pub repo: String,
    pub tag: Ref,
}

/// The slim facts about a commit that activity summaries need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitFact {
    pub sha: String,
    pub author_email: String,
    pub committed_at: Millis,
    pub is_merge: bool,
}

/// A commit as the DORA attribution sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphRow {
    pub sha: String,
    pub parents: Vec<String>,
    pub committed_at: Millis,
    /// The author's name or email contains one of the bot markers asked for.
    pub bot: bool,
}

/// A commit whose message mentions a revert, with that message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertRow {
    pub sha: String,
    pub committed_at: Millis,
    pub message: String,
}

/// A commit's message and people with its trailers, for what it says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitMessage {
    pub sha: String,
    pub author: Identity,
    pub committer: Identity,
    pub committed_at: Millis,
    pub is_merge: bool,
    pub subject: String,
    /// The message without its subject.
    pub body: String,
    /// (key, value) in message order.
    pub trailers: Vec<(String, String)>,
}

/// A trailer of a commit, with the commit's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailerRow {
    pub sha: String,
    pub value: String,
    pub committed_at: Millis,
}

/// Lines changed in one path by one commit, with the commit's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChurnRow {
    pub sha: String,
    pub path: Vec<u8>,
    pub committed_at: Millis,
    /// The commit's (canonical) author: personal data, for knowledge counts only.
    pub author_email: String,
    pub added: Option<u64>,
    pub deleted: Option<u64>,
    /// The file's complexity after the change (see [`crate::model::FileChange`]).
    pub complexity: Option<Complexity>,
}

/// Where the previous page of a keyset-paged listing ended. Pages are ordered by
/// (repository id, key…); pass the last row's position to get the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagePosition {
    Commit {
        repo_id: i64,
        committed_at: Millis,
        sha: String,
    },
    FileChange {
        repo_id: i64,
        sha: String,
        path: Vec<u8>,
    },
}

/// A page of rows and where the next page starts (`None` when this was the last page).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next: Option<PagePosition>,
}

/// Whom `forget` erases: an email (with the emails `.mailmap` maps to it) and forge logins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forget {
    pub email: String,
    pub logins: Vec<String>,
    /// What their identity becomes: random, so it leads back to no one.
    pub replacement: String,
}

/// What `forget` changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Rows rewritten per table (people and aliases: deleted), tables with none left out.
    pub tables: Vec<(String, u64)>,
    /// Whether the old contents were also removed from the files (SQLite: rewritten and the
    /// log truncated; PostgreSQL: vacuumed). False when another process held the store open;
    /// running `forget` again when it is closed finishes the job.
    pub compacted: bool,
}

impl Forgotten {
    /// Rows rewritten in `table`.
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, n)| *n)
    }
}

/// Where a page of time-ordered events (deployments, incidents, deliveries) stopped: the
/// last row's (time, source, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPosition {
    pub at: Millis,
    pub source: String,
    pub id: String,
}

/// What an import did: rows in the input, and how many of them were new to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportCounts {
    pub rows: usize,
    pub new: usize,
}

/// Persistent state of leadline: the sum of one trait per data family, each implemented in its
/// own file of leadline-store, so a method can be followed to its SQL. Every method is atomic:
/// it either does all it says or, on error, leaves the store as it was. `Arc<dyn Store>` reaches
/// every family's methods.
pub trait Store:
    HistoryStore
    + DeploymentStore
    + ForgeStore
    + PrivacyStore
    + AdminStore
    + SliStore
    + OutboxStore
    + AnomalyStore
    + ProductStore
    + JobStore
    + SurveyStore
    + PlanningStore
{
}

impl<
    T: HistoryStore
        + DeploymentStore
        + ForgeStore
        + PrivacyStore
        + AdminStore
        + SliStore
        + OutboxStore
        + AnomalyStore
        + ProductStore
        + JobStore
        + SurveyStore
        + PlanningStore,
> Store for T
{
}

/// Repositories, their mined history, refs, files at HEAD and ingest cursors.
#[async_trait]
pub trait HistoryStore: Send + Sync {
    /// Registers a repository by location, or returns the one already there; the flag says
    /// whether it was created now. Fails with [`StoreError::Conflict`] when `name` is taken by
    /// another location.
    async fn upsert_repository(
        &self,
        name: &str,
        location: &str,
    ) -> StoreResult<(Repository, bool)>;

    /// Removes a repository and everything stored for it.
    async fn delete_repository(&self, repo_id: i64) -> StoreResult<()>;

    /// All repositories, ordered by name.
    async fn repositories(&self) -> StoreResult<Vec<Repository>>;

    /// The repository called `name`, if any.
    async fn repository(&self, name: &str) -> StoreResult<Option<Repository>>;

    /// The value of an incremental-ingest cursor, e.g. the digest of the ref tips last mined.
    async fn cursor(&self, source: &str, scope: &str) -> StoreResult<Option<String>>;

    /// The shas of every commit stored for the repository.
    async fn commit_shas(&self, repo_id: i64) -> StoreResult<Vec<String>>;

    /// Stores commits with their file changes, trailers and people in one transaction.
    /// Commits already present are left untouched, so replaying a batch is harmless.
    async fn insert_commits(&self, repo_id: i64, commits: &[Commit]) -> StoreResult<()>;

    /// Removes commits with their file changes and trailers, e.g. to undo a failed ingest.
    async fn delete_commits(&self, repo_id: i64, shas: &[String]) -> StoreResult<()>;

    /// Removes commits (and their file changes and trailers) that no ref reaches any more,
    /// replaces the repository's refs with `refs` and sets the cursor, all in one transaction:
    /// the cursor only moves once the store matches it.
    async fn finish_ingest(
        &self,
        repo_id: i64,
        unreachable: &[String],
        refs: &[Ref],
        cursor: (&str, &str, &str),
    ) -> StoreResult<()>;

    /// A page of commits ordered by (repository, committed_at, sha).
    async fn commits_page(
        &self,
        repo_id: Option<i64>,
        after: Option<&PagePosition>,
        limit: usize,
    ) -> StoreResult<Page<CommitRow>>;

    /// A page of file changes ordered by (repository, sha, path bytes).
    async fn file_changes_page(
        &self,
        repo_id: Option<i64>,
        after: Option<&PagePosition>,
        limit: usize,
    ) -> StoreResult<Page<FileChangeRow>>;

    /// Tags ordered by (repository, name).
    async fn tags(&self, repo_id: Option<i64>) -> StoreResult<Vec<TagRow>>;

    /// Every ref of the repository (HEAD, branches, remotes, tags), ordered by name.
    async fn refs(&self, repo_id: i64) -> StoreResult<Vec<Ref>>;

    /// Every stored commit of every repository (one row per sha), flagging those whose author
    /// name or email contains any of `bots` (case-insensitive).
    async fn commit_graph(&self, bots: &[String]) -> StoreResult<Vec<GraphRow>>;

    /// Every stored commit's subject.
    async fn subjects(&self) -> StoreResult<Vec<(String, String)>>;

    /// Every (sha, path) of the stored file changes, for mapping changes to monorepo services.
    async fn commit_paths(&self) -> StoreResult<Vec<(String, Vec<u8>)>>;

    /// The trailers keyed `key` (compared case-insensitively, as git does) of the repository's
    /// commits, ordered by (committed_at, sha).
    async fn trailers_named(&self, repo_id: i64, key: &str) -> StoreResult<Vec<TrailerRow>>;

    /// Every commit of the repository with its message, people and trailers, in no particular
    /// order.
    async fn commit_messages(&self, repo_id: i64) -> StoreResult<Vec<CommitMessage>>;

    /// `(sha, subject, body)` of the repository's commits whose subject or body contains one of
    /// `needles` (exact bytes, case-sensitive), in no particular order; none without needles.
    /// Lets a reader that looks for a few strings (issue keys) skip the other messages.
    async fn messages_containing(
        &self,
        repo_id: i64,
        needles: &[String],
    ) -> StoreResult<Vec<(String, String, String)>>;

    /// Every name and email a person of the history is known by: as `.mailmap` resolved them
    /// and as they were written. Personal data: for the blameless lint, never for output.
    async fn people(&self) -> StoreResult<Vec<Identity>>;

    /// Commits whose message says "This reverts commit".
    async fn reverts(&self) -> StoreResult<Vec<RevertRow>>;

    /// Slim facts of every commit of the repository, in no particular order.
    async fn commit_facts(&self, repo_id: i64) -> StoreResult<Vec<CommitFact>>;

    /// File changes of the repository's commits committed at or after `since`.
    /// Hands every file change of a repository, with its commit's time and author, to `each`
    /// as it streams from the store, so that a whole history need not be held at once.
    async fn each_file_change(
        &self,
        repo_id: i64,
        each: &mut (dyn FnMut(ChurnRow) + Send),
    ) -> StoreResult<()>;

    /// Every stored commit of a repository as (sha, its parents' shas).
    async fn commit_parents(&self, repo_id: i64) -> StoreResult<Vec<(String, Vec<String>)>>;

    /// How many files at HEAD were last ingested (0: HEAD was never measured, or is empty).
    async fn head_file_count(&self, repo_id: i64) -> StoreResult<usize>;

    /// The files at HEAD as last ingested, by path.
    async fn head_files(&self, repo_id: i64) -> StoreResult<Vec<HeadFile>>;

    /// Replaces the repository's files at HEAD. An ingest calls it before it moves its cursor,
    /// so a killed run measures HEAD again.
    async fn replace_head_files(&self, repo_id: i64, files: &[HeadFile]) -> StoreResult<()>;

    async fn churn_since(&self, repo_id: i64, since: Millis) -> StoreResult<Vec<ChurnRow>>;

    /// The ids of the repositories holding any of `shas`.
    async fn repositories_with(&self, shas: &[String]) -> StoreResult<Vec<i64>>;

    /// Those of `shas` that no stored repository has; an abbreviated sha is known when it
    /// abbreviates a stored commit.
    async fn unknown_shas(&self, shas: &[String]) -> StoreResult<Vec<String>>;
}

/// Deployments and incidents, imported or received, by source.
#[async_trait]
pub trait DeploymentStore: Send + Sync {
    /// Stores deployments of `source` in one transaction; a row whose (source, id) exists
    /// replaces it, so importing the same rows again changes nothing.
    async fn upsert_deployments(
        &self,
        source: &str,
        rows: &[Deployment],
    ) -> StoreResult<ImportCounts>;

    /// Stores incidents of `source` in one transaction, as [`DeploymentStore::upsert_deployments`].
    async fn upsert_incidents(&self, source: &str, rows: &[Incident]) -> StoreResult<ImportCounts>;

    /// Every stored deployment with its source, ordered by (finished_at, source, id).
    async fn deployments(&self) -> StoreResult<Vec<(String, Deployment)>>;

    /// Every stored incident with its source, ordered by (opened_at, source, id).
    async fn incidents(&self) -> StoreResult<Vec<(String, Incident)>>;

    /// A page of deployments ordered by (finished_at, source, id), after `after`.
    async fn deployments_page(
        &self,
        after: Option<&EventPosition>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Deployment)>>;

    /// A page of incidents ordered by (opened_at, source, id), after `after`.
    async fn incidents_page(
        &self,
        after: Option<&EventPosition>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Incident)>>;
}

/// Webhook deliveries and what forges tell: pull requests, reviews, builds, pushes, files,
/// CODEOWNERS.
#[async_trait]
pub trait ForgeStore: Send + Sync {
    /// Stores a webhook delivery and the events it maps to in one transaction. Returns false,
    /// storing nothing, when (source, id) was delivered before; with `replay` the stored
    /// delivery's outcome is replaced and its events stored again (they are upserts). A
    /// deployment whose status is not `success` or `failure` never replaces one that is.
    async fn apply_delivery(
        &self,
        delivery: &Delivery,
        events: &Events,
        replay: bool,
    ) -> StoreResult<bool>;

    /// Stores events a connector fetched for `source` and, in the same transaction, moves its
    /// cursor `(scope, value)`: a sync killed at any point resumes from what was stored.
    async fn store_events(
        &self,
        source: &str,
        events: &Events,
        cursor: Option<(&str, &str)>,
    ) -> StoreResult<()>;

    /// Stored deliveries of `source` (all sources when `None`) ordered by (received_at,
    /// source, id), after `after`.
    async fn deliveries_page(
        &self,
        source: Option<&str>,
        after: Option<&EventPosition>,
        limit: usize,
    ) -> StoreResult<Vec<Delivery>>;

    async fn pull_requests(&self) -> StoreResult<Vec<PullRequest>>;

    async fn reviews(&self) -> StoreResult<Vec<Review>>;

    async fn builds(&self) -> StoreResult<Vec<(String, Build)>>;

    async fn pushed_commits(&self) -> StoreResult<Vec<PushedCommit>>;

    async fn pull_request_files(&self) -> StoreResult<Vec<PullRequestFiles>>;

    /// Rules with no file left are not listed.
    async fn code_owners(&self) -> StoreResult<Vec<CodeOwnersFile>>;

    /// When the oldest pushed commit that git ingest has not stored yet was pushed: how far
    /// the mined history lags behind the forge.
    async fn oldest_unmined_push(&self) -> StoreResult<Option<Millis>>;
}

/// Good and total events of SLO indicators, per counting interval.
#[derive(Debug, Clone, PartialEq)]
pub struct SliCount {
    pub slo: String,
    /// The interval's start.
    pub at: Millis,
    pub good: f64,
    pub total: f64,
}

/// The counts behind SLOs whose indicator is leadline's own.
#[async_trait]
pub trait SliStore: Send + Sync {
    /// Stores counts in one transaction; a row whose (slo, at) exists is replaced, so
    /// importing the same rows again changes nothing.
    async fn upsert_sli(&self, rows: &[SliCount]) -> StoreResult<ImportCounts>;

    /// The counts of `slo` starting in [since, until), oldest first.
    async fn sli_counts(
        &self,
        slo: &str,
        since: Millis,
        until: Millis,
    ) -> StoreResult<Vec<SliCount>>;
}

/// A notification decided: what happened (`firing` or `resolved`) to the condition its key
/// names, and the JSON it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub key: String,
    pub state: String,
    pub payload: String,
    pub created_at: Millis,
}

/// One target's delivery of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatch {
    pub notification: Notification,
    pub target: String,
    pub attempts: i64,
    pub next_at: Millis,
    pub delivered_at: Option<Millis>,
    pub last_error: Option<String>,
}

/// The notification outbox: decided in one transaction, delivered at least once.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Stores a notification of `key` in `state` with a delivery due now for each target,
    /// unless the key's last notification is already in that state (or, for `resolved`, there
    /// is none: nothing to resolve). Returns its id when one was stored.
    async fn enqueue(
        &self,
        key: &str,
        state: &str,
        payload: &str,
        at: Millis,
        targets: &[String],
    ) -> StoreResult<Option<i64>>;

    /// Undelivered deliveries due at `now`, oldest first, at most `limit`.
    async fn due_deliveries(&self, now: Millis, limit: usize) -> StoreResult<Vec<Dispatch>>;

    /// Records a delivery attempt: delivered at `delivered` (the target accepted), or failed
    /// with `error` and due again at `next_at`.
    async fn record_attempt(
        &self,
        notification: i64,
        target: &str,
        delivered: Option<Millis>,
        next_at: Millis,
        error: Option<&str>,
    ) -> StoreResult<()>;

    /// The newest notifications with their deliveries, newest first.
    async fn notifications(&self, limit: usize) -> StoreResult<Vec<Dispatch>>;
}

/// A person's judgement of an anomaly proposal: `acknowledged` (with an optional note) or
/// `dismissed` (with a reason). `scope` is `kind:name` (`service:checkout`), `week`
/// `YYYY-Www`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnomalyReview {
    pub id: String,
    pub metric: String,
    pub scope: String,
    pub week: String,
    pub state: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub reviewed_at: Millis,
}

/// Judgements of anomaly proposals (the proposals themselves are recomputed from the data).
#[async_trait]
pub trait AnomalyStore: Send + Sync {
    /// Records a judgement; a later one of the same proposal replaces it.
    async fn review_anomaly(&self, review: &AnomalyReview) -> StoreResult<()>;

    /// Every judgement, ordered by id.
    async fn anomaly_reviews(&self) -> StoreResult<Vec<AnomalyReview>>;
}

/// A product analytics event as stored: the user only as a keyed pseudonym.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductEvent {
    /// The source's id, or a digest of the event: unique, so a re-import changes nothing.
    pub id: String,
    pub at: Millis,
    /// The keyed pseudonym of the user.
    pub user: String,
    pub event: String,
    /// A JSON object, with any value equal to the raw user id replaced by the pseudonym.
    pub properties: Option<String>,
}

/// A sample of a metric that lives elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub at: Millis,
    /// A canonical JSON object (keys sorted), `{}` without labels.
    pub labels: String,
    pub value: f64,
}

/// Product analytics events, samples of outside metrics, and check-ins on key results.
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// Stores events whose id is new, in one transaction; an id already stored is left as it
    /// was (the same event imported again).
    async fn insert_product_events(&self, events: &[ProductEvent]) -> StoreResult<ImportCounts>;

    /// Every event before `until`, by time (then id).
    async fn product_events(&self, until: Millis) -> StoreResult<Vec<ProductEvent>>;

    /// The newest event's time, if any.
    async fn newest_product_event(&self) -> StoreResult<Option<Millis>>;

    /// Stores samples in one transaction; a (name, time, labels) already stored takes the new
    /// value.
    async fn upsert_samples(&self, samples: &[Sample]) -> StoreResult<ImportCounts>;

    /// The samples called `name`, by time.
    async fn samples(&self, name: &str) -> StoreResult<Vec<Sample>>;

    /// The names of the stored samples, sorted.
    async fn sample_names(&self) -> StoreResult<Vec<String>>;

    /// Records a check-in on a key result.
    async fn add_checkin(&self, checkin: &Checkin) -> StoreResult<()>;

    /// Every check-in, by key result and time.
    async fn checkins(&self) -> StoreResult<Vec<Checkin>>;
}

/// A person's confidence (0 to 10) in a key result at a time, with a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkin {
    pub key_result: String,
    pub at: Millis,
    pub confidence: i64,
    pub note: Option<String>,
}

/// Erasing a person.
#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// Erases every form of a person's identity (their emails, the names and logins anything
    /// stored pairs with them, in any letter case, in every text and JSON column but file
    /// paths and hashes) in one transaction, then removes the old contents from the files;
    /// their work stays, under `who.replacement`.
    async fn forget(&self, who: &Forget) -> StoreResult<Forgotten>;
}

/// A unit of fleet work and where it stands. One row per (kind, target): a target is re-armed
/// when it is due again, so it is never pending twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    /// `git` (fetch and ingest), `forge` (sync pull requests and CI), `incidents`.
    pub kind: String,
    pub target: String,
    /// What the worker needs to run it (JSON, the kind's own shape).
    pub payload: String,
    /// `pending`, `running`, `done` or `failed`.
    pub state: String,
    /// Attempts since the target was last armed (a lease taken over counts as one).
    pub attempts: i64,
    /// When a pending job may be claimed (a retry waits out its backoff).
    pub next_at: Millis,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Millis>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub last_success: Option<Millis>,
    pub last_error: Option<String>,
}

/// How a run of a job ended, as its worker reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome<'a> {
    Done,
    /// Failed; pending again from `at`.
    Retry {
        at: Millis,
        error: &'a str,
    },
    /// Failed for good (until the target is armed again).
    Failed {
        error: &'a str,
    },
}

/// One finished run: `done`, `retry`, `failed`, or `abandoned` (its lease expired and
/// another worker took the job over).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    pub job_id: i64,
    pub kind: String,
    pub target: String,
    pub owner: String,
    pub started_at: Millis,
    pub finished_at: Millis,
    pub outcome: String,
    pub error: Option<String>,
}

/// Runs of one kind that ended one way, and the time they took together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRunTotal {
    pub kind: String,
    pub outcome: String,
    pub runs: i64,
    pub millis: i64,
}

/// Held while alive: a named lock only one process can hold at a time (PostgreSQL: a session
/// advisory lock on a connection of its own; SQLite: a lock on a file beside the database).
/// Dropping it releases the lock.
pub struct Exclusive(pub Box<dyn std::any::Any + Send + Sync>);

/// Called when another process announced a change (PostgreSQL `LISTEN`).
pub type OnChange = std::sync::Arc<dyn Fn() + Send + Sync>;

/// The fleet's job queue with leases, the locks that keep one scheduler, and change
/// announcements between processes sharing one store.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Arms (kind, target) at `now`: a new or finished job becomes pending; a pending one
    /// stays as it is (its backoff too); a running one is marked to run again when it ends.
    /// The payload follows the latest call.
    async fn enqueue_job(
        &self,
        kind: &str,
        target: &str,
        payload: &str,
        now: Millis,
    ) -> StoreResult<()>;

    /// Takes the oldest job due at `now` (pending, or running under a lease that expired)
    /// for `owner` until `lease_until`, counting an attempt; a lease taken over is recorded
    /// as an `abandoned` run of its previous owner. Concurrent claimers never get one job.
    async fn claim_job(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Option<Job>>;

    /// Extends `owner`'s lease; false when the lease is no longer theirs.
    async fn renew_lease(&self, id: i64, owner: &str, until: Millis) -> StoreResult<bool>;

    /// Records how `owner`'s run ended, with the run; false (and nothing recorded) when the
    /// lease is no longer theirs.
    async fn finish_job(
        &self,
        id: i64,
        owner: &str,
        now: Millis,
        outcome: JobOutcome<'_>,
    ) -> StoreResult<bool>;

    /// Every job, by kind and target.
    async fn jobs(&self) -> StoreResult<Vec<Job>>;

    /// Finished runs, oldest first.
    async fn job_runs(&self) -> StoreResult<Vec<JobRun>>;

    /// Runs that finished at or after `since`, counted per (kind, outcome) with their total
    /// duration in milliseconds, by kind and outcome.
    async fn job_run_totals(&self, since: Millis) -> StoreResult<Vec<JobRunTotal>>;

    /// Forgets runs that finished before `before`; returns how many.
    async fn prune_job_runs(&self, before: Millis) -> StoreResult<u64>;

    /// The lock `name` if no other process holds it.
    async fn try_exclusive(&self, name: &str) -> StoreResult<Option<Exclusive>>;

    /// Tells every process watching this store that data changed (PostgreSQL `NOTIFY`;
    /// nothing on SQLite, where one process writes).
    async fn announce_change(&self) -> StoreResult<()>;

    /// Calls `on_change` whenever any process announces a change, and after a lost listening
    /// connection comes back (an announcement may have been missed). False when the backend
    /// has no announcements (SQLite).
    async fn watch_changes(&self, on_change: OnChange) -> StoreResult<bool>;
}

/// A pulse survey response as stored: no identity, only the wave, the team and the numeric
/// answers. `(source, row)` (the digest of the imported file and the response's line) is the
/// key, so a file imported twice is stored once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyRow {
    pub source: String,
    pub row: i64,
    pub instrument: String,
    pub wave: String,
    pub team: String,
    /// A JSON object of item id to answer.
    pub answers: String,
}

/// Pulse survey responses.
#[async_trait]
pub trait SurveyStore: Send + Sync {
    /// Stores the responses whose key is new, in one transaction.
    async fn insert_survey(&self, rows: &[SurveyRow]) -> StoreResult<ImportCounts>;

    /// The responses to `instrument`, by wave and team.
    async fn survey_responses(&self, instrument: &str) -> StoreResult<Vec<SurveyRow>>;
}

/// An issue of a tracker as stored: no person, the team it counts for, its status changes.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedIssue {
    pub key: String,
    pub project: String,
    pub issue_type: String,
    pub status: String,
    pub category: crate::planning::Category,
    pub priority: Option<String>,
    pub labels: Vec<String>,
    pub components: Vec<String>,
    pub parent: Option<String>,
    pub story_points: Option<f64>,
    pub team: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub resolved_at: Option<Millis>,
    /// Oldest first.
    pub transitions: Vec<crate::planning::Transition>,
    /// The sprints its Sprint field holds now.
    pub sprints: Vec<i64>,
    /// Its moves between sprints, oldest first.
    pub sprint_changes: Vec<crate::planning::SprintChange>,
}

/// A sprint of a board (Jira's agile API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedSprint {
    pub id: i64,
    pub name: String,
    /// `future`, `active` or `closed`.
    pub state: String,
    pub started_at: Option<Millis>,
    pub ends_at: Option<Millis>,
    pub completed_at: Option<Millis>,
}

/// Issues of a tracker (Jira) for planning.
#[async_trait]
pub trait PlanningStore: Send + Sync {
    /// Stores a page of issues, each replacing what was stored under its key (transitions
    /// included), with the sync cursor `(source, scope, value)` that follows them, atomically.
    async fn upsert_tracked_issues(
        &self,
        issues: &[TrackedIssue],
        cursor: Option<(&str, &str, &str)>,
    ) -> StoreResult<ImportCounts>;

    /// Every stored issue, by key, with its transitions.
    async fn tracked_issues(&self) -> StoreResult<Vec<TrackedIssue>>;

    /// Stores sprints, each replacing what was stored under its id.
    async fn upsert_tracked_sprints(&self, sprints: &[TrackedSprint]) -> StoreResult<()>;

    /// Every stored sprint, by id.
    async fn tracked_sprints(&self) -> StoreResult<Vec<TrackedSprint>>;
}

/// The store itself: tokens, row counts, the pseudonym key, writability, backup and close.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Which backend this is, for messages ("sqlite", "postgres").
    fn backend(&self) -> &'static str;

    /// Stores a new API token; a name already taken is a [`StoreError::Conflict`].
    async fn create_token(&self, token: &ApiToken) -> StoreResult<()>;

    /// Every token, ordered by name.
    async fn tokens(&self) -> StoreResult<Vec<ApiToken>>;

    /// Deletes the named token; false when there was none.
    async fn revoke_token(&self, name: &str) -> StoreResult<bool>;

    /// Rows per table, for checking that a refused input left the store as it was.
    async fn row_counts(&self) -> StoreResult<Vec<(String, i64)>>;

    /// The secret key for pseudonymising people in exports, created on first use and kept in
    /// the store so that pseudonyms are stable across runs but cannot be reversed elsewhere.
    async fn pseudonym_key(&self) -> StoreResult<Vec<u8>>;

    /// Whether the store can take a write now: one small write is committed, and (SQLite) the
    /// filesystem holding it has room for more. [`StoreError::Unavailable`] says why not.
    async fn check_writable(&self) -> StoreResult<()>;

    /// Writes a consistent copy of the whole store to `path`, which must not exist (SQLite:
    /// `VACUUM INTO`, safe while others read and write; PostgreSQL: refused, use `pg_dump`).
    async fn backup(&self, path: &std::path::Path) -> StoreResult<()>;

    /// Makes the store whole on disk and closes it: SQLite moves its write-ahead log into the
    /// database file, so the file alone holds every row (a copy of it is a backup).
    async fn close(&self) -> StoreResult<()>;
}

/// Every family's trait, for code that calls store methods on a concrete store (`SqlStore`)
/// rather than through `dyn Store`.
pub mod prelude {
    pub use super::{
        AdminStore, AnomalyStore, DeploymentStore, ForgeStore, HistoryStore, JobStore, OutboxStore,
        PlanningStore, PrivacyStore, ProductStore, SliStore, Store, SurveyStore,
    };
}
