//! GitLab webhooks: the secret token check and the mapping of the events leadline tracks.
//!
//! | `object_kind` (header `X-Gitlab-Event`) | maps to |
//! |---|---|
//! | `deployment` (Deployment Hook) | a deployment, id = GitLab's deployment id; `failed` is `failure` |
//! | `pipeline` (Pipeline Hook) | a build, id = `pipeline-<id>` |
//! | `merge_request` (Merge Request Hook) | the merge request as last seen; a draft flag changing to false dates when it became ready |
//! | `push` (Push Hook) to the default branch | pushed commits |
//! | anything else | nothing (recorded as ignored) |

use leadline_core::events::{Build, Events, PullRequest};
use leadline_core::model::{Deployment, Millis};
use subtle::ConstantTimeEq;

use super::{Doc, Mapped, Mapping, MappingError, is_full_sha, parse, push_commits};

const FORGE: &str = "gitlab";

/// Compares `X-Gitlab-Token` with the configured token in constant time.
pub fn token_is_valid(expected: &[u8], given: &[u8]) -> bool {
    expected.len() == given.len() && bool::from(expected.ct_eq(given))
}

/// Maps one delivery; the body's `object_kind` decides, the header only names it.
pub fn map(body: &[u8], received_at: Millis) -> Mapped {
    let value = parse(body)?;
    let doc = Doc(&value);
    match doc.get("object_kind").str()? {
        "deployment" => deployment(&doc),
        "pipeline" => pipeline(&doc),
        "merge_request" => merge_request(&doc),
        "push" => push(&doc, received_at),
        other => Ok(Mapping::ignored(format!("event {other:?} is not tracked"))),
    }
}

fn deployment(doc: &Doc<'_>) -> Mapped {
    // Until it succeeds or fails, a deployment is kept with its progress (see the GitHub
    // mapping); `canceled` and `blocked` are kept as they are and never count.
    let status = match doc.get("status").str()? {
        "success" => "success",
        "failed" => "failure",
        "created" => "pending",
        "running" => "in_progress",
        other => other,
    };
    // The full id is the last segment of commit_url; short_sha is resolved against ingested
    // history when only it is given.
    let from_url = doc
        .get("commit_url")
        .opt_str()?
        .and_then(|url| url.rsplit('/').next())
        .filter(|s| is_full_sha(s));
    let sha = match from_url {
        Some(sha) => sha.to_owned(),
        None => doc.get("short_sha").str()?.to_owned(),
    };
    // The project's path (its last segment), as the connector and a clone's directory name it.
    let path = doc.get("project.path_with_namespace").str()?;
    let project = path.rsplit('/').next().unwrap_or(path);
    Ok(Mapping::stored(Events {
        deployments: vec![Deployment {
            id: doc.get("deployment_id").id()?,
            service: project.to_owned(),
            environment: doc.get("environment").str()?.to_owned(),
            sha,
            started_at: None,
            finished_at: doc.get("status_changed_at").time()?,
            status: status.to_owned(),
            repo: Some(project.to_owned()),
        }],
        ..Events::default()
    }))
}

fn pipeline(doc: &Doc<'_>) -> Mapped {
    let attrs = |field: &'static str| doc.get(field);
    let status = match attrs("object_attributes.status").str()? {
        "failed" => "failure",
        "canceled" => "cancelled",
        other => other,
    };
    let created_at = attrs("object_attributes.created_at").time()?;
    let finished_at = attrs("object_attributes.finished_at").opt_time()?;
    // queued_duration is in seconds; a pipeline starts when its first job leaves the queue.
    let queued = attrs("object_attributes.queued_duration");
    let started_at = match queued.opt_int()? {
        Some(q) if q < 0 => {
            return Err(MappingError::new(
                "object_attributes.queued_duration",
                "is negative",
            ));
        }
        Some(q) => {
            let at = q
                .checked_mul(1000)
                .and_then(|ms| created_at.checked_add(ms));
            let at = at.ok_or_else(|| {
                MappingError::new("object_attributes.queued_duration", "is out of range")
            })?;
            Some(queued.in_range(at)?)
        }
        None => None,
    };
    Ok(Mapping::stored(Events {
        builds: vec![Build {
            id: format!("pipeline-{}", attrs("object_attributes.id").id()?),
            repo: doc.get("project.path_with_namespace").str()?.to_owned(),
            pipeline: attrs("object_attributes.name")
                .opt_str()?
                .unwrap_or("pipeline")
                .to_owned(),
            sha: attrs("object_attributes.sha").str()?.to_owned(),
            branch: attrs("object_attributes.ref").opt_str()?.map(str::to_owned),
            attempt: 1,
            status: status.to_owned(),
            created_at,
            started_at,
            finished_at,
            updated_at: finished_at.unwrap_or(created_at),
        }],
        ..Events::default()
    }))
}

