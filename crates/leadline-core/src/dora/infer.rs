//! Deployments and incidents from git alone, for repositories with nothing imported
//! (see "Deployments" and "Change failure rate" in `docs/metrics.md`).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::{Attribution, GraphIndex};
use crate::model::{Deployment, Incident, Millis, Ref, RefKind};

/// How long after the reverted commit's first deployment a revert still means that deployment
/// failed (`failures.revert_max_age_days`, default 90 days).
pub const DEFAULT_REVERT_MAX_AGE: Millis = 90 * 24 * 3600 * 1000;

/// Release tags: `v1.2`, `1.2.3`, `v10.0.1`.
pub const DEFAULT_TAG_PATTERN: &str = r"^v?\d+\.\d+(\.\d+)?$";

/// Release tags with an optional prefix naming the service: `jq-1.7.1`, `api/v2.0`,
/// `@scope/pkg@1.2.3`. A constant pattern, so compiling it cannot fail.
pub const PREFIXED_TAG_PATTERN: &str = r"^(?:(?P<prefix>.+?)[-_/@])?v?\d+\.\d+(?:\.\d+)?$";

static PREFIXED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(PREFIXED_TAG_PATTERN).expect("a valid pattern"));

/// Words that mark a pre-release wherever they stand as a word of the tag (`beta-1.2`,
/// `rc/2.0`, `nightly-2024.05`).
static PRE_RELEASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^a-z0-9])(?:rc\d*|alpha\d*|beta\d*|pre|preview|prerelease|dev|snapshot|nightly|canary)(?:[^a-z0-9]|$)")
        .expect("a valid pattern")
});

/// `git revert`'s message; a constant pattern, so compiling it cannot fail.
static REVERT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"This reverts commit ([0-9a-fA-F]{7,64})").expect("a valid pattern")
});

fn deployment(service: &str, id: String, sha: &str, at: Millis) -> Deployment {
    Deployment {
        id,
        service: service.to_owned(),
        environment: "production".to_owned(),
        sha: sha.to_owned(),
        started_at: None,
        finished_at: at,
        status: "success".to_owned(),
        repo: Some(service.to_owned()),
    }
}

/// The deployments a repository's release tags give with no configuration, and the rule used
/// (for `basis`). A tag is a release when it matches [`PREFIXED_TAG_PATTERN`] and names no
/// pre-release. Unprefixed release tags, when there are any, are the repository's releases
/// alone; otherwise the prefixed ones are, each prefix naming a service (the repository's own
/// when the prefix is its name). Empty when no tag is a release.
pub fn from_release_tags(
    repository: &str,
    refs: &[Ref],
    graph: &GraphIndex<'_>,
) -> (Vec<Deployment>, String) {
    let own = repository.rsplit('/').next().unwrap_or(repository);
    let releases: Vec<(&Ref, Option<&str>)> = refs
        .iter()
        .filter(|r| r.kind == RefKind::Tag && !PRE_RELEASE.is_match(r.short_name()))
        .filter_map(|r| {
            let caps = PREFIXED.captures(r.short_name())?;
            Some((r, caps.name("prefix").map(|m| m.as_str())))
        })
        .collect();
    let unprefixed = releases.iter().any(|(_, prefix)| prefix.is_none());
    let mut services: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (r, prefix) in releases {
        let service = match (unprefixed, prefix) {
            (true, Some(_)) => continue,
            (_, None) => repository,
            (false, Some(p)) if p.eq_ignore_ascii_case(own) => repository,
            (false, Some(p)) => p,
        };
        let Some(at) = r
            .tagger_at
            .or_else(|| graph.get(r.commit.as_str()).map(|c| c.committed_at))
        else {
            continue;
        };
        let mut d = deployment(service, r.short_name().to_owned(), &r.commit, at);
        d.repo = Some(repository.to_owned());
        if !services.iter().any(|s| s == service) {
            services.push(service.to_owned());
        }
        out.push(d);
    }
    let basis = if unprefixed {
        format!(
            "{repository}: {} release tags matching {DEFAULT_TAG_PATTERN} (pre-releases left out)",
            out.len()
        )
    } else {
        format!(
            "{repository}: {} release tags matching {PREFIXED_TAG_PATTERN} (pre-releases left out), the prefix naming the service: {}",
            out.len(),
            services.join(", ")
        )
    };
    (out, basis)
}

