//! Postmortems as files reviewed like code: Markdown with YAML front matter naming the
//! incidents, the review, the contributing factors and the action items. This module parses
//! and validates them (every problem as `FILE: line N, field X: …`), and holds the deadline
//! policy; the blameless-language lint is in [`lint`].

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use serde::Serialize;

pub mod lint;

pub use crate::yaml::Problem;
use crate::yaml::{self, Node, Reader, Value, join};

/// A postmortem's review state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Draft,
    InReview,
    Reviewed,
    Closed,
}

impl Status {
    const NAMES: &'static str = "draft, in-review, reviewed, closed";

    fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "draft" => Status::Draft,
            "in-review" => Status::InReview,
            "reviewed" => Status::Reviewed,
            "closed" => Status::Closed,
            _ => return None,
        })
    }

    /// Signed off by the review meeting.
    pub fn is_reviewed(self) -> bool {
        matches!(self, Status::Reviewed | Status::Closed)
    }
}

/// How urgent an action item is; the policy gives each a deadline after the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub enum Priority {
    P0,
    P1,
    P2,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::P0, Priority::P1, Priority::P2];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P0 => "P0",
            Priority::P1 => "P1",
            Priority::P2 => "P2",
        }
    }

    /// `P0`, `P1` or `P2`, case-insensitively.
    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Days after the review by which an action of each priority is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policies(pub BTreeMap<Priority, u32>);

impl Default for Policies {
    /// P0 within 14 days, P1 within 28, P2 within 56.
    fn default() -> Self {
        Policies(
            [(Priority::P0, 14), (Priority::P1, 28), (Priority::P2, 56)]
                .into_iter()
                .collect(),
        )
    }
}

impl Policies {
    /// The latest due date the policy allows an action of `priority` reviewed on `reviewed`.
    pub fn deadline(&self, priority: Priority, reviewed: Date) -> Option<Date> {
        let days = *self.0.get(&priority)?;
        reviewed.checked_add(jiff::Span::new().days(days)).ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActionState {
    Open,
    Done,
}

/// One action item of a postmortem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    pub id: String,
    pub title: String,
    /// A team.
    pub owner: Option<String>,
    pub priority: Priority,
    pub due: Option<Date>,
    pub state: ActionState,
    /// When it was done, as the file says (required when `state` is done).
    pub done: Option<Date>,
    pub link: Option<String>,
    /// The line of its `id` in the file.
    pub line: usize,
}

/// A postmortem file's front matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Postmortem {
    /// The file as named to the user.
    pub file: String,
    pub id: String,
    pub incidents: Vec<String>,
    pub status: Status,
    pub reviewed: Option<Date>,
    pub services: Vec<String>,
    pub factors: Vec<String>,
    pub actions: Vec<Action>,
    /// The line of its `id`.
    pub line: usize,
    /// The line of its `incidents`.
    pub incidents_line: usize,
}

impl Postmortem {
    /// Actions whose state and done date disagree: (line, what).
    pub fn inconsistencies(&self) -> Vec<(usize, String)> {
        self.actions
            .iter()
            .filter_map(|a| match (a.state, a.done) {
                (ActionState::Done, None) => Some((
                    a.line,
                    format!(
                        "{} is done but has no done date (it cannot count as on time)",
                        a.id
                    ),
                )),
                (ActionState::Open, Some(d)) => Some((
                    a.line,
                    format!(
                        "{} has a done date ({d}) but its state is open (the date is ignored)",
                        a.id
                    ),
                )),
                _ => None,
            })
            .collect()
    }

    /// `PM-2026-014/A1`: how commits and pull requests name an action.
    pub fn action_ref(&self, action: &Action) -> String {
        format!("{}/{}", self.id, action.id)
    }

    /// The action's due date: its own, else the policy's deadline after the review.
    pub fn due(&self, action: &Action, policies: &Policies) -> Option<Date> {
        action
            .due
            .or_else(|| policies.deadline(action.priority, self.reviewed?))
    }
}

