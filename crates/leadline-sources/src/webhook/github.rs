//! GitHub webhooks: signature check and the mapping of the events leadline tracks.
//!
//! | event | maps to |
//! |---|---|
//! | `deployment_status` | a deployment, id = GitHub's deployment id; `error` is `failure`, `inactive` is ignored |
//! | `deployment` (created) | the deployment, `pending` until a status finishes it |
//! | `push` to the default branch | pushed commits (metadata; file statistics come from git ingest) |
//! | `pull_request` | the pull request as last seen; `ready_for_review` also dates when a draft became ready |
//! | `pull_request_review` (submitted, dismissed) | a review |
//! | `workflow_run` | a build, one per run attempt |
//! | `release` (published), when `releases_are_deployments` | a deployment of the released commit |
//! | `issues` carrying the incident label | an incident, id = `owner/repo#number` |
//! | `ping` and anything else | nothing (recorded as ignored) |

use hmac::{Hmac, Mac};
use leadline_core::events::{Build, Events, PullRequest, Review};
use leadline_core::model::{Deployment, Incident, Millis};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{Doc, Mapped, Mapping, MappingError, is_full_sha, parse, push_commits};

const FORGE: &str = "github";

/// How deliveries are interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Issues with this label are incidents.
    pub incident_label: String,
    /// Published releases count as production deployments.
    pub releases_are_deployments: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            incident_label: "incident".into(),
            releases_are_deployments: false,
        }
    }
}

/// Checks `X-Hub-Signature-256` (`sha256=<hex>`): HMAC-SHA256 of the exact body bytes under
/// `secret`, compared in constant time.
pub fn signature_is_valid(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_digest) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_digest) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    given.len() == expected.len() && bool::from(expected.as_slice().ct_eq(&given))
}

/// The `X-GitHub-Event` values [`map`] reads (any other is recorded as ignored).
pub const EVENTS: &[&str] = &[
    "deployment_status",
    "deployment",
    "push",
    "pull_request",
    "pull_request_review",
    "workflow_run",
    "release",
    "issues",
    "ping",
];

/// Maps one delivery (`X-GitHub-Event` and body) received at `received_at`.
pub fn map(event: &str, body: &[u8], received_at: Millis, options: &Options) -> Mapped {
    map_value(event, &parse(body)?, received_at, options)
}

/// Maps a parsed payload. The REST API returns the objects webhooks carry, so connectors map
/// them here too, wrapped as the event would carry them.
pub(crate) fn map_value(
    event: &str,
    value: &Value,
    received_at: Millis,
    options: &Options,
) -> Mapped {
    let doc = Doc(value);
    match event {
        "deployment_status" => deployment_status(&doc),
        "deployment" => deployment_created(&doc),
        "push" => push(&doc, received_at),
        "pull_request" => pull_request(&doc),
        "pull_request_review" => review(&doc),
        "workflow_run" => workflow_run(&doc),
        "release" => release(&doc, options),
        "issues" => issue(&doc, options),
        "ping" => Ok(Mapping::ignored("ping")),
        other => Ok(Mapping::ignored(format!("event {other:?} is not tracked"))),
    }
}

fn deployment_status(doc: &Doc<'_>) -> Mapped {
    let status = match doc.get("deployment_status.state").str()? {
        "success" => "success",
        "failure" | "error" => "failure",
        "queued" => "queued",
        "pending" => "pending",
        "in_progress" => "in_progress",
        other => {
            // `inactive`: GitHub retires a deployment a later one replaced; it stays as it was.
            return Ok(Mapping::ignored(format!("deployment status {other:?}")));
        }
    };
    let environment = match doc.get("deployment_status.environment").opt_str()? {
        Some(e) if !e.is_empty() => e,
        _ => doc.get("deployment.environment").str()?,
    };
    deployment(
        doc,
        status,
        environment,
        doc.get("deployment_status.created_at").time()?,
    )
}

/// A deployment just created: pending until its statuses say more.
fn deployment_created(doc: &Doc<'_>) -> Mapped {
    deployment(
        doc,
        "pending",
        doc.get("deployment.environment").str()?,
        doc.get("deployment.created_at").time()?,
    )
}

/// The deployment with `status` as of `at`; until it succeeds or fails, `finished_at` holds the
/// time of its latest status (only successful deployments count in metrics).
fn deployment(doc: &Doc<'_>, status: &str, environment: &str, at: Millis) -> Mapped {
    let repo = doc.get("repository.name").str()?;
    let sha = doc.get("deployment.sha").str()?;
    if !is_full_sha(sha) {
        return Err(MappingError::new("deployment.sha", "expected a commit id"));
    }
    Ok(Mapping::stored(Events {
        deployments: vec![Deployment {
            id: doc.get("deployment.id").id()?,
            service: repo.to_owned(),
            environment: environment.to_owned(),
            sha: sha.to_owned(),
            started_at: doc.get("deployment.created_at").opt_time()?,
            finished_at: at,
            status: status.to_owned(),
            repo: Some(repo.to_owned()),
        }],
        ..Events::default()
    }))
}

