//! Scorecards with levels (`scorecards.toml`): checks on a service's files at HEAD, its catalog
//! entry, its metrics and leadline's own facts, each at a level; a service's level is the
//! highest whose checks pass together with every lower level's (OpsLevel's rule), so a
//! failing bronze check caps the level even when every gold check passes.

use crate::toml_lines::line_of;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// A file that could not be read: where, which field, and why.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}{}: {message}", field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
pub struct InvalidScorecards {
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

/// What a check looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// A file matching one of the globs exists at HEAD.
    Exists(Vec<String>),
    /// A file matching the glob exists at HEAD and its contents match the regex.
    Contains {
        path: String,
        regex: String,
    },
    /// The service's catalog entry names an owner.
    OwnerSet,
    /// Its lifecycle is one of these.
    LifecycleIn(Vec<String>),
    HasSystem,
    /// It provides an API.
    HasApi,
    /// A metric compared with a value over the `window_days` before now.
    Metric {
        name: String,
        op: Op,
        value: f64,
        window_days: i64,
    },
    /// An SLO file names the service.
    SloDefined,
    /// Every incident that needed a postmortem got one reviewed on time.
    PostmortemsOnTime,
    /// At most this many debt items of the service are past their deadline.
    DebtPastDeadline(u64),
    /// No area of the repository is at knowledge risk.
    NoKnowledgeRisk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
}

