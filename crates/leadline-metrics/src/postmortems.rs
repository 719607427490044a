//! The postmortem folder as the metrics read it: every file parsed and checked together, and
//! each action item's state with its evidence — a commit on HEAD carrying the trailer
//! `Action: PM-2026-014/A1`, or a merged pull request naming it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::Date;
use leadline_core::health::history_of;
use leadline_core::model::{Millis, RefKind};
use leadline_core::postmortem::{self, ActionState, Policies, Postmortem, Priority, Problem};
use leadline_core::store::Store;
use serde::Serialize;

use crate::error::{Error, Result};

pub mod draft;

/// Where postmortems are and what they promise.
#[derive(Debug, Clone)]
pub struct Settings {
    /// [default: `postmortems/` of the working directory]
    pub dir: PathBuf,
    /// A required postmortem is reviewed on time within this many days of the resolution.
    pub review_within_days: u32,
    pub policies: Policies,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dir: PathBuf::from("postmortems"),
            review_within_days: 7,
            policies: Policies::default(),
        }
    }
}

/// A postmortem file as read from disk.
pub struct File {
    /// As shown to users: the folder joined with the file name.
    pub name: String,
    pub text: String,
}

/// The folder's Markdown files in name order; no folder is no postmortems.
pub fn read_folder(dir: &Path) -> Result<Vec<File>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::Settings(format!(
                "cannot read the postmortems folder {}: {e}",
                dir.display()
            )));
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("md")))
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Settings(format!("cannot read {}: {e}", path.display())))?;
        files.push(File {
            name: path.display().to_string(),
            text,
        });
    }
    Ok(files)
}

/// Parses every file; all problems of all files at once.
pub fn parse_files(files: &[File]) -> Result<Vec<Postmortem>, Vec<Problem>> {
    let mut postmortems = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        match postmortem::parse(&f.name, &f.text) {
            Ok(pm) => postmortems.push(pm),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(postmortems)
    } else {
        Err(problems)
    }
}

/// What `postmortem check` refuses: every file's problems, then what is wrong across them
/// (repeated ids, incidents the store does not hold).
pub async fn check_all(store: &Arc<dyn Store>, files: &[File]) -> Result<Vec<Postmortem>> {
    let postmortems = parse_files(files).map_err(Error::Postmortems)?;
    let known: HashSet<String> = store
        .incidents()
        .await?
        .into_iter()
        .map(|(_, i)| i.id)
        .collect();
    let problems = postmortem::check_folder(&postmortems, |id| known.contains(id));
    if problems.is_empty() {
        Ok(postmortems)
    } else {
        Err(Error::Postmortems(problems))
    }
}

/// The folder's postmortems for the reports, or [`Error::Postmortems`] when a file cannot be
/// read as one. What only `postmortem check` refuses (a postmortem naming an incident not
/// stored yet, a repeated id) changes no number, so the reports go on.
pub fn load(settings: &Settings) -> Result<Vec<Postmortem>> {
    let files = read_folder(&settings.dir)?;
    parse_files(&files).map_err(Error::Postmortems)
}

/// What shows an action was done outside its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Evidence {
    /// `commit` or `pull_request`.
    pub kind: &'static str,
    /// `REPOSITORY@SHA` or `OWNER/REPO#NUMBER`.
    pub reference: String,
    /// The commit's or the merge's time.
    #[serde(serialize_with = "rfc3339")]
    #[schemars(with = "String")]
    pub at: Millis,
}

fn rfc3339<S: serde::Serializer>(at: &Millis, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&crate::window::utc(*at))
}