const FIELDS: [&str; 8] = [
    "id",
    "incidents",
    "status",
    "reviewed",
    "services",
    "factors",
    "actions",
    "title",
];
const ACTION_FIELDS: [&str; 8] = [
    "id", "title", "owner", "priority", "due", "state", "done", "link",
];

/// The front matter's text and the file line it starts on, or a problem when the file has
/// none (it must open with a `---` line and close with another).
fn front_matter<'a>(file: &str, text: &'a str) -> Result<(&'a str, usize), Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let missing = |message: &str| Problem {
        file: file.to_owned(),
        line: 1,
        field: String::new(),
        message: message.to_owned(),
    };
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(missing(
            "does not start with YAML front matter (a line `---`, the fields, and `---`)",
        ));
    }
    let start = first.len();
    let mut end = start;
    for line in lines {
        if matches!(line.trim_end(), "---" | "...") {
            return Ok((&text[start..end], 2));
        }
        end += line.len();
    }
    Err(missing("the front matter is not closed by a `---` line"))
}

/// Reads one postmortem; every problem in it is returned at once.
pub fn parse(file: &str, text: &str) -> Result<Postmortem, Vec<Problem>> {
    let (yaml_text, first_line) = front_matter(file, text).map_err(|p| vec![p])?;
    let mut r = Reader {
        file,
        offset: first_line - 1,
        problems: Vec::new(),
    };
    let root = match yaml::load(yaml_text) {
        Ok(Some(root)) => root,
        Ok(None) => {
            r.fail(1, "", "the front matter is empty");
            return Err(r.problems);
        }
        Err((line, message)) => {
            r.fail(line, "", &format!("is not valid YAML: {message}"));
            return Err(r.problems);
        }
    };
    let Some(fields) = r.map(&root, "", &FIELDS) else {
        return Err(r.problems);
    };
    let id = r.required_text(&fields, &root, "id");
    let incidents = r.required_list(&fields, &root, "incidents");
    if incidents.as_ref().is_some_and(Vec::is_empty) {
        r.fail(fields["incidents"].line, "incidents", "names no incident");
    }
    let status = r.required_text(&fields, &root, "status").and_then(|s| {
        let status = Status::parse(&s);
        if status.is_none() {
            r.fail(
                fields["status"].line,
                "status",
                &format!("unknown status {s:?} (known: {})", Status::NAMES),
            );
        }
        status
    });
    let reviewed = r.date(fields.get("reviewed").copied(), "reviewed");
    if status.is_some_and(Status::is_reviewed) && reviewed == Some(None) {
        r.fail(
            fields["status"].line,
            "reviewed",
            "is required when the status is reviewed or closed",
        );
    }
    let services = r.list(fields.get("services").copied(), "services");
    let factors = r.list(fields.get("factors").copied(), "factors");
    let actions = r.actions(fields.get("actions").copied());
    let pm = (|| {
        Some(Postmortem {
            file: file.to_owned(),
            id: id?,
            incidents: incidents?,
            status: status?,
            reviewed: reviewed?,
            services: services?,
            factors: factors?,
            actions: actions?,
            line: fields.get("id").map_or(1, |n| n.line) + r.offset,
            incidents_line: fields.get("incidents").map_or(1, |n| n.line) + r.offset,
        })
    })();
    match pm {
        Some(pm) if r.problems.is_empty() => Ok(pm),
        _ => Err(r.problems),
    }
}