impl Op {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Gt => left > right,
            Op::Ge => left >= right,
            Op::Eq => (left - right).abs() < 1e-9,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    pub level: String,
    pub fact: Fact,
    pub hint: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scorecards {
    /// Lowest first.
    pub levels: Vec<String>,
    pub checks: Vec<Check>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileScorecards {
    levels: Option<Vec<String>>,
    #[serde(default)]
    check: Vec<Spanned<FileCheck>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileContains {
    path: String,
    regex: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Globs {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCheck {
    name: Option<String>,
    level: Spanned<String>,
    hint: Option<String>,
    exists: Option<Globs>,
    contains: Option<FileContains>,
    owner_set: Option<bool>,
    lifecycle_in: Option<Vec<String>>,
    has_system: Option<bool>,
    has_api: Option<bool>,
    metric: Option<String>,
    op: Option<Op>,
    value: Option<f64>,
    window_days: Option<i64>,
    slo_defined: Option<bool>,
    postmortems_on_time: Option<bool>,
    debt_past_deadline: Option<u64>,
    no_knowledge_risk: Option<bool>,
}

/// What one file check asks, or why it cannot be read.
fn fact(c: &FileCheck) -> Result<Fact, String> {
    let mut facts = Vec::new();
    if let Some(g) = &c.exists {
        facts.push(Fact::Exists(match g {
            Globs::One(s) => vec![s.clone()],
            Globs::Many(v) => v.clone(),
        }));
    }
    if let Some(x) = &c.contains {
        regex::bytes::Regex::new(&x.regex).map_err(|e| format!("contains.regex: {e}"))?;
        facts.push(Fact::Contains {
            path: x.path.clone(),
            regex: x.regex.clone(),
        });
    }
    if c.owner_set == Some(true) {
        facts.push(Fact::OwnerSet);
    }
    if let Some(l) = &c.lifecycle_in {
        facts.push(Fact::LifecycleIn(l.clone()));
    }
    if c.has_system == Some(true) {
        facts.push(Fact::HasSystem);
    }
    if c.has_api == Some(true) {
        facts.push(Fact::HasApi);
    }
    if let Some(name) = &c.metric {
        let (Some(op), Some(value)) = (c.op, c.value) else {
            return Err("a metric check needs op and value".into());
        };
        facts.push(Fact::Metric {
            name: name.clone(),
            op,
            value,
            window_days: c.window_days.unwrap_or(90),
        });
    }
    if c.slo_defined == Some(true) {
        facts.push(Fact::SloDefined);
    }
    if c.postmortems_on_time == Some(true) {
        facts.push(Fact::PostmortemsOnTime);
    }
    if let Some(n) = c.debt_past_deadline {
        facts.push(Fact::DebtPastDeadline(n));
    }
    if c.no_knowledge_risk == Some(true) {
        facts.push(Fact::NoKnowledgeRisk);
    }
    match facts.len() {
        1 => Ok(facts.remove(0)),
        0 => Err("says nothing to check (exists, contains, owner_set, lifecycle_in, has_system, has_api, metric, slo_defined, postmortems_on_time, debt_past_deadline or no_knowledge_risk)".into()),
        _ => Err("checks one thing: split it into several checks".into()),
    }
}

/// Reads `scorecards.toml`.
pub fn parse(text: &str) -> Result<Scorecards, InvalidScorecards> {
    let file: FileScorecards = toml::from_str(text).map_err(|e| InvalidScorecards {
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        field: None,
        message: e.message().trim().to_owned(),
    })?;
    let levels = file
        .levels
        .unwrap_or_else(|| vec!["bronze".into(), "silver".into(), "gold".into()]);
    let mut seen = HashSet::new();
    if levels.is_empty() || !levels.iter().all(|l| seen.insert(l.clone())) {
        return Err(InvalidScorecards {
            line: 1,
            field: Some("levels".into()),
            message: "levels must be distinct names, lowest first".into(),
        });
    }
    let mut checks = Vec::new();
    for spanned in file.check {
        let line = line_of(text, spanned.span().start);
        let c = spanned.into_inner();
        if !levels.contains(c.level.get_ref()) {
            return Err(InvalidScorecards {
                line: line_of(text, c.level.span().start),
                field: Some("level".into()),
                message: format!(
                    "{:?} is not a level ({})",
                    c.level.get_ref(),
                    levels.join(", ")
                ),
            });
        }
        let fact = fact(&c).map_err(|message| InvalidScorecards {
            line,
            field: None,
            message,
        })?;
        checks.push(Check {
            name: c
                .name
                .clone()
                .unwrap_or_else(|| format!("check at line {line}")),
            level: c.level.get_ref().clone(),
            fact,
            hint: c.hint.clone(),
            line,
        });
    }
    Ok(Scorecards { levels, checks })
}

/// The highest level with checks whose checks pass together with every lower level's:
/// `passed[i]` tells whether `checks[i]` passed. `None` when the lowest level with checks
/// already fails.
pub fn level<'a>(cards: &'a Scorecards, passed: &[bool]) -> Option<&'a str> {
    let mut reached = None;
    for level in &cards.levels {
        let mine: Vec<bool> = cards
            .checks
            .iter()
            .zip(passed)
            .filter(|(c, _)| c.level == *level)
            .map(|(_, p)| *p)
            .collect();
        if !mine.iter().all(|p| *p) {
            break;
        }
        // A level with no checks is no achievement: it neither stops nor is reached.
        if !mine.is_empty() {
            reached = Some(level.as_str());
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[[check]]
name = "CODEOWNERS"
level = "bronze"
exists = ["CODEOWNERS", ".github/CODEOWNERS"]
hint = "Add a CODEOWNERS file"

[[check]]
level = "silver"
contains = { path = "README.md", regex = "(?i)runbook" }

[[check]]
level = "gold"
metric = "dora.change_failure_rate.rate"
op = "<="
value = 0.15
"#;

    #[test]
    fn a_failing_bronze_check_caps_the_level_even_when_gold_passes() {
        let cards = parse(FILE).unwrap();
        assert_eq!(cards.checks.len(), 3);
        assert_eq!(level(&cards, &[true, true, true]), Some("gold"));
        assert_eq!(level(&cards, &[true, false, true]), Some("bronze"));
        assert_eq!(level(&cards, &[false, true, true]), None);
        assert_eq!(
            cards.checks[2].fact,
            Fact::Metric {
                name: "dora.change_failure_rate.rate".into(),
                op: Op::Le,
                value: 0.15,
                window_days: 90
            }
        );
        // A level with no checks is never reached, and never stops those above.
        let two =
            parse("levels = [\"a\", \"b\"]\n[[check]]\nlevel = \"b\"\nowner_set = true\n").unwrap();
        assert_eq!(level(&two, &[false]), None);
        assert_eq!(level(&two, &[true]), Some("b"));
    }

    #[test]
    fn bad_files_name_their_line() {
        let e = parse(&FILE.replace("level = \"gold\"", "level = \"platinum\"")).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (13, Some("level")));
        let e = parse("[[check]]\nlevel = \"bronze\"\n").unwrap_err();
        assert!(e.message.contains("says nothing"));
        let e =
            parse("[[check]]\nlevel = \"bronze\"\nowner_set = true\nhas_api = true\n").unwrap_err();
        assert!(e.message.contains("one thing"));
        let e = parse("[[check]]\nlevel = \"bronze\"\nmetric = \"x\"\n").unwrap_err();
        assert!(e.message.contains("op and value"));
    }
}
