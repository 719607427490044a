//! `leadline postmortem new INCIDENT`: a draft with the sections a blameless review fills in,
//! pre-filled with facts — the incident's timeline, the deployment it is attributed to, that
//! deployment's changes, reverts among them and the failing builds before it. Facts about
//! systems and changes only: no author is named.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use leadline_core::dora::CauseRule;
use leadline_core::model::{Incident, Millis};
use leadline_core::store::Store;

use crate::error::{Result, UsageError};
use crate::window::utc;

/// What leadline knows around an incident.
#[derive(Debug, Default)]
pub struct Context {
    /// The deployment it is attributed to: (id, sha, finished_at, by which rule).
    pub deployment: Option<(String, String, Millis, CauseRule)>,
    /// The deployment's changes: (sha, subject).
    pub changes: Vec<(String, String)>,
    /// Changes that revert earlier commits.
    pub reverts: Vec<(String, String)>,
    /// Builds that failed on the deployment's commits before it finished: (pipeline, sha, when).
    pub failing_builds: Vec<(String, String, Millis)>,
}

/// The stored incident `id` (of any source) with its context.
pub async fn gather(
    store: &Arc<dyn Store>,
    dora: &crate::dora::Settings,
    id: &str,
) -> Result<(Incident, Context)> {
    let incident = store
        .incidents()
        .await?
        .into_iter()
        .map(|(_, i)| i)
        .find(|i| i.id == id)
        .ok_or_else(|| {
            UsageError(format!(
                "no incident {id:?} is stored (import or receive it first)"
            ))
        })?;
    let gathered = crate::dora::load(store, dora).await?;
    let (attribution, _) = crate::dora::attribute(
        &gathered.inputs,
        gathered.scope("production", Some(&incident.service)),
    );
    let mut context = Context::default();
    let cause = attribution
        .incidents
        .iter()
        .find(|a| a.incident.id == id)
        .and_then(|a| a.cause.clone());
    let Some((deployment_id, rule)) = cause else {
        return Ok((incident, context));
    };
    let Some(d) = attribution
        .deployments
        .iter()
        .find(|d| d.deployment.id == deployment_id && d.deployment.service == incident.service)
    else {
        return Ok((incident, context));
    };
    let subjects: HashMap<String, String> = store.subjects().await?.into_iter().collect();
    for c in &d.changes {
        let subject = subjects.get(&c.sha).cloned().unwrap_or_default();
        if subject.starts_with("Revert ") {
            context.reverts.push((c.sha.clone(), subject.clone()));
        }
        context.changes.push((c.sha.clone(), subject));
    }
    let shas: std::collections::HashSet<&str> = d
        .changes
        .iter()
        .map(|c| c.sha.as_str())
        .chain([d.deployment.sha.as_str()])
        .collect();
    for (_, b) in store.builds().await? {
        let at = b.finished_at.unwrap_or(b.updated_at);
        if shas.contains(b.sha.as_str())
            && leadline_core::flow::is_failure(&b)
            && at <= d.deployment.finished_at
        {
            context.failing_builds.push((b.pipeline, b.sha, at));
        }
    }
    context.failing_builds.sort_by_key(|b| b.2);
    context.deployment = Some((
        d.deployment.id.clone(),
        d.deployment.sha.clone(),
        d.deployment.finished_at,
        rule,
    ));
    Ok((incident, context))
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

fn minute(at: Millis) -> String {
    utc(at)[..16].replace('T', " ") + " UTC"
}

/// The draft's text: front matter with `id` and the incident, status draft, and the sections.
pub fn render(id: &str, incident: &Incident, context: &Context) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "---");
    let _ = writeln!(s, "id: {id}");
    let _ = writeln!(s, "incidents: [{}]", yaml_text(&incident.id));
    let _ = writeln!(
        s,
        "status: draft          # draft | in-review | reviewed | closed"
    );
    let _ = writeln!(
        s,
        "reviewed:              # the date the review signed it off"
    );
    let _ = writeln!(s, "services: [{}]", yaml_text(&incident.service));
    let _ = writeln!(
        s,
        "factors: []            # contributing factors, free tags"
    );
    let _ = writeln!(
        s,
        "actions: []            # {{id, title, owner (a team), priority P0|P1|P2, due, state, done, link}}"
    );
    let _ = writeln!(s, "---");
    let title = incident.title.as_deref().unwrap_or("incident");
    let _ = writeln!(s, "# {id}: {title}\n");
    let _ = writeln!(
        s,
        "## Summary\n\nWhat happened, in two or three sentences.\n"
    );
    let _ = writeln!(s, "## Impact\n\nWho and what was affected, for how long.\n");
    let _ = writeln!(s, "## Timeline (UTC)\n");
    let mut events: Vec<(Millis, &str)> = incident
        .lifecycle()
        .into_iter()
        .filter_map(|(name, at)| at.map(|at| (at, name)))
        .collect();
    if let Some(started) = incident.started_at {
        events.push((started, "started_at"));
    }
    if let Some((_, _, at, _)) = &context.deployment {
        events.push((*at, "deployment"));
    }
    events.sort();
    for (at, what) in events {
        let text = match what {
            "started_at" => "impact began".to_owned(),
            "detected_at" => "detected".to_owned(),
            "opened_at" => "incident opened".to_owned(),
            "acknowledged_at" => "acknowledged".to_owned(),
            "mitigated_at" => "impact mitigated".to_owned(),
            "resolved_at" => "resolved".to_owned(),
            _ => match &context.deployment {
                Some((id, sha, _, _)) => format!("deployment {id} ({}) finished", short(sha)),
                None => what.to_owned(),
            },
        };
        let _ = writeln!(s, "- {} {text}", minute(at));
    }
    let _ = writeln!(s, "\n## What leadline knows\n");
    match &context.deployment {
        None => {
            let _ = writeln!(s, "No deployment is attributed to this incident.");
        }
        Some((id, sha, _, rule)) => {
            let why = match rule {
                CauseRule::NamedDeployment => "the incident names it",
                CauseRule::NamedCommit => "it first deployed the commit the incident names",
                CauseRule::LatestBefore => "the latest deployment of the service before it opened",
            };
            let _ = writeln!(s, "- Attributed deployment: {id} ({}), {why}.", short(sha));
            let _ = writeln!(s, "- Its changes ({}):", context.changes.len());
            for (sha, subject) in &context.changes {
                let _ = writeln!(s, "  - {} {subject}", short(sha));
            }
            if !context.reverts.is_empty() {
                let _ = writeln!(s, "- Reverts among them:");
                for (sha, subject) in &context.reverts {
                    let _ = writeln!(s, "  - {} {subject}", short(sha));
                }
            }
            if !context.failing_builds.is_empty() {
                let _ = writeln!(s, "- Builds that failed on these commits before it:");
                for (pipeline, sha, at) in &context.failing_builds {
                    let _ = writeln!(s, "  - {} {pipeline} on {}", minute(*at), short(sha));
                }
            }
        }
    }
    for section in [
        "Contributing factors\n\nConditions, not people: what made this possible, what made it worse.",
        "What went well",
        "What went wrong",
        "Where we got lucky",
        "Action items\n\nList them in the front matter (`actions`) so leadline can track them; a commit or pull request carrying `Action: ID/A1` marks one done.",
    ] {
        let _ = writeln!(s, "\n## {section}\n");
    }
    s
}

/// A YAML flow-sequence item: quoted when plain text would not read back the same.
fn yaml_text(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '#'))
        && !s.starts_with(['-', '#']);
    if plain {
        s.to_owned()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A draft is itself a valid postmortem naming the incident, with its timeline in order.
    #[test]
    fn a_draft_reads_back_as_a_valid_postmortem() {
        let incident = Incident {
            id: "octo/app#12".into(),
            service: "checkout api".into(),
            opened_at: 1_700_000_600_000,
            started_at: Some(1_700_000_000_000),
            resolved_at: Some(1_700_003_600_000),
            ..Incident::default()
        };
        let text = render("PM-2023-001", &incident, &Context::default());
        let pm = leadline_core::postmortem::parse("d.md", &text).unwrap();
        assert_eq!(pm.incidents, ["octo/app#12"]);
        assert_eq!(pm.services, ["checkout api"]);
        let began = text.find("impact began").unwrap();
        let opened = text.find("incident opened").unwrap();
        let resolved = text.find("resolved\n").unwrap();
        assert!(began < opened && opened < resolved, "{text}");
    }
}