fn push(doc: &Doc<'_>, received_at: Millis) -> Mapped {
    let ref_name = doc.get("ref").str()?;
    let default = doc.get("repository.default_branch").str()?;
    if ref_name != format!("refs/heads/{default}") {
        return Ok(Mapping::ignored(format!(
            "push to {ref_name}, not the default branch"
        )));
    }
    if doc.get("deleted").bool()? {
        return Ok(Mapping::ignored("the push deleted the branch"));
    }
    let repo = doc.get("repository.full_name").str()?;
    push_commits(doc, FORGE, repo, ref_name, received_at)
}

fn labels(items: &[Value], path: &str) -> Result<Vec<String>, MappingError> {
    items
        .iter()
        .map(|l| {
            Doc(l)
                .get("name")
                .str()
                .map(str::to_owned)
                .map_err(|e| MappingError::new(&format!("{path}.{}", e.field), e.message))
        })
        .collect()
}

/// Who a pull request asks to review: people's logins and `team:<slug>` for teams.
fn requested(doc: &Doc<'_>) -> Result<Vec<String>, MappingError> {
    let mut out = Vec::new();
    for (i, r) in doc
        .get("pull_request.requested_reviewers")
        .array()?
        .iter()
        .enumerate()
    {
        let login = Doc(r).get("login").str().map_err(|e| {
            MappingError::new(
                &format!("pull_request.requested_reviewers.{i}.{}", e.field),
                e.message.clone(),
            )
        })?;
        out.push(login.to_owned());
    }
    for (i, t) in doc
        .get("pull_request.requested_teams")
        .array()?
        .iter()
        .enumerate()
    {
        let slug = Doc(t).get("slug").str().map_err(|e| {
            MappingError::new(
                &format!("pull_request.requested_teams.{i}.{}", e.field),
                e.message.clone(),
            )
        })?;
        out.push(format!("team:{slug}"));
    }
    Ok(out)
}

fn pull_request(doc: &Doc<'_>) -> Mapped {
    let pr = |field: &'static str| doc.get(field);
    let merged_at = pr("pull_request.merged_at").opt_time()?;
    let state = match (merged_at, pr("pull_request.state").str()?) {
        (Some(_), _) => "merged",
        (None, "open") => "open",
        (None, _) => "closed",
    };
    let updated_at = pr("pull_request.updated_at").time()?;
    // Marking a draft ready updates the pull request: that moment is its `updated_at`.
    let ready_at = match doc.get("action").opt_str()? {
        Some("ready_for_review") => Some(updated_at),
        _ => None,
    };
    Ok(Mapping::stored(Events {
        pull_requests: vec![PullRequest {
            forge: FORGE.into(),
            repo: doc.get("repository.full_name").str()?.to_owned(),
            number: pr("pull_request.number").int()?,
            title: pr("pull_request.title").str()?.to_owned(),
            author: pr("pull_request.user.login").str()?.to_owned(),
            state: state.into(),
            draft: pr("pull_request.draft").bool()?,
            created_at: pr("pull_request.created_at").time()?,
            first_commit_at: None,
            rework_commits: None,
            ready_at,
            updated_at,
            merged_at,
            closed_at: pr("pull_request.closed_at").opt_time()?,
            base_ref: pr("pull_request.base.ref").str()?.to_owned(),
            head_sha: pr("pull_request.head.sha").str()?.to_owned(),
            merge_sha: match merged_at {
                Some(_) => pr("pull_request.merge_commit_sha")
                    .opt_str()?
                    .map(str::to_owned),
                None => None,
            },
            additions: pr("pull_request.additions").opt_int()?,
            deletions: pr("pull_request.deletions").opt_int()?,
            changed_files: pr("pull_request.changed_files").opt_int()?,
            commits: pr("pull_request.commits").opt_int()?,
            labels: labels(pr("pull_request.labels").array()?, "pull_request.labels")?,
            review_requests: requested(doc)?,
            actions: super::named_actions(
                pr("pull_request.title").str()?,
                pr("pull_request.body").opt_str()?,
            ),
            issue_keys: super::named_issue_keys(
                pr("pull_request.title").str()?,
                pr("pull_request.body").opt_str()?,
                pr("pull_request.head.ref").opt_str()?.unwrap_or(""),
            ),
        }],
        ..Events::default()
    }))
}