impl Reader<'_> {
    fn actions(&mut self, node: Option<&Node>) -> Option<Vec<Action>> {
        let Some(node) = node else {
            return Some(Vec::new());
        };
        let items = match &node.value {
            Value::Null => return Some(Vec::new()),
            Value::Seq(items) => items,
            _ => {
                self.fail(node.line, "actions", "must be a list of action items");
                return None;
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        let mut first_line: HashMap<String, usize> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            match self.action(item, &format!("actions.{i}")) {
                Some(a) => {
                    if let Some(first) = first_line.insert(a.id.clone(), a.line) {
                        self.fail(
                            a.line - self.offset,
                            &format!("actions.{i}.id"),
                            &format!("{:?} repeats the id of line {first}", a.id),
                        );
                        ok = false;
                    }
                    out.push(a);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn action(&mut self, node: &Node, prefix: &str) -> Option<Action> {
        let fields = self.map(node, prefix, &ACTION_FIELDS)?;
        let f = |name: &str| join(prefix, name);
        let id = self.required_text(&fields, node, &f("id"));
        let title = self.required_text(&fields, node, &f("title"));
        let owner = self.optional_text(fields.get("owner").copied(), &f("owner"));
        let priority = self
            .required_text(&fields, node, &f("priority"))
            .and_then(|p| {
                let parsed = Priority::parse(&p);
                if parsed.is_none() {
                    self.fail(
                        fields["priority"].line,
                        &f("priority"),
                        &format!("unknown priority {p:?} (known: P0, P1, P2)"),
                    );
                }
                parsed
            });
        let due = self.date(fields.get("due").copied(), &f("due"));
        let state = match self.optional_text(fields.get("state").copied(), &f("state"))? {
            None => Some(ActionState::Open),
            Some(s) if s == "open" => Some(ActionState::Open),
            Some(s) if s == "done" => Some(ActionState::Done),
            Some(s) => {
                self.fail(
                    fields["state"].line,
                    &f("state"),
                    &format!("unknown state {s:?} (known: open, done)"),
                );
                None
            }
        };
        // A done action without its date, or a date on an open one, is the check's to point
        // out (`Postmortem::inconsistencies`), not a reason to refuse the file.
        let done = self.date(fields.get("done").copied(), &f("done"));
        let link = self.optional_text(fields.get("link").copied(), &f("link"));
        Some(Action {
            id: id?,
            title: title?,
            owner: owner?,
            priority: priority?,
            due: due?,
            state: state?,
            done: done?,
            link: link?,
            line: fields.get("id").map_or(node.line, |n| n.line) + self.offset,
        })
    }
}

/// The action references (`PM-2026-014/A1`) a text names: words of the form `ID/ACTION` whose
/// id holds a `-` or a digit (so `and/or` and `input/output` are not), each once, in order.
pub fn references_in(text: &str) -> Vec<String> {
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let mut out: Vec<String> = Vec::new();
    for w in
        text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '[' | ']' | '`'))
    {
        let w = w.trim_end_matches(['.', ':', ';']);
        let Some((pm, action)) = w.split_once('/') else {
            continue;
        };
        if word(pm)
            && word(action)
            && pm.chars().any(|c| c == '-' || c.is_ascii_digit())
            && !out.iter().any(|o| o == w)
        {
            out.push(w.to_owned());
        }
    }
    out
}

/// Problems across the files of a folder: repeated postmortem ids, and incidents the store
/// does not know (`known` says whether an incident id exists, of any source).
pub fn check_folder(postmortems: &[Postmortem], known: impl Fn(&str) -> bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut first: HashMap<&str, &Postmortem> = HashMap::new();
    for pm in postmortems {
        if let Some(earlier) = first.insert(&pm.id, pm) {
            problems.push(Problem {
                file: pm.file.clone(),
                line: pm.line,
                field: "id".into(),
                message: format!(
                    "{:?} is already the id of {} (line {})",
                    pm.id, earlier.file, earlier.line
                ),
            });
        }
        for incident in pm.incidents.iter().filter(|i| !known(i)) {
            problems.push(Problem {
                file: pm.file.clone(),
                line: pm.incidents_line,
                field: "incidents".into(),
                message: format!("no incident {incident:?} is stored (import or receive it first)"),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests;
