//! A GitLab pipeline's attempts, from its jobs with the retried ones included
//! (`GET /projects/:id/pipelines/:pid/jobs?include_retried=true`; without the flag GitLab
//! omits every job that was retried, so every pipeline would look like one clean attempt).
//!
//! GitLab has no run attempts as GitHub does: a retry replaces one job. A job's *try* is its
//! place among the jobs of its name (by id); attempt *n* of the pipeline holds the n-th tries
//! (see "Builds" in docs/metrics.md):
//! - attempt 1 is the pipeline's own start: created and started with the pipeline;
//! - attempt n ≥ 2 was created when its first n-th try was (a retry has a creation time of its
//!   own, so its queue time is its own) and started with its first n-th try;
//! - every attempt but the last ends with the verdict of its tries that were retried (a failed
//!   one that is not `allow_failure` makes it a failure, else a cancelled one makes it
//!   cancelled, else a success), at the latest finish among them; the last attempt ends as the
//!   pipeline did.
//!
//! So a pipeline whose failed job was retried and passed is two attempts, a failure then a
//! success on the same commit: a flaky run. Each attempt's duration leaves out the wait before
//! the retry.

use std::collections::BTreeMap;

use leadline_core::events::Build;
use serde_json::Value;

use crate::webhook::{Doc, MappingError};

