//! `leadline ingest github OWNER/REPO`: pull requests (with their reviews and first commit),
//! workflow runs (every attempt) and deployments (with their latest status) through the REST
//! API.
//!
//! Incremental: pull requests are read newest-updated first and the sync stops at the first one
//! not updated since the last run; workflow runs are asked for from the day of the newest run
//! seen. Each page is saved with the cursor that follows it, so a killed sync resumes at the
//! page after the last one saved; page 1 is asked with the ETag of the last complete run, and a
//! 304 (free of rate limit on GitHub) ends the phase at once.

use leadline_core::events::Events;
use leadline_core::model::Millis;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Client, Fetched, ForgeError, Sink};
use crate::webhook::github::{Options as MapOptions, map_value};

/// Where a repository's sync stands; stored as JSON in the ingest cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cursor {
    pub pulls: Phase,
    pub runs: Phase,
    pub deployments: Phase,
}

/// One listing's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// Items updated (pulls) or created (runs) at or before this were synced by a complete run.
    pub since: Option<String>,
    /// The page to read next, when a run stopped half-way.
    pub next: Option<String>,
    /// The newest time seen by the run under way.
    pub newest: Option<String>,
    /// ETag of page 1 of the last complete run, and of the run under way.
    pub etag: Option<String>,
    pub pending_etag: Option<String>,
}

impl Phase {
    pub(crate) fn see(&mut self, at: &str) {
        if self.newest.as_deref().is_none_or(|n| at > n) {
            self.newest = Some(at.to_owned());
        }
    }

    /// A complete run: what it saw becomes the new starting point.
    pub(crate) fn complete(&mut self) {
        if let Some(newest) = self.newest.take() {
            self.since = Some(newest);
        }
        self.next = None;
        if let Some(etag) = self.pending_etag.take() {
            self.etag = Some(etag);
        }
    }
}

/// What a sync did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    pub deployments: u64,
    pub pull_requests: u64,
    pub reviews: u64,
    pub builds: u64,
    pub requests: u64,
}

pub async fn sync_repo(
    client: &Client,
    repo: &str,
    mut cursor: Cursor,
    sink: &mut impl Sink,
) -> Result<Synced, ForgeError> {
    let mut synced = Synced::default();
    sync_code_owners(client, repo, &mut cursor, sink, &mut synced).await?;
    sync_pulls(client, repo, &mut cursor, sink, &mut synced).await?;
    sync_runs(client, repo, &mut cursor, sink, &mut synced).await?;
    sync_deployments(client, repo, &mut cursor, sink, &mut synced).await?;
    Ok(synced)
}