/// One deployment per tag whose short name matches `pattern`, at the tagger time of an
/// annotated tag or else the tagged commit's committer time.
pub fn from_tags(
    service: &str,
    refs: &[Ref],
    graph: &GraphIndex<'_>,
    pattern: &Regex,
) -> Vec<Deployment> {
    refs.iter()
        .filter(|r| r.kind == RefKind::Tag && pattern.is_match(r.short_name()))
        .filter_map(|r| {
            let at = r
                .tagger_at
                .or_else(|| graph.get(r.commit.as_str()).map(|c| c.committed_at))?;
            Some(deployment(
                service,
                r.short_name().to_owned(),
                &r.commit,
                at,
            ))
        })
        .collect()
}

/// Continuous deployment: every first-parent commit of `head` is a deployment at its
/// committer time.
pub fn from_first_parents(service: &str, head: &str, graph: &GraphIndex<'_>) -> Vec<Deployment> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut next = Some(head);
    while let Some(sha) = next {
        let Some(node) = graph.get(sha) else { break };
        if !seen.insert(sha) {
            break;
        }
        out.push(deployment(service, sha.to_owned(), sha, node.committed_at));
        next = node.parents.first().map(String::as_str);
    }
    out
}

/// The sha a commit message says it reverts (`git revert`'s "This reverts commit <sha>").
pub fn reverted_sha(message: &str) -> Option<String> {
    REVERT.captures(message).map(|c| c[1].to_ascii_lowercase())
}

/// A commit that reverts another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revert {
    pub sha: String,
    pub committed_at: Millis,
    pub reverted: String,
}

/// Incidents from reverts, and the remediation commits (the reverts that made one).
///
/// A revert of a commit whose first deployment (of some service) finished at or before the
/// revert was committed makes an incident of that service, caused by that deployment, opened at
/// its `finished_at` and resolved when the revert's first deployment finished (open until then).
/// Reverts of commits never deployed are not failures.
/// Not every revert is a failure: a revert of a revert (git's "Reapply …") puts a change back,
/// and a revert committed more than `max_age` after the reverted commit's first deployment is
/// a change of direction (git/git reverts a 2008 commit in 2026); neither makes an incident or
/// rework.
pub fn revert_incidents(
    attribution: &Attribution,
    reverts: &[Revert],
    max_age: Millis,
) -> (Vec<Incident>, HashSet<String>) {
    let revert_shas: Vec<&str> = reverts.iter().map(|r| r.sha.as_str()).collect();
    let is_revert = |sha: &str| revert_shas.iter().any(|r| r.starts_with(sha));
    let services: Vec<&str> = {
        let mut s: Vec<&str> = attribution
            .deployments
            .iter()
            .map(|d| d.deployment.service.as_str())
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let mut incidents = Vec::new();
    let mut remediations = HashSet::new();
    for r in reverts.iter().filter(|r| !is_revert(&r.reverted)) {
        for &service in &services {
            let Some(cause) = first_carrying(attribution, service, &r.reverted) else {
                continue;
            };
            let deployed = cause.deployment.finished_at;
            if deployed > r.committed_at || r.committed_at - deployed > max_age {
                continue;
            }
            let resolved_at = attribution
                .first_deployment(service, &r.sha)
                .map(|d| d.deployment.finished_at);
            incidents.push(Incident {
                id: format!("revert-{}", &r.sha[..r.sha.len().min(12)]),
                service: service.to_owned(),
                opened_at: cause.deployment.finished_at,
                resolved_at,
                severity: None,
                title: Some(format!("revert of {}", r.reverted)),
                cause_deployment: Some(cause.deployment.id.clone()),
                cause_sha: None,
                postmortem_url: None,
                fix_deployment: None,
                fix_sha: None,
                ..Incident::default()
            });
            remediations.insert(r.sha.clone());
        }
    }
    incidents
        .sort_by(|a, b| (a.opened_at, &a.id, &a.service).cmp(&(b.opened_at, &b.id, &b.service)));
    (incidents, remediations)
}

/// The first deployment of `service` carrying `sha`, which may be abbreviated.
fn first_carrying<'a>(
    attribution: &'a Attribution,
    service: &str,
    sha: &str,
) -> Option<&'a super::AttributedDeployment> {
    if let Some(d) = attribution.first_deployment(service, sha) {
        return Some(d);
    }
    // An abbreviation (rare: git revert writes full shas) among the service's changes.
    let mut found = attribution
        .deployments
        .iter()
        .filter(|d| d.deployment.service == service)
        .filter(|d| d.changes.iter().any(|c| c.sha.starts_with(sha)));
    let first = found.next()?;
    (sha.len() < 40).then_some(first)
}

