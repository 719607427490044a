//! `leadline ingest gitlab GROUP/PROJECT`: merge requests (with their first commit, files and
//! reviews: approvals and comments by others than the author), pipelines (an attempt per
//! retry, see [`attempts`]), deployments and CODEOWNERS, through GitLab's REST API v4 (gitlab.com or self-managed).
//!
//! Incremental: both listings are asked `updated_after` the newest update the last complete
//! run saw, newest first; each page is saved with the cursor that follows it, so a killed sync
//! resumes at the next page.

use leadline_core::events::{Build, Events, PullRequest, Review};
use leadline_core::model::Deployment;
use serde_json::Value;

use super::github::{Cursor, Listing, Synced, advance};
use super::{Client, Fetched, ForgeError, Sink};
use crate::webhook::{Doc, MappingError};

mod attempts;

const FORGE: &str = "gitlab";

/// `group/sub/project` as a path parameter.
fn project_id(path: &str) -> String {
    path.replace('/', "%2F")
}

pub async fn sync_project(
    client: &Client,
    project: &str,
    mut cursor: Cursor,
    sink: &mut impl Sink,
) -> Result<Synced, ForgeError> {
    let mut synced = Synced::default();
    let id = project_id(project);
    sync_code_owners(client, project, &id, &cursor, sink, &mut synced).await?;
    let after = |since: &Option<String>| {
        since
            .as_deref()
            .map(|s| format!("&updated_after={s}"))
            .unwrap_or_default()
    };
    let first = client.url(&format!(
        "/projects/{id}/merge_requests?state=all&order_by=updated_at&sort=desc&per_page=100{}",
        after(&cursor.pulls.since)
    ));
    let mut url = cursor.pulls.next.clone().unwrap_or(first);
    loop {
        synced.requests += 1;
        let Fetched::Page {
            body, next, total, ..
        } = client.get(&url, None, sink).await?
        else {
            break;
        };
        if let Some(total) = total.filter(|_| synced.pull_requests == 0) {
            sink.total("merge requests", total);
        }
        let mut events = Events::default();
        for mr in list(&body, &url)? {
            let updated = mr.get("updated_at").and_then(Value::as_str).unwrap_or("");
            cursor.pulls.see(updated);
            merge_request(client, project, &id, mr, &mut events, sink, &mut synced).await?;
            sink.progress("merge requests", synced.pull_requests);
        }
        if !advance(&mut cursor, Listing::Pulls, next, &mut url, events, sink).await? {
            break;
        }
    }
    let first = client.url(&format!(
        "/projects/{id}/pipelines?order_by=updated_at&sort=desc&per_page=100{}",
        after(&cursor.runs.since)
    ));
    let mut url = cursor.runs.next.clone().unwrap_or(first);
    loop {
        synced.requests += 1;
        let Fetched::Page { body, next, .. } = client.get(&url, None, sink).await? else {
            break;
        };
        let mut events = Events::default();
        for listed in list(&body, &url)? {
            let updated = listed
                .get("updated_at")
                .and_then(Value::as_str)
                .unwrap_or("");
            cursor.runs.see(updated);
            let pid = listed.get("id").and_then(Value::as_i64).unwrap_or(0);
            synced.requests += 1;
            let detail = match client
                .get(
                    &client.url(&format!("/projects/{id}/pipelines/{pid}")),
                    None,
                    sink,
                )
                .await?
            {
                Fetched::Page { body, .. } => body,
                Fetched::NotModified => listed.clone(),
            };
            let jobs = fetch(
                client,
                &client.url(&format!(
                    "/projects/{id}/pipelines/{pid}/jobs?include_retried=true&per_page=100"
                )),
                sink,
                &mut synced,
            )
            .await?;
            let tried = attempts::attempts(pipeline(&detail, project)?, &jobs)?;
            synced.builds += tried.len() as u64;
            events.builds.extend(tried);
            sink.progress("pipelines", synced.builds);
        }
        if !advance(&mut cursor, Listing::Runs, next, &mut url, events, sink).await? {
            break;
        }
    }
    sync_deployments(client, project, &id, &mut cursor, sink, &mut synced).await?;
    Ok(synced)
}