fn review(doc: &Doc<'_>) -> Mapped {
    let Some(submitted_at) = doc.get("review.submitted_at").opt_time()? else {
        return Ok(Mapping::ignored("a pending review"));
    };
    Ok(Mapping::stored(Events {
        reviews: vec![Review {
            forge: FORGE.into(),
            repo: doc.get("repository.full_name").str()?.to_owned(),
            number: doc.get("pull_request.number").int()?,
            id: doc.get("review.id").id()?,
            reviewer: doc.get("review.user.login").str()?.to_owned(),
            state: doc.get("review.state").str()?.to_ascii_lowercase(),
            submitted_at,
            comments: None,
        }],
        ..Events::default()
    }))
}

fn workflow_run(doc: &Doc<'_>) -> Mapped {
    let run = |field: &'static str| doc.get(field);
    let id = run("workflow_run.id").id()?;
    let attempt = run("workflow_run.run_attempt").opt_int()?.unwrap_or(1);
    let completed = run("workflow_run.status").str()? == "completed";
    let status = if completed {
        run("workflow_run.conclusion").str()?
    } else {
        run("workflow_run.status").str()?
    };
    let updated_at = run("workflow_run.updated_at").time()?;
    let pipeline = match run("workflow_run.name").opt_str()? {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => match run("workflow_run.path").opt_str()? {
            Some(path) if !path.is_empty() => path.to_owned(),
            _ => format!("workflow {}", run("workflow_run.workflow_id").id()?),
        },
    };
    Ok(Mapping::stored(Events {
        builds: vec![Build {
            id: format!("{id}/{attempt}"),
            repo: doc.get("repository.full_name").str()?.to_owned(),
            pipeline,
            sha: run("workflow_run.head_sha").str()?.to_owned(),
            branch: run("workflow_run.head_branch")
                .opt_str()?
                .map(str::to_owned),
            attempt,
            status: status.to_owned(),
            created_at: run("workflow_run.created_at").time()?,
            started_at: run("workflow_run.run_started_at").opt_time()?,
            finished_at: completed.then_some(updated_at),
            updated_at,
        }],
        ..Events::default()
    }))
}

fn release(doc: &Doc<'_>, options: &Options) -> Mapped {
    if !options.releases_are_deployments {
        return Ok(Mapping::ignored(
            "releases are not deployments here (set [github] releases_are_deployments)",
        ));
    }
    let action = doc.get("action").str()?;
    if action != "published" {
        return Ok(Mapping::ignored(format!("release {action}")));
    }
    if doc.get("release.prerelease").bool()? {
        return Ok(Mapping::ignored("a prerelease"));
    }
    let tag = doc.get("release.tag_name").str()?;
    let target = doc.get("release.target_commitish").str()?;
    if !is_full_sha(target) {
        return Ok(Mapping::ignored(format!(
            "release {tag} targets {target:?}, not a commit id; release tags are found by `leadline ingest`"
        )));
    }
    let repo = doc.get("repository.name").str()?;
    Ok(Mapping::stored(Events {
        deployments: vec![Deployment {
            id: format!("release-{}", doc.get("release.id").id()?),
            service: repo.to_owned(),
            environment: "production".into(),
            sha: target.to_owned(),
            started_at: None,
            finished_at: doc.get("release.published_at").time()?,
            status: "success".into(),
            repo: Some(repo.to_owned()),
        }],
        ..Events::default()
    }))
}

fn issue(doc: &Doc<'_>, options: &Options) -> Mapped {
    let action = doc.get("action").str()?;
    let labels = labels(doc.get("issue.labels").array()?, "issue.labels")?;
    if !labels.iter().any(|l| l == &options.incident_label) {
        return Ok(Mapping::ignored(format!(
            "issue without the {:?} label",
            options.incident_label
        )));
    }
    if action == "deleted" {
        return Ok(Mapping::ignored("a deleted issue; the incident stays"));
    }
    let open = doc.get("issue.state").str()? == "open";
    // `severity:high`, `sev1`, `sev-2`: the first label naming a severity.
    let severity = labels.iter().find_map(|l| {
        let lower = l.to_ascii_lowercase();
        lower
            .strip_prefix("severity:")
            .map(|s| s.trim().to_owned())
            .or_else(|| lower.starts_with("sev").then(|| l.clone()))
    });
    Ok(Mapping::stored(Events {
        incidents: vec![Incident {
            id: format!(
                "{}#{}",
                doc.get("repository.full_name").str()?,
                doc.get("issue.number").int()?
            ),
            service: doc.get("repository.name").str()?.to_owned(),
            opened_at: doc.get("issue.created_at").time()?,
            resolved_at: if open {
                None
            } else {
                doc.get("issue.closed_at").opt_time()?
            },
            severity,
            title: doc.get("issue.title").opt_str()?.map(str::to_owned),
            cause_deployment: None,
            cause_sha: None,
            postmortem_url: None,
            fix_deployment: None,
            fix_sha: None,
            ..Incident::default()
        }],
        ..Events::default()
    }))
}