/// Incidents from hotfixes: a commit matching `failures.hotfix_pattern` whose first deployment
/// (of some service) is not that service's baseline fixes the deployment before it. The
/// incident is caused by that earlier deployment, opened when it finished and resolved when
/// the hotfix's deployment finished. Returns the incidents and the hotfix commits.
pub fn hotfix_incidents(
    attribution: &Attribution,
    hotfixes: &HashSet<String>,
) -> (Vec<Incident>, HashSet<String>) {
    let mut incidents = Vec::new();
    let mut remediations = HashSet::new();
    let mut previous: HashMap<&str, &super::AttributedDeployment> = HashMap::new();
    for d in &attribution.deployments {
        let service = d.deployment.service.as_str();
        if let Some(before) = previous.get(service)
            && let Some(fix) = d.changes.iter().find(|c| hotfixes.contains(&c.sha))
        {
            incidents.push(Incident {
                id: format!("hotfix-{}", &fix.sha[..fix.sha.len().min(12)]),
                service: service.to_owned(),
                opened_at: before.deployment.finished_at,
                resolved_at: Some(d.deployment.finished_at),
                severity: None,
                title: Some(format!("hotfix {}", fix.sha)),
                cause_deployment: Some(before.deployment.id.clone()),
                cause_sha: None,
                postmortem_url: None,
                fix_deployment: None,
                fix_sha: None,
                ..Incident::default()
            });
            remediations.extend(
                d.changes
                    .iter()
                    .filter(|c| hotfixes.contains(&c.sha))
                    .map(|c| c.sha.clone()),
            );
        }
        previous.insert(service, d);
    }
    (incidents, remediations)
}

#[cfg(test)]
mod tests {
    use super::super::{CommitNode, Scope, attribute, graph_index};
    use super::*;

