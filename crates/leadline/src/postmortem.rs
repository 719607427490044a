//! `leadline postmortem new|check`: drafts written from what the store knows, and the check a
//! pull request touching `postmortems/` runs (validation, exit 2; the blameless lint,
//! warnings, exit 1 with `--strict`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use leadline_core::postmortem::lint::{self, People};
use leadline_core::postmortem::{Policies, Postmortem};
use leadline_core::store::Store;
use leadline_metrics::postmortems::{self, Settings, draft};

use crate::cli::{PostmortemCheckArgs, PostmortemNewArgs};
use crate::config::DoraConfig;
use crate::verdict::Verdict;

fn folder(dir: &Option<PathBuf>, settings: &Settings) -> PathBuf {
    dir.clone().unwrap_or_else(|| settings.dir.clone())
}

pub async fn new(
    store: &Arc<dyn Store>,
    args: &PostmortemNewArgs,
    settings: &Settings,
    dora: &DoraConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let dir = folder(&args.dir, settings);
    let (incident, context) = draft::gather(store, dora, &args.incident).await?;
    let year = postmortems::utc_date(incident.opened_at).year();
    let id = next_id(&dir, year)?;
    let text = draft::render(&id, &incident, &context);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{id}.md"));
    // create_new: an existing file is never overwritten.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(out, "{}", path.display())?;
    Ok(())
}

/// `PM-YEAR-NNN`, one more than the highest number of that year among the folder's files.
fn next_id(dir: &Path, year: i16) -> Result<String> {
    let prefix = format!("PM-{year}-");
    let mut highest = 0;
    for f in postmortems::read_folder(dir)? {
        for line in f.text.lines().take(40) {
            if let Some(n) = line
                .trim()
                .strip_prefix("id:")
                .map(str::trim)
                .and_then(|id| id.strip_prefix(&prefix))
                .and_then(|n| n.parse::<u32>().ok())
            {
                highest = highest.max(n);
            }
        }
    }
    if highest >= 999_999 {
        bail!("{}: no postmortem id left for {year}", dir.display());
    }
    Ok(format!("{prefix}{:03}", highest + 1))
}

pub async fn check(
    store: &Arc<dyn Store>,
    args: &PostmortemCheckArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let dir = folder(&args.dir, settings);
    let files = postmortems::read_folder(&dir)?;
    let found = postmortems::check_all(store, &files).await?;
    let people = People::new(&known_people(store).await?);
    let mut findings = 0;
    for f in &files {
        for finding in lint::lint(&f.text, &people) {
            findings += 1;
            writeln!(
                out,
                "{}:{}: {:?}: {}",
                f.name, finding.line, finding.found, finding.suggestion
            )?;
        }
    }
    for pm in &found {
        for (line, what) in pm.inconsistencies() {
            findings += 1;
            writeln!(out, "{}:{line}: {what}", pm.file)?;
        }
    }
    for (pm, action, due, deadline) in late_by_policy(&found, &settings.policies) {
        findings += 1;
        writeln!(
            out,
            "{}:{}: {}/{} is due {due}, later than the {} policy allows ({deadline}, {} days after the review)",
            pm.file,
            action.line,
            pm.id,
            action.id,
            action.priority.as_str(),
            settings
                .policies
                .0
                .get(&action.priority)
                .copied()
                .unwrap_or(0)
        )?;
    }
    writeln!(
        out,
        "{} postmortem(s) in {} valid; {findings} finding(s)",
        found.len(),
        dir.display()
    )?;
    if args.strict && findings > 0 {
        return Err(Verdict::LintFindings(findings).into());
    }
    Ok(())
}

/// Everyone the store knows by name or email (the history's people) or by login (pull request
/// authors and reviewers; GitLab's numeric stand-ins are no names).
async fn known_people(store: &Arc<dyn Store>) -> Result<Vec<leadline_core::model::Identity>> {
    let mut people = store.people().await?;
    let mut logins: Vec<String> = store
        .pull_requests()
        .await?
        .into_iter()
        .map(|p| p.author)
        .chain(store.reviews().await?.into_iter().map(|r| r.reviewer))
        .filter(|l| !l.starts_with("gitlab-user-"))
        .collect();
    logins.sort_unstable();
    logins.dedup();
    people.extend(
        logins
            .into_iter()
            .map(|login| leadline_core::model::Identity {
                name: login,
                email: String::new(),
            }),
    );
    Ok(people)
}

type Late<'a> = (
    &'a Postmortem,
    &'a leadline_core::postmortem::Action,
    jiff::civil::Date,
    jiff::civil::Date,
);

/// Actions whose own due date is later than the policy allows after the review.
fn late_by_policy<'a>(found: &'a [Postmortem], policies: &Policies) -> Vec<Late<'a>> {
    let mut out = Vec::new();
    for pm in found {
        let Some(reviewed) = pm.reviewed else {
            continue;
        };
        for a in &pm.actions {
            if let (Some(due), Some(deadline)) = (a.due, policies.deadline(a.priority, reviewed))
                && due > deadline
            {
                out.push((pm, a, due, deadline));
            }
        }
    }
    out
}