/// Deployments, updated since the last complete run, as the Deployment Hook maps them.
async fn sync_deployments(
    client: &Client,
    project: &str,
    id: &str,
    cursor: &mut Cursor,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<(), ForgeError> {
    let name = project.rsplit('/').next().unwrap_or(project);
    let updated = cursor
        .deployments
        .since
        .as_deref()
        .map(|s| format!("&updated_after={s}"))
        .unwrap_or_default();
    let first = client.url(&format!(
        "/projects/{id}/deployments?order_by=updated_at&sort=desc&per_page=100{updated}"
    ));
    let mut url = cursor.deployments.next.clone().unwrap_or(first);
    loop {
        synced.requests += 1;
        let Fetched::Page { body, next, .. } = client.get(&url, None, sink).await? else {
            return Ok(());
        };
        let mut events = Events::default();
        for d in list(&body, &url)? {
            let doc = Doc(d);
            cursor.deployments.see(doc.get("updated_at").str()?);
            let status = match doc.get("status").str()? {
                "success" => "success",
                "failed" => "failure",
                "created" => "pending",
                "running" => "in_progress",
                other => other,
            };
            let created_at = doc.get("created_at").time()?;
            events.deployments.push(Deployment {
                id: doc.get("id").id()?,
                service: name.to_owned(),
                environment: doc.get("environment.name").str()?.to_owned(),
                sha: doc.get("sha").str()?.to_owned(),
                started_at: Some(created_at),
                // The documented entity has no finish time of its own: its deploy job's is it.
                // Until that finishes, the latest update stands in (as for webhook progress).
                finished_at: match time(&doc, "deployable.finished_at")? {
                    Some(at) => at,
                    None => match time(&doc, "finished_at")? {
                        Some(at) => at,
                        None => doc.get("updated_at").time()?,
                    },
                },
                status: status.to_owned(),
                repo: Some(name.to_owned()),
            });
            synced.deployments += 1;
            sink.progress("deployments", synced.deployments);
        }
        if !advance(cursor, Listing::Deployments, next, &mut url, events, sink).await? {
            return Ok(());
        }
    }
}

fn list<'a>(body: &'a Value, url: &str) -> Result<&'a [Value], ForgeError> {
    body.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| ForgeError::Body {
            url: url.to_owned(),
            message: "expected an array".into(),
        })
}

/// Commits pushed after the first review, from GitLab's system notes ("added 3 commits"):
/// commit dates cannot tell, since a rebase rewrites every one of them. `None` without a
/// review.
fn pushed_after(first_review: Option<i64>, notes: &[Value]) -> Option<i64> {
    let reviewed = first_review?;
    let pushed = notes
        .iter()
        .filter(|n| n.get("system").and_then(Value::as_bool).unwrap_or(false))
        .filter(|n| {
            n.get("created_at")
                .and_then(Value::as_str)
                .and_then(crate::webhook::parse_time)
                .is_some_and(|at| at > reviewed)
        })
        .filter_map(|n| {
            let body = n.get("body")?.as_str()?;
            let count = body.strip_prefix("added ")?.split_whitespace().next()?;
            let word = body.strip_prefix("added ")?.split_whitespace().nth(1)?;
            word.starts_with("commit")
                .then(|| count.parse::<i64>().ok())?
        })
        .sum();
    Some(pushed)
}

/// When a draft merge request was first marked ready, from GitLab's system notes: "marked this
/// merge request as **ready**" (GitLab 14 on), "unmarked as a **Work In Progress**" or
/// "unmarked as a **Draft**" (older). `None` when it never was.
fn marked_ready(notes: &[Value]) -> Option<i64> {
    const READY: [&str; 3] = [
        "marked this merge request as **ready**",
        "unmarked as a **work in progress**",
        "unmarked as a **draft**",
    ];
    notes
        .iter()
        .filter(|n| n.get("system").and_then(Value::as_bool).unwrap_or(false))
        .filter(|n| {
            n.get("body")
                .and_then(Value::as_str)
                .is_some_and(|b| READY.iter().any(|r| b.to_lowercase().starts_with(r)))
        })
        .filter_map(|n| crate::webhook::parse_time(n.get("created_at")?.as_str()?))
        .min()
}