/// One job as the attempts need it.
struct Job {
    id: i64,
    name: String,
    status: String,
    allow_failure: bool,
    created_at: Option<i64>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

impl Job {
    fn parse(v: &Value) -> Result<Job, MappingError> {
        let doc = Doc(v);
        Ok(Job {
            id: doc.get("id").int()?,
            name: doc.get("name").str()?.to_owned(),
            status: doc.get("status").str()?.to_owned(),
            allow_failure: doc.get("allow_failure").bool()?,
            created_at: doc.get("created_at").opt_time()?,
            started_at: doc.get("started_at").opt_time()?,
            finished_at: doc.get("finished_at").opt_time()?,
        })
    }
}

/// The attempts of `pipeline` (the pipeline as mapped, attempt 1) given its `jobs`, retried
/// ones included. Without a retry it is the pipeline alone. Every attempt carries the
/// pipeline's `updated_at`: the connector's reading of a pipeline replaces an older one.
pub(super) fn attempts(pipeline: Build, jobs: &[Value]) -> Result<Vec<Build>, MappingError> {
    let jobs = jobs
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Job::parse(v)
                .map_err(|e| MappingError::new(&format!("jobs.{i}.{}", e.field), e.message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // tries[n] = the (n+1)-th tries, with whether each was retried.
    let mut by_name: BTreeMap<&str, Vec<&Job>> = BTreeMap::new();
    for job in &jobs {
        by_name.entry(job.name.as_str()).or_default().push(job);
    }
    let mut tries: Vec<Vec<(&Job, bool)>> = Vec::new();
    for named in by_name.values_mut() {
        named.sort_by_key(|j| j.id);
        for (n, job) in named.iter().enumerate() {
            if tries.len() <= n {
                tries.resize_with(n + 1, Vec::new);
            }
            tries[n].push((job, n + 1 < named.len()));
        }
    }
    if tries.len() <= 1 {
        return Ok(vec![pipeline]);
    }
    let last = tries.len() - 1;
    let mut out = Vec::with_capacity(tries.len());
    for (n, these) in tries.iter().enumerate() {
        let mut attempt = pipeline.clone();
        attempt.attempt = n as i64 + 1;
        if n > 0 {
            attempt.id = format!("{}/{}", pipeline.id, n + 1);
            attempt.created_at = these
                .iter()
                .filter_map(|(j, _)| j.created_at)
                .min()
                .unwrap_or(pipeline.created_at);
            attempt.started_at = these.iter().filter_map(|(j, _)| j.started_at).min();
        }
        if n < last {
            let retried: Vec<&Job> = these.iter().filter(|(_, r)| *r).map(|(j, _)| *j).collect();
            attempt.status = verdict(&retried).to_owned();
            attempt.finished_at = retried.iter().filter_map(|j| j.finished_at).max();
        }
        out.push(attempt);
    }
    Ok(out)
}

/// What the retried tries of one attempt said, in the statuses builds are stored with.
fn verdict(retried: &[&Job]) -> &'static str {
    if retried
        .iter()
        .any(|j| j.status == "failed" && !j.allow_failure)
    {
        "failure"
    } else if retried.iter().any(|j| j.status == "canceled") {
        "cancelled"
    } else {
        "success"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const H: i64 = 3_600_000;

    fn at(hours: f64) -> String {
        let ms = (hours * H as f64) as i64;
        jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
    }

    fn job(id: i64, name: &str, status: &str, created: f64, started: f64, finished: f64) -> Value {
        json!({"id": id, "name": name, "stage": "test", "status": status, "allow_failure": false,
               "created_at": at(created), "started_at": at(started), "finished_at": at(finished)})
    }

    fn pipeline() -> Build {
        Build {
            id: "pipeline-9".into(),
            repo: "grp/app".into(),
            pipeline: "pipeline".into(),
            sha: "abc".into(),
            branch: Some("main".into()),
            attempt: 1,
            status: "success".into(),
            created_at: 0,
            started_at: Some(H / 60),
            finished_at: Some(30 * H),
            updated_at: 30 * H,
        }
    }

    /// docs/metrics.md, "Builds", GitLab: `test` failed, was retried (failed again) and
    /// retried once more (passed); `lint` passed at once.
    #[test]
    fn worked_example_each_retry_is_an_attempt() {
        let jobs = [
            job(1, "lint", "success", 0.0, 0.1, 0.5),
            job(2, "test", "failed", 0.0, 0.1, 1.0),
            job(3, "test", "failed", 5.0, 5.5, 6.0),
            job(4, "test", "success", 20.0, 20.25, 21.0),
        ];
        let out = attempts(pipeline(), &jobs).unwrap();
        type Row<'a> = (&'a str, i64, &'a str, i64, Option<i64>, Option<i64>);
        let rows: Vec<Row<'_>> = out
            .iter()
            .map(|b| {
                (
                    b.id.as_str(),
                    b.attempt,
                    b.status.as_str(),
                    b.created_at,
                    b.started_at,
                    b.finished_at,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("pipeline-9", 1, "failure", 0, Some(H / 60), Some(H)),
                (
                    "pipeline-9/2",
                    2,
                    "failure",
                    5 * H,
                    Some(5 * H + H / 2),
                    Some(6 * H)
                ),
                (
                    "pipeline-9/3",
                    3,
                    "success",
                    20 * H,
                    Some(20 * H + H / 4),
                    Some(30 * H)
                ),
            ]
        );
        assert!(out.iter().all(|b| b.updated_at == 30 * H && b.sha == "abc"));
    }

    #[test]
    fn without_a_retry_the_pipeline_is_its_only_attempt() {
        let jobs = [
            job(1, "lint", "success", 0.0, 0.1, 0.5),
            job(2, "test", "failed", 0.0, 0.1, 1.0),
        ];
        assert_eq!(attempts(pipeline(), &jobs).unwrap(), vec![pipeline()]);
        assert_eq!(attempts(pipeline(), &[]).unwrap(), vec![pipeline()]);
    }

    #[test]
    fn retried_allowed_failures_and_cancellations_are_no_failures() {
        let mut allowed = job(1, "audit", "failed", 0.0, 0.1, 0.5);
        allowed["allow_failure"] = true.into();
        let jobs = [
            allowed,
            job(2, "audit", "success", 2.0, 2.1, 2.5),
            job(3, "deploy", "canceled", 0.0, 0.1, 0.2),
            job(4, "deploy", "success", 2.0, 2.1, 2.9),
        ];
        let out = attempts(pipeline(), &jobs).unwrap();
        assert_eq!(out[0].status, "cancelled");
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn a_job_without_its_fields_is_named() {
        let e = attempts(pipeline(), &[json!({"id": 1, "status": "failed"})]).unwrap_err();
        assert_eq!(e.field, "jobs.0.name");
    }
}