fn merge_request(doc: &Doc<'_>) -> Mapped {
    let attrs = |field: &'static str| doc.get(field);
    let state = match attrs("object_attributes.state").str()? {
        "opened" | "locked" => "open",
        "merged" => "merged",
        _ => "closed",
    };
    let updated_at = attrs("object_attributes.updated_at").time()?;
    // Hooks of older GitLab versions carry no merged_at/closed_at: the update that merged or
    // closed it is the best time there is.
    let merged_at = match state {
        "merged" => Some(
            attrs("object_attributes.merged_at")
                .opt_time()?
                .unwrap_or(updated_at),
        ),
        _ => None,
    };
    let closed_at = match state {
        "open" => None,
        _ => Some(
            attrs("object_attributes.closed_at")
                .opt_time()?
                .or(merged_at)
                .unwrap_or(updated_at),
        ),
    };
    let mut labels = Vec::new();
    for (i, label) in doc.get("labels").array()?.iter().enumerate() {
        let title = Doc(label).get("title").str().map_err(|e| {
            MappingError::new(&format!("labels.{i}.{}", e.field), e.message.clone())
        })?;
        labels.push(title.to_owned());
    }
    let draft = attrs("object_attributes.draft").bool()?
        || attrs("object_attributes.work_in_progress").bool()?;
    // A hook whose `changes` take the draft flag from true to false marks it ready (older
    // GitLab versions call the flag `work_in_progress`); that update is the moment.
    let became_ready = |flag: &'static str, previous: &'static str| -> Result<bool, MappingError> {
        Ok(doc.get(flag).exists() && doc.get(previous).bool()? && !doc.get(flag).bool()?)
    };
    let ready_at = (became_ready("changes.draft.current", "changes.draft.previous")?
        || became_ready(
            "changes.work_in_progress.current",
            "changes.work_in_progress.previous",
        )?)
    .then_some(updated_at);
    Ok(Mapping::stored(Events {
        pull_requests: vec![PullRequest {
            forge: FORGE.into(),
            repo: doc.get("project.path_with_namespace").str()?.to_owned(),
            number: attrs("object_attributes.iid").int()?,
            title: attrs("object_attributes.title").str()?.to_owned(),
            author: format!("gitlab-user-{}", attrs("object_attributes.author_id").id()?),
            state: state.into(),
            draft,
            created_at: attrs("object_attributes.created_at").time()?,
            first_commit_at: None,
            rework_commits: None,
            ready_at,
            updated_at,
            merged_at,
            closed_at,
            base_ref: attrs("object_attributes.target_branch").str()?.to_owned(),
            head_sha: attrs("object_attributes.last_commit.id").str()?.to_owned(),
            merge_sha: match merged_at {
                Some(_) => attrs("object_attributes.merge_commit_sha")
                    .opt_str()?
                    .map(str::to_owned),
                None => None,
            },
            additions: None,
            deletions: None,
            changed_files: None,
            commits: None,
            labels,
            review_requests: doc
                .get("reviewers")
                .array()?
                .iter()
                .filter_map(|r| r.get("username")?.as_str().map(str::to_owned))
                .collect(),
            actions: super::named_actions(
                attrs("object_attributes.title").str()?,
                attrs("object_attributes.description").opt_str()?,
            ),
            issue_keys: super::named_issue_keys(
                attrs("object_attributes.title").str()?,
                attrs("object_attributes.description").opt_str()?,
                attrs("object_attributes.source_branch")
                    .opt_str()?
                    .unwrap_or(""),
            ),
        }],
        ..Events::default()
    }))
}

fn push(doc: &Doc<'_>, received_at: Millis) -> Mapped {
    let ref_name = doc.get("ref").str()?;
    let default = doc.get("project.default_branch").str()?;
    if ref_name != format!("refs/heads/{default}") {
        return Ok(Mapping::ignored(format!(
            "push to {ref_name}, not the default branch"
        )));
    }
    let repo = doc.get("project.path_with_namespace").str()?;
    push_commits(doc, FORGE, repo, ref_name, received_at)
}