/// Lines added and deleted over a merge request's diffs, counted from their hunks; `None` when
/// GitLab left a diff out (`too_large` or `collapsed` with no text), since the count would be
/// short.
fn lines_changed(diffs: &[Value]) -> Option<(i64, i64)> {
    let (mut added, mut deleted) = (0, 0);
    for d in diffs {
        let text = d.get("diff").and_then(Value::as_str).unwrap_or("");
        let flagged = |k: &str| d.get(k).and_then(Value::as_bool).unwrap_or(false);
        if (flagged("too_large") || flagged("collapsed")) && text.is_empty() {
            return None;
        }
        let mut in_hunk = false;
        for line in text.lines() {
            if line.starts_with("@@") {
                in_hunk = true;
            } else if in_hunk && line.starts_with('+') {
                added += 1;
            } else if in_hunk && line.starts_with('-') {
                deleted += 1;
            }
        }
    }
    Some((added, deleted))
}

fn time(doc: &Doc<'_>, path: &'static str) -> Result<Option<i64>, MappingError> {
    doc.get(path).opt_time()
}

async fn merge_request(
    client: &Client,
    project: &str,
    id: &str,
    mr: &Value,
    events: &mut Events,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<(), ForgeError> {
    let doc = Doc(mr);
    let iid = doc.get("iid").int()?;
    let state = match doc.get("state").str()? {
        "opened" | "locked" => "open",
        "merged" => "merged",
        _ => "closed",
    };
    let author = doc.get("author.username").str()?.to_owned();
    let base = format!("/projects/{id}/merge_requests/{iid}");
    let commits = fetch(
        client,
        &client.url(&format!("{base}/commits?per_page=100")),
        sink,
        synced,
    )
    .await?;
    let first_commit_at = commits
        .iter()
        .filter_map(|c| {
            let at = c
                .get("authored_date")
                .or_else(|| c.get("created_at"))?
                .as_str()?;
            crate::webhook::parse_time(at)
        })
        .min();
    // The files it changes (which decide its team when its author is in none).
    let diffs = fetch(
        client,
        &client.url(&format!("{base}/diffs?per_page=100")),
        sink,
        synced,
    )
    .await?;
    events
        .pull_request_files
        .push(leadline_core::events::PullRequestFiles {
            forge: FORGE.into(),
            repo: project.to_owned(),
            number: iid,
            paths: diffs
                .iter()
                .filter_map(|d| d.get("new_path")?.as_str().map(str::to_owned))
                .collect(),
        });
    let size = lines_changed(&diffs);
    let notes = fetch(
        client,
        &client.url(&format!(
            "{base}/notes?sort=asc&order_by=created_at&per_page=100"
        )),
        sink,
        synced,
    )
    .await?;
    for note in &notes {
        let n = Doc(note);
        let reviewer = n.get("author.username").str()?;
        if reviewer == author {
            continue;
        }
        let system = n.get("system").bool()?;
        let body = n.get("body").opt_str()?.unwrap_or("");
        let state = match (system, body) {
            (true, b) if b.starts_with("approved this merge request") => "approved",
            (true, _) => continue,
            (false, _) => "commented",
        };
        events.reviews.push(Review {
            forge: FORGE.into(),
            repo: project.to_owned(),
            number: iid,
            id: n.get("id").id()?,
            reviewer: reviewer.to_owned(),
            state: state.into(),
            submitted_at: n.get("created_at").time()?,
            comments: None,
        });
        synced.reviews += 1;
    }
    // Rework: commits written after the first review by someone other than the author.
    let first_review = events
        .reviews
        .iter()
        .filter(|r| r.number == iid && r.repo == project)
        .map(|r| r.submitted_at)
        .min();
    let rework = pushed_after(first_review, &notes);
    let ready_at = marked_ready(&notes);
    let merged_at = time(&doc, "merged_at")?;
    events.pull_requests.push(PullRequest {
        forge: FORGE.into(),
        repo: project.to_owned(),
        number: iid,
        title: doc.get("title").str()?.to_owned(),
        author,
        state: state.into(),
        draft: doc.get("draft").bool()? || doc.get("work_in_progress").bool()?,
        created_at: doc.get("created_at").time()?,
        first_commit_at,
        rework_commits: rework,
        ready_at,
        updated_at: doc.get("updated_at").time()?,
        merged_at,
        closed_at: time(&doc, "closed_at")?.or(merged_at),
        base_ref: doc.get("target_branch").str()?.to_owned(),
        head_sha: doc.get("sha").opt_str()?.unwrap_or("").to_owned(),
        merge_sha: match merged_at {
            Some(_) => doc
                .get("merge_commit_sha")
                .opt_str()?
                .or(doc.get("squash_commit_sha").opt_str()?)
                .map(str::to_owned),
            None => None,
        },
        additions: size.map(|(a, _)| a),
        deletions: size.map(|(_, d)| d),
        // Every diff was fetched: count them (the list's `changes_count` is absent, and the
        // detail's is a string that stops at "1000+").
        changed_files: Some(diffs.len() as i64),
        commits: Some(commits.len() as i64),
        labels: doc
            .get("labels")
            .array()?
            .iter()
            .filter_map(|l| l.as_str().map(str::to_owned))
            .collect(),
        review_requests: doc
            .get("reviewers")
            .array()?
            .iter()
            .filter_map(|r| r.get("username")?.as_str().map(str::to_owned))
            .collect(),
        actions: crate::webhook::named_actions(
            doc.get("title").str()?,
            doc.get("description").opt_str()?,
        ),
        issue_keys: crate::webhook::named_issue_keys(
            doc.get("title").str()?,
            doc.get("description").opt_str()?,
            doc.get("source_branch").opt_str()?.unwrap_or(""),
        ),
    });
    synced.pull_requests += 1;
    Ok(())
}

async fn fetch(
    client: &Client,
    url: &str,
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
        out.extend(list(&body, &url)?.iter().cloned());
        match next {
            Some(n) => url = n,
            None => return Ok(out),
        }
    }
}