/// Where GitHub looks for CODEOWNERS, in its order.
const CODEOWNERS_PATHS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// The repository's CODEOWNERS rules (none when it has no such file), stored whole.
async fn sync_code_owners(
    client: &Client,
    repo: &str,
    cursor: &mut Cursor,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<(), ForgeError> {
    let urls: Vec<String> = CODEOWNERS_PATHS
        .iter()
        .map(|path| client.url(&format!("/repos/{repo}/contents/{path}")))
        .collect();
    let rules = super::code_owners(client, &urls, sink, synced).await?;
    let events = Events {
        code_owners: vec![leadline_core::events::CodeOwnersFile {
            forge: "github".into(),
            repo: repo.to_owned(),
            rules,
        }],
        ..Events::default()
    };
    save(sink, events, cursor).await
}

/// A deployment still this young may change status: each sync reads it again.
const DEPLOYMENT_SETTLES_MS: i64 = 86_400_000;

/// Deployments (newest first) with their latest status, mapped as the `deployment_status`
/// webhook would: the same ids, so syncs and deliveries meet in one row.
async fn sync_deployments(
    client: &Client,
    repo: &str,
    cursor: &mut Cursor,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<(), ForgeError> {
    let name = repo.rsplit('/').next().unwrap_or(repo);
    let settled = cursor
        .deployments
        .since
        .as_deref()
        .and_then(crate::webhook::parse_time)
        .map(|since| since - DEPLOYMENT_SETTLES_MS);
    let first = client.url(&format!("/repos/{repo}/deployments?per_page=100"));
    let mut url = cursor.deployments.next.clone().unwrap_or(first);
    loop {
        synced.requests += 1;
        let Fetched::Page { body, next, .. } = client.get(&url, None, sink).await? else {
            break;
        };
        let mut events = Events::default();
        let mut reached_known = false;
        for d in items(&body, &url, None)? {
            let created = d.get("created_at").and_then(Value::as_str).unwrap_or("");
            if settled.is_some_and(|s| crate::webhook::parse_time(created).is_some_and(|c| c < s)) {
                reached_known = true;
                break;
            }
            cursor.deployments.see(created);
            let id = d.get("id").and_then(Value::as_i64).unwrap_or(0);
            let statuses = fetch_all(
                client,
                &client.url(&format!(
                    "/repos/{repo}/deployments/{id}/statuses?per_page=100"
                )),
                None,
                sink,
                synced,
            )
            .await?;
            // Statuses come newest first. `inactive` is GitHub retiring a deployment a newer one
            // replaced: the deployment keeps the outcome it had before (its latest success,
            // failure or error), so the newest status that is not `inactive` decides.
            let decisive = statuses
                .iter()
                .find(|s| s.get("state").and_then(Value::as_str) != Some("inactive"));
            let (event, wrapped) = match decisive {
                Some(status) => (
                    "deployment_status",
                    json!({"deployment": d, "deployment_status": status, "repository": {"name": name}}),
                ),
                None => (
                    "deployment",
                    json!({"deployment": d, "repository": {"name": name}}),
                ),
            };
            let m = map_value(event, &wrapped, 0, &MapOptions::default())?;
            synced.deployments += m.events.deployments.len() as u64;
            events.deployments.extend(m.events.deployments);
            sink.progress("deployments", synced.deployments);
        }
        let next = next.filter(|_| !reached_known);
        if !advance(cursor, Listing::Deployments, next, &mut url, events, sink).await? {
            return Ok(());
        }
    }
    cursor.deployments.complete();
    save(sink, Events::default(), cursor).await
}

/// Which listing of a sync a page belongs to.
#[derive(Clone, Copy)]
pub(crate) enum Listing {
    Pulls,
    Runs,
    Deployments,
}

fn phase(cursor: &mut Cursor, listing: Listing) -> &mut Phase {
    match listing {
        Listing::Pulls => &mut cursor.pulls,
        Listing::Runs => &mut cursor.runs,
        Listing::Deployments => &mut cursor.deployments,
    }
}

/// Saves a page's events with the cursor that follows them, moving `url` to the next page;
/// false when the listing is done (no next page, or the caller passed none).
pub(crate) async fn advance(
    cursor: &mut Cursor,
    listing: Listing,
    next: Option<String>,
    url: &mut String,
    events: Events,
    sink: &mut impl Sink,
) -> Result<bool, ForgeError> {
    let p = phase(cursor, listing);
    let more = match next {
        Some(n) => {
            p.next = Some(n.clone());
            *url = n;
            true
        }
        None => {
            p.complete();
            false
        }
    };
    save(sink, events, cursor).await?;
    Ok(more)
}

async fn save(sink: &mut impl Sink, events: Events, cursor: &Cursor) -> Result<(), ForgeError> {
    let text = serde_json::to_string(cursor).map_err(|e| ForgeError::Sink(e.to_string()))?;
    sink.save(events, &text).await.map_err(ForgeError::Sink)
}

fn items<'a>(body: &'a Value, url: &str, key: Option<&str>) -> Result<&'a [Value], ForgeError> {
    let list = match key {
        Some(k) => body.get(k),
        None => Some(body),
    };
    list.and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| ForgeError::Body {
            url: url.to_owned(),
            message: format!(
                "expected {}",
                key.map_or("an array".to_owned(), |k| format!("`{k}`"))
            ),
        })
}