/// Evidence by action reference (`PM-2026-014/A1`, compared case-insensitively); the earliest
/// of each.
pub async fn evidence(store: &Arc<dyn Store>) -> Result<HashMap<String, Evidence>> {
    let mut found: HashMap<String, Evidence> = HashMap::new();
    let mut keep = |reference: &str, e: Evidence| {
        let key = reference.to_ascii_lowercase();
        match found.get(&key) {
            Some(old) if old.at <= e.at => {}
            _ => {
                found.insert(key, e);
            }
        }
    };
    for repo in store.repositories().await? {
        let trailers = store.trailers_named(repo.id, "Action").await?;
        if trailers.is_empty() {
            continue;
        }
        let refs = store.refs(repo.id).await?;
        let Some(head) = refs.iter().find(|r| r.kind == RefKind::Head) else {
            continue;
        };
        let parents = store.commit_parents(repo.id).await?;
        let on_head = history_of(&head.commit, &parents);
        for t in trailers.iter().filter(|t| on_head.contains(t.sha.as_str())) {
            for reference in postmortem::references_in(&t.value) {
                keep(
                    &reference,
                    Evidence {
                        kind: "commit",
                        reference: format!("{}@{}", repo.name, t.sha),
                        at: t.committed_at,
                    },
                );
            }
        }
    }
    for pr in store.pull_requests().await? {
        let Some(merged) = pr.merged_at else { continue };
        for reference in &pr.actions {
            keep(
                reference,
                Evidence {
                    kind: "pull_request",
                    reference: format!("{}#{}", pr.repo, pr.number),
                    at: merged,
                },
            );
        }
    }
    Ok(found)
}

/// An action item with its postmortem, effective due date and state.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Tracked {
    pub postmortem: String,
    pub action: String,
    /// `PM-2026-014/A1`.
    pub reference: String,
    pub title: String,
    /// The owning team.
    pub owner: Option<String>,
    pub priority: Priority,
    /// Its own due date, else the policy's deadline after the review.
    #[schemars(with = "Option<String>")]
    pub due: Option<Date>,
    pub state: ActionState,
    /// When it was done: the file's date, else the evidence's (UTC) date.
    #[schemars(with = "Option<String>")]
    pub done: Option<Date>,
    /// Done no later than due (an action without a due date is on time when done).
    pub on_time: bool,
    /// What shows it done besides the file.
    pub evidence: Option<Evidence>,
    /// The postmortem's incidents.
    pub incidents: Vec<String>,
    pub file: String,
    pub line: usize,
}

impl Tracked {
    /// Open with its due date before `day`.
    pub fn overdue_on(&self, day: Date) -> bool {
        self.state == ActionState::Open && self.due.is_some_and(|due| due < day)
    }
}

/// The open action items past their due date on `today`, most overdue first.
pub async fn overdue(
    store: &Arc<dyn Store>,
    settings: &Settings,
    today: Date,
) -> Result<Vec<Tracked>> {
    let found = load(settings)?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let mut late: Vec<Tracked> = track(&found, &evidence(store).await?, &settings.policies)
        .into_iter()
        .filter(|a| a.overdue_on(today))
        .collect();
    late.sort_by_key(|a| (a.due, a.priority));
    Ok(late)
}

/// The UTC calendar date of an instant.
pub fn utc_date(at: Millis) -> Date {
    jiff::Timestamp::from_millisecond(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// Every action of `postmortems` with its state: done by its file or by evidence.
pub fn track(
    postmortems: &[Postmortem],
    evidence: &HashMap<String, Evidence>,
    policies: &Policies,
) -> Vec<Tracked> {
    let mut out = Vec::new();
    for pm in postmortems {
        for a in &pm.actions {
            let reference = pm.action_ref(a);
            let found = evidence.get(&reference.to_ascii_lowercase()).cloned();
            // Done by its file (with its date, which may be missing) or by evidence.
            let (is_done, done) = match (a.state, &found) {
                (ActionState::Done, _) => (true, a.done),
                (ActionState::Open, Some(e)) => (true, Some(utc_date(e.at))),
                (ActionState::Open, None) => (false, None),
            };
            let due = pm.due(a, policies);
            out.push(Tracked {
                postmortem: pm.id.clone(),
                action: a.id.clone(),
                reference,
                title: a.title.clone(),
                owner: a.owner.clone(),
                priority: a.priority,
                due,
                state: if is_done {
                    ActionState::Done
                } else {
                    ActionState::Open
                },
                done,
                // Done without a known date cannot be shown on time.
                on_time: match (is_done, done, due) {
                    (true, Some(done), Some(due)) => done <= due,
                    (true, Some(_), None) => true,
                    _ => false,
                },
                evidence: found,
                incidents: pm.incidents.clone(),
                file: pm.file.clone(),
                line: a.line,
            });
        }
    }
    out
}