fn pipeline(p: &Value, project: &str) -> Result<Build, ForgeError> {
    let doc = Doc(p);
    let status = match doc.get("status").str()? {
        "failed" => "failure",
        "canceled" => "cancelled",
        other => other,
    };
    let created_at = doc.get("created_at").time()?;
    let finished_at = time(&doc, "finished_at")?;
    Ok(Build {
        id: format!("pipeline-{}", doc.get("id").id()?),
        repo: project.to_owned(),
        pipeline: doc.get("name").opt_str()?.unwrap_or("pipeline").to_owned(),
        sha: doc.get("sha").str()?.to_owned(),
        branch: doc.get("ref").opt_str()?.map(str::to_owned),
        attempt: 1,
        status: status.to_owned(),
        created_at,
        started_at: time(&doc, "started_at")?,
        finished_at,
        updated_at: time(&doc, "updated_at")?.unwrap_or(created_at),
    })
}

/// Where GitLab looks for CODEOWNERS, in its order.
const CODEOWNERS_PATHS: [&str; 3] = ["CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"];

/// The project's CODEOWNERS rules at HEAD (none when it has no such file), stored whole.
async fn sync_code_owners(
    client: &Client,
    project: &str,
    id: &str,
    cursor: &Cursor,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<(), ForgeError> {
    let urls: Vec<String> = CODEOWNERS_PATHS
        .iter()
        .map(|path| {
            client.url(&format!(
                "/projects/{id}/repository/files/{}?ref=HEAD",
                project_id(path).replace('.', "%2E")
            ))
        })
        .collect();
    let rules = super::code_owners(client, &urls, sink, synced).await?;
    let events = Events {
        code_owners: vec![leadline_core::events::CodeOwnersFile {
            forge: FORGE.into(),
            repo: project.to_owned(),
            rules,
        }],
        ..Events::default()
    };
    let text = serde_json::to_string(cursor).map_err(|e| ForgeError::Sink(e.to_string()))?;
    sink.save(events, &text).await.map_err(ForgeError::Sink)
}

/// The projects of a group and its subgroups (not archived), `filter` a case-insensitive
/// substring of their path; paged, so large groups list in a few requests.
pub async fn list_projects(
    client: &Client,
    group: &str,
    filter: Option<&str>,
    sink: &mut impl Sink,
) -> Result<Vec<String>, ForgeError> {
    let mut synced = Synced::default();
    let url = client.url(&format!(
        "/groups/{}/projects?include_subgroups=true&archived=false&per_page=100",
        project_id(group)
    ));
    let projects = fetch(client, &url, sink, &mut synced).await?;
    let filter = filter.map(str::to_lowercase);
    Ok(projects
        .iter()
        .filter_map(|p| p.get("path_with_namespace")?.as_str())
        .filter(|path| {
            filter
                .as_ref()
                .is_none_or(|f| path.to_lowercase().contains(f.as_str()))
        })
        .map(str::to_owned)
        .collect())
}