async fn sync_pulls(
    client: &Client,
    repo: &str,
    cursor: &mut Cursor,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<(), ForgeError> {
    let first = client.url(&format!(
        "/repos/{repo}/pulls?state=all&sort=updated&direction=desc&per_page=100"
    ));
    let resuming = cursor.pulls.next.is_some();
    let mut url = cursor.pulls.next.clone().unwrap_or(first);
    let mut first_page = !resuming;
    loop {
        let etag = if first_page {
            cursor.pulls.etag.clone()
        } else {
            None
        };
        synced.requests += 1;
        let (body, page_etag, next) = match client.get(&url, etag.as_deref(), sink).await? {
            Fetched::NotModified => {
                cursor.pulls.complete();
                return save(sink, Events::default(), cursor).await;
            }
            Fetched::Page {
                body,
                etag,
                next,
                total,
            } => {
                if let Some(total) = total.filter(|_| first_page) {
                    sink.total("pull requests", total);
                }
                (body, etag, next)
            }
        };
        if first_page {
            cursor.pulls.pending_etag = page_etag;
            first_page = false;
        }
        let mut events = Events::default();
        let mut reached_known = false;
        for pr in items(&body, &url, None)? {
            let updated = pr.get("updated_at").and_then(Value::as_str).unwrap_or("");
            if cursor
                .pulls
                .since
                .as_deref()
                .is_some_and(|since| updated <= since)
            {
                reached_known = true;
                break;
            }
            cursor.pulls.see(updated);
            pull_request(client, repo, pr, &mut events, sink, synced).await?;
            sink.progress("pull requests", synced.pull_requests);
        }
        let next = next.filter(|_| !reached_known);
        if !advance(cursor, Listing::Pulls, next, &mut url, events, sink).await? {
            return Ok(());
        }
    }
}

/// One pull request: its full object (sizes), its reviews and its first commit.
async fn pull_request(
    client: &Client,
    repo: &str,
    listed: &Value,
    events: &mut Events,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<(), ForgeError> {
    let number = listed
        .get("number")
        .and_then(Value::as_i64)
        .ok_or_else(|| ForgeError::Body {
            url: client.url(&format!("/repos/{repo}/pulls")),
            message: "a pull request without a number".into(),
        })?;
    let base = format!("/repos/{repo}/pulls/{number}");
    let detail = fetch_all(client, &client.url(&base), None, sink, synced).await?;
    let detail = detail.into_iter().next().unwrap_or_else(|| listed.clone());
    let wrapped = json!({"pull_request": detail, "repository": {"full_name": repo}});
    let mut mapped = map_value("pull_request", &wrapped, 0, &MapOptions::default())?.events;
    let commits = fetch_all(
        client,
        &client.url(&format!("{base}/commits?per_page=100")),
        None,
        sink,
        synced,
    )
    .await?;
    let first_commit = commits
        .iter()
        .filter_map(|c| {
            let at = c.pointer("/commit/author/date")?.as_str()?;
            crate::webhook::parse_time(at)
        })
        .min();
    let reviews = fetch_all(
        client,
        &client.url(&format!("{base}/reviews?per_page=100")),
        None,
        sink,
        synced,
    )
    .await?;
    // The files it changes (which decide its team when its author is in none).
    let files = fetch_all(
        client,
        &client.url(&format!("{base}/files?per_page=100")),
        None,
        sink,
        synced,
    )
    .await?;
    events
        .pull_request_files
        .push(leadline_core::events::PullRequestFiles {
            forge: "github".into(),
            repo: repo.to_owned(),
            number,
            paths: files
                .iter()
                .filter_map(|f| f.get("filename")?.as_str().map(str::to_owned))
                .collect(),
        });
    // Line comments, counted per review (review depth).
    let comments = fetch_all(
        client,
        &client.url(&format!("{base}/comments?per_page=100")),
        None,
        sink,
        synced,
    )
    .await?;
    let mut per_review: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for c in &comments {
        if let Some(id) = c.get("pull_request_review_id").and_then(Value::as_i64) {
            *per_review.entry(id).or_default() += 1;
        }
    }
    for review in reviews {
        let review_id = review.get("id").and_then(Value::as_i64);
        let wrapped = json!({"review": review, "pull_request": {"number": number}, "repository": {"full_name": repo}});
        let m = map_value("pull_request_review", &wrapped, 0, &MapOptions::default())?;
        synced.reviews += m.events.reviews.len() as u64;
        events
            .reviews
            .extend(m.events.reviews.into_iter().map(|mut r| {
                r.comments = Some(
                    review_id
                        .and_then(|id| per_review.get(&id).copied())
                        .unwrap_or(0),
                );
                r
            }));
    }
    // Rework: commits written after the first review by someone other than the author.
    let author = detail_author(&wrapped);
    let first_review = events
        .reviews
        .iter()
        .filter(|r| {
            r.number == number && r.repo == repo && Some(r.reviewer.as_str()) != author.as_deref()
        })
        .map(|r| r.submitted_at)
        .min();
    let rework = super::rework(first_review, &commits, |c| {
        c.pointer("/commit/committer/date")
            .or_else(|| c.pointer("/commit/author/date"))?
            .as_str()
    });
    let ready_at = match detail.get("merged_at").is_some_and(|m| !m.is_null()) {
        true => ready_for_review(client, repo, number, sink, synced).await?,
        false => None,
    };
    for pr in &mut mapped.pull_requests {
        pr.first_commit_at = first_commit;
        pr.rework_commits = rework;
        pr.ready_at = ready_at;
    }
    synced.pull_requests += mapped.pull_requests.len() as u64;
    events.pull_requests.extend(mapped.pull_requests);
    Ok(())
}

/// When a merged pull request was first marked ready for review: the earliest
/// `ready_for_review` of its issue events (none for one never drafted). Only merged pull
/// requests are asked, as only their pickup is measured; merging updates a pull request, so it
/// is listed again then.
async fn ready_for_review(
    client: &Client,
    repo: &str,
    number: i64,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<Option<Millis>, ForgeError> {
    let events = fetch_all(
        client,
        &client.url(&format!(
            "/repos/{repo}/issues/{number}/events?per_page=100"
        )),
        None,
        sink,
        synced,
    )
    .await?;
    Ok(events
        .iter()
        .filter(|e| e.get("event").and_then(Value::as_str) == Some("ready_for_review"))
        .filter_map(|e| crate::webhook::parse_time(e.get("created_at")?.as_str()?))
        .min())
}

fn detail_author(wrapped: &Value) -> Option<String> {
    wrapped
        .pointer("/pull_request/user/login")?
        .as_str()
        .map(str::to_owned)
}

/// Every item of a listing (following `next`), or the one object a URL returns.
async fn fetch_all(
    client: &Client,
    url: &str,
    key: Option<&str>,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<Vec<Value>, ForgeError> {
    let mut out = Vec::new();
    let mut url = url.to_owned();
    loop {
        synced.requests += 1;
        let Fetched::Page { body, next, .. } = client.get(&url, None, sink).await? else {
            return Ok(out);
        };
        match (&body, key) {
            (Value::Object(_), None) => out.push(body),
            _ => out.extend(items(&body, &url, key)?.iter().cloned()),
        }
        match next {
            Some(n) => url = n,
            None => return Ok(out),
        }
    }
}

async fn sync_runs(
    client: &Client,
    repo: &str,
    cursor: &mut Cursor,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<(), ForgeError> {
    // Runs change after they are created (re-runs keep their `created_at`, runs in progress
    // finish): ask again from `rerun_lookback_days` before the newest one seen; rows are upserts.
    let lookback = i64::from(client.options.rerun_lookback_days) * 86_400_000;
    let created = cursor
        .runs
        .since
        .as_deref()
        .and_then(crate::webhook::parse_time)
        .and_then(|newest| jiff::Timestamp::from_millisecond(newest.saturating_sub(lookback)).ok())
        .map(|from| format!("&created=%3E%3D{}", &from.to_string()[..10]))
        .unwrap_or_default();
    let first = client.url(&format!("/repos/{repo}/actions/runs?per_page=100{created}"));
    let mut url = cursor.runs.next.clone().unwrap_or(first);
    let mut runs_seen = 0;
    loop {
        synced.requests += 1;
        let Fetched::Page { body, next, .. } = client.get(&url, None, sink).await? else {
            break;
        };
        if let Some(total) = body.get("total_count").and_then(Value::as_u64) {
            sink.total("workflow runs", total);
        }
        let mut events = Events::default();
        for run in items(&body, &url, Some("workflow_runs"))? {
            if let Some(at) = run.get("created_at").and_then(Value::as_str) {
                cursor.runs.see(at);
            }
            let attempts = run.get("run_attempt").and_then(Value::as_i64).unwrap_or(1);
            let id = run.get("id").and_then(Value::as_i64).unwrap_or(0);
            let mut all = vec![run.clone()];
            for attempt in 1..attempts {
                all.extend(
                    fetch_all(
                        client,
                        &client.url(&format!(
                            "/repos/{repo}/actions/runs/{id}/attempts/{attempt}"
                        )),
                        None,
                        sink,
                        synced,
                    )
                    .await?,
                );
            }
            for one in all {
                let wrapped = json!({"workflow_run": one, "repository": {"full_name": repo}});
                let m = map_value("workflow_run", &wrapped, 0, &MapOptions::default())?;
                synced.builds += m.events.builds.len() as u64;
                events.builds.extend(m.events.builds);
            }
            runs_seen += 1;
            sink.progress("workflow runs", runs_seen);
        }
        if !advance(cursor, Listing::Runs, next, &mut url, events, sink).await? {
            return Ok(());
        }
    }
    cursor.runs.complete();
    save(sink, Events::default(), cursor).await
}

/// The repositories of an organisation (or user), `filter` a case-insensitive substring of the
/// name; paged, so thousands list in a few requests.
pub async fn list_repos(
    client: &Client,
    owner: &str,
    filter: Option<&str>,
    sink: &mut impl Sink,
) -> Result<Vec<String>, ForgeError> {
    let mut synced = Synced::default();
    let url = client.url(&format!("/orgs/{owner}/repos?per_page=100&type=all"));
    let repos = match fetch_all(client, &url, None, sink, &mut synced).await {
        Err(ForgeError::NotFound { .. }) => {
            let url = client.url(&format!("/users/{owner}/repos?per_page=100&type=owner"));
            fetch_all(client, &url, None, sink, &mut synced).await?
        }
        other => other?,
    };
    let filter = filter.map(str::to_lowercase);
    Ok(repos
        .iter()
        .filter(|r| !r.get("archived").and_then(Value::as_bool).unwrap_or(false))
        .filter_map(|r| r.get("full_name")?.as_str())
        .filter(|name| {
            filter
                .as_ref()
                .is_none_or(|f| name.to_lowercase().contains(f.as_str()))
        })
        .map(str::to_owned)
        .collect())
}