    fn node(sha: &str, parents: &[&str], at: Millis) -> CommitNode {
        CommitNode {
            sha: sha.into(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            committed_at: at,
            bot: false,
        }
    }

    fn tag(name: &str, commit: &str, tagger_at: Option<Millis>) -> Ref {
        Ref {
            name: format!("refs/tags/{name}"),
            kind: RefKind::Tag,
            commit: commit.into(),
            annotated: tagger_at.is_some(),
            tagger_at,
            tagger_offset_minutes: tagger_at.map(|_| 0),
        }
    }

    #[test]
    fn release_tags_by_pattern_at_tagger_or_commit_time() {
        let commits = [node("a", &[], 10), node("b", &["a"], 20)];
        let graph = graph_index(&commits);
        let refs = [
            tag("v1.0", "a", Some(15)),
            tag("1.1.0", "b", None),
            tag("nightly", "b", None),
            tag("v2.0-rc1", "b", None),
        ];
        let pattern = Regex::new(DEFAULT_TAG_PATTERN).unwrap();
        let found: Vec<(String, Millis)> = from_tags("app", &refs, &graph, &pattern)
            .into_iter()
            .map(|d| (d.id, d.finished_at))
            .collect();
        assert_eq!(found, [("v1.0".to_owned(), 15), ("1.1.0".to_owned(), 20)]);
    }

    #[test]
    fn zero_config_release_tags_prefer_unprefixed_then_name_services_by_prefix() {
        let commits = [
            node("a", &[], 10),
            node("b", &["a"], 20),
            node("c", &["b"], 30),
        ];
        let graph = graph_index(&commits);
        let found = |refs: &[Ref]| -> Vec<(String, String)> {
            from_release_tags("jq", refs, &graph)
                .0
                .into_iter()
                .map(|d| (d.id, d.service))
                .collect()
        };
        // jq's own scheme: the prefix is the repository's name.
        let jq = [
            tag("jq-1.6", "a", None),
            tag("jq-1.7rc1", "b", None),
            tag("jq-1.7.1", "c", None),
            tag("rc-1.7", "b", None),
        ];
        assert_eq!(
            found(&jq),
            [
                ("jq-1.6".into(), "jq".into()),
                ("jq-1.7.1".into(), "jq".into())
            ]
        );
        // A monorepo: each prefix is a service; pre-releases are left out.
        let mono = [
            tag("api/v2.0", "a", None),
            tag("web@1.2.3", "b", None),
            tag("web@1.3.0-beta", "c", None),
            tag("beta-web@1.4", "c", None),
        ];
        assert_eq!(
            found(&mono),
            [
                ("api/v2.0".into(), "api".into()),
                ("web@1.2.3".into(), "web".into())
            ]
        );
        let (_, basis) = from_release_tags("jq", &mono, &graph);
        assert!(
            basis.contains("the prefix naming the service: api, web"),
            "{basis}"
        );
        // Unprefixed release tags, when there are any, are the releases alone.
        let plain = [
            tag("v1.0", "a", None),
            tag("tools-2.0", "b", None),
            tag("1.1", "c", None),
        ];
        assert_eq!(
            found(&plain),
            [("v1.0".into(), "jq".into()), ("1.1".into(), "jq".into())]
        );
        assert!(
            from_release_tags("jq", &[tag("nightly", "a", None)], &graph)
                .0
                .is_empty()
        );
    }

    #[test]
    fn first_parents_of_head_only() {
        let commits = [
            node("a", &[], 1),
            node("side", &["a"], 2),
            node("b", &["a"], 3),
            node("m", &["b", "side"], 4),
        ];
        let graph = graph_index(&commits);
        let ids: Vec<String> = from_first_parents("app", "m", &graph)
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(ids, ["m", "b", "a"]);
    }

    #[test]
    fn revert_messages() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            reverted_sha(&format!("Revert \"x\"\n\nThis reverts commit {sha}.\n")).as_deref(),
            Some(sha)
        );
        assert_eq!(reverted_sha("Revert nothing in particular"), None);
    }

    #[test]
    fn hotfixes_fail_the_deployment_before_them() {
        let commits = [
            node("a", &[], 0),
            node("b", &["a"], 10),
            node("fix", &["b"], 20),
            node("early-fix", &[], 0),
        ];
        let deployments = [
            deployment("app", "D1".into(), "a", 1),
            deployment("app", "D2".into(), "b", 11),
            deployment("app", "D3".into(), "fix", 21),
        ];
        let scope = Scope {
            environment: "production",
            service: None,
            paths: None,
        };
        let a = attribute(&deployments, &[], &commits, &HashSet::new(), scope);
        // `a` is in the baseline: a hotfix there has no earlier deployment to blame.
        let hotfixes = HashSet::from(["fix".to_owned(), "a".to_owned()]);
        let (incidents, remediations) = hotfix_incidents(&a, &hotfixes);
        assert_eq!(incidents.len(), 1);
        assert_eq!(
            (
                incidents[0].cause_deployment.as_deref(),
                incidents[0].opened_at,
                incidents[0].resolved_at
            ),
            (Some("D2"), 11, Some(21))
        );
        assert_eq!(remediations, HashSet::from(["fix".to_owned()]));
    }

    /// docs/metrics.md: a revert of a deployed commit is an incident of the deployment that
    /// carried it; a revert of a commit never deployed is not.
    #[test]
    fn reverts_of_deployed_commits_are_incidents_and_others_are_not() {
        let commits = [
            node("a", &[], 0),
            node("bad", &["a"], 10),
            node("draft", &["bad"], 20),
            node("revert-bad", &["draft"], 30),
            node("revert-draft", &["revert-bad"], 31),
        ];
        let deployments = [
            deployment("app", "D1".into(), "a", 1),
            deployment("app", "D2".into(), "bad", 11),
            deployment("app", "D3".into(), "revert-draft", 40),
        ];
        let scope = Scope {
            environment: "production",
            service: None,
            paths: None,
        };
        let first = attribute(&deployments, &[], &commits, &HashSet::new(), scope);
        let reverts = [
            Revert {
                sha: "revert-bad".into(),
                committed_at: 30,
                reverted: "bad".into(),
            },
            // `draft` was never deployed before its revert: not a failure.
            Revert {
                sha: "revert-draft".into(),
                committed_at: 31,
                reverted: "draft".into(),
            },
        ];
        let (incidents, remediations) = revert_incidents(&first, &reverts, DEFAULT_REVERT_MAX_AGE);
        assert_eq!(incidents.len(), 1);
        let i = &incidents[0];
        assert_eq!(
            (i.opened_at, i.resolved_at, i.cause_deployment.as_deref()),
            (11, Some(40), Some("D2"))
        );
        assert_eq!(remediations, HashSet::from(["revert-bad".to_owned()]));
    }

    #[test]
    fn reapplies_and_old_reverts_are_not_failures() {
        let day = 24 * 3600 * 1000;
        let commits = [
            node("a", &[], 0),
            node("bad", &["a"], day),
            node("revert-bad", &["bad"], 2 * day),
            node("reapply", &["revert-bad"], 3 * day),
            node("old", &["reapply"], 4 * day),
            node("revert-old", &["old"], 200 * day),
        ];
        let deployments = [
            deployment("app", "D0".into(), "a", 0),
            deployment("app", "D1".into(), "bad", day + 1),
            deployment("app", "D2".into(), "revert-bad", 2 * day + 1),
            deployment("app", "D3".into(), "reapply", 3 * day + 1),
            deployment("app", "D4".into(), "old", 4 * day + 1),
            deployment("app", "D5".into(), "revert-old", 200 * day + 1),
        ];
        let scope = Scope {
            environment: "production",
            service: None,
            paths: None,
        };
        let first = attribute(&deployments, &[], &commits, &HashSet::new(), scope);
        let revert = |sha: &str, at: Millis, reverted: &str| Revert {
            sha: sha.into(),
            committed_at: at,
            reverted: reverted.into(),
        };
        let reverts = [
            revert("revert-bad", 2 * day, "bad"),
            // git's "Reapply": it reverts a revert (named by an abbreviation here).
            revert("reapply", 3 * day, "revert-b"),
            // 196 days after `old` was deployed: a change of direction.
            revert("revert-old", 200 * day, "old"),
        ];
        let (incidents, remediations) = revert_incidents(&first, &reverts, DEFAULT_REVERT_MAX_AGE);
        let causes: Vec<_> = incidents
            .iter()
            .map(|i| i.cause_deployment.as_deref())
            .collect();
        assert_eq!(causes, [Some("D1")]);
        assert_eq!(remediations, HashSet::from(["revert-bad".to_owned()]));
        // With a longer limit the old revert counts again.
        let (incidents, _) = revert_incidents(&first, &reverts, 365 * day);
        assert_eq!(incidents.len(), 2);
    }
}
