//! The technical debt register (see "Debt register" in `docs/metrics.md`): known items with a
//! category, a kind, an owner team, cost and interest, and why they wait; policies that bound
//! how long an item of a kind may stay open; and the hotspots each item covers.
//!
//! The register is a TOML file (`debt.toml`) so that changes to it are reviewed like code.
//! Reading it is strict: an unknown field, a wrong type, an unknown category or kind, a
//! duplicate id or a due date before creation is refused with its line and field.

use crate::toml_lines::{key_on_line, line_of};
use std::collections::{BTreeMap, HashSet};

use jiff::civil::Date;
use regex::Regex;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// Why an item was taken on (after Fowler's debt quadrant, reduced to what leads act on).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// A deliberate, long-lived trade-off (e.g. a monolith kept while the product is young).
    Strategic,
    /// A deliberate shortcut to meet a date, meant to be repaid soon.
    Tactical,
    /// Not chosen: found later (decay, a misunderstanding, a design that no longer fits).
    Accidental,
}

/// What the debt puts at risk; policies give each kind a deadline.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Security,
    Performance,
    Compliance,
    Reliability,
    Maintainability,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Security,
        Kind::Performance,
        Kind::Compliance,
        Kind::Reliability,
        Kind::Maintainability,
        Kind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Security => "security",
            Kind::Performance => "performance",
            Kind::Compliance => "compliance",
            Kind::Reliability => "reliability",
            Kind::Maintainability => "maintainability",
            Kind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl Category {
    pub const ALL: [Category; 3] = [
        Category::Strategic,
        Category::Tactical,
        Category::Accidental,
    ];

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Strategic => "strategic",
            Category::Tactical => "tactical",
            Category::Accidental => "accidental",
        }
    }
}

/// One debt item as the register holds it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Item {
    pub id: String,
    pub title: String,
    /// Path patterns (CODEOWNERS syntax) of the code it lives in.
    pub area: Vec<String>,
    /// Only in this repository (by name) [default: any].
    pub repository: Option<String>,
    pub category: Category,
    pub kind: Kind,
    /// The team that owns it.
    pub owner: String,
    /// Hours to repay it.
    pub cost_hours: Option<f64>,
    /// What it slows, in words.
    pub interest: Option<String>,
    /// What it costs while it stays, in hours per month.
    pub interest_hours_per_month: Option<f64>,
    /// Why it waits.
    pub rationale: Option<String>,
    pub created: Date,
    pub due: Option<Date>,
    pub closed: Option<Date>,
}

/// A register that could not be read: where, which field, and why.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}{}: {message}", field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
pub struct InvalidRegister {
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRegister {
    #[serde(default)]
    item: Vec<FileItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileItem {
    id: Spanned<String>,
    title: Spanned<String>,
    area: Spanned<Vec<String>>,
    repository: Option<String>,
    category: Category,
    kind: Kind,
    owner: Spanned<String>,
    cost_hours: Option<Spanned<f64>>,
    interest: Option<String>,
    interest_hours_per_month: Option<Spanned<f64>>,
    rationale: Option<String>,
    created: Spanned<toml::value::Datetime>,
    due: Option<Spanned<toml::value::Datetime>>,
    closed: Option<Spanned<toml::value::Datetime>>,
}

/// Reads a register. Every item must have an id, a title, at least one area, a category, a
/// kind, an owner and a creation date; dates are TOML dates (`2026-03-01`).
pub fn parse(text: &str) -> Result<Vec<Item>, InvalidRegister> {
    let file: FileRegister = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        InvalidRegister {
            line,
            field: key_on_line(text, line),
            message: e.message().trim().to_owned(),
        }
    })?;
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(file.item.len());
    for raw in file.item {
        let invalid =
            |span: std::ops::Range<usize>, field: &str, message: String| InvalidRegister {
                line: line_of(text, span.start),
                field: Some(field.to_owned()),
                message,
            };
        let id = raw.id.get_ref().trim();
        if id.is_empty() || !seen.insert(id.to_owned()) {
            let why = if id.is_empty() {
                "is empty"
            } else {
                "is used twice"
            };
            return Err(invalid(raw.id.span(), "id", format!("{id:?} {why}")));
        }
        if raw.title.get_ref().trim().is_empty() {
            return Err(invalid(raw.title.span(), "title", "is empty".into()));
        }
        if raw.owner.get_ref().trim().is_empty() {
            return Err(invalid(raw.owner.span(), "owner", "is empty".into()));
        }
        if raw.area.get_ref().is_empty() {
            return Err(invalid(
                raw.area.span(),
                "area",
                "needs at least one path".into(),
            ));
        }
        for p in raw.area.get_ref() {
            if let Some(why) = crate::codeowners::pattern_problem(p.trim()) {
                return Err(invalid(
                    raw.area.span(),
                    "area",
                    format!("{p:?} is not a path pattern: {why}"),
                ));
            }
        }
        for (field, hours) in [
            ("cost_hours", &raw.cost_hours),
            ("interest_hours_per_month", &raw.interest_hours_per_month),
        ] {
            if let Some(h) = hours
                .as_ref()
                .filter(|h| h.get_ref().is_sign_negative() || !h.get_ref().is_finite())
            {
                return Err(invalid(
                    h.span(),
                    field,
                    format!("{} is not a number of hours", h.get_ref()),
                ));
            }
        }
        let date = |field: &str, d: &Spanned<toml::value::Datetime>| {
            as_date(d.get_ref()).ok_or_else(|| {
                invalid(
                    d.span(),
                    field,
                    format!("{} is not a date like 2026-03-01", d.get_ref()),
                )
            })
        };
        let created = date("created", &raw.created)?;
        let later = |field: &str, d: &Option<Spanned<toml::value::Datetime>>| {
            let Some(d) = d else { return Ok(None) };
            let value = date(field, d)?;
            if value < created {
                return Err(invalid(
                    d.span(),
                    field,
                    format!("{value} is before created ({created})"),
                ));
            }
            Ok(Some(value))
        };
        let due = later("due", &raw.due)?;
        let closed = later("closed", &raw.closed)?;
        out.push(Item {
            id: id.to_owned(),
            title: raw.title.into_inner(),
            area: raw.area.into_inner(),
            repository: raw.repository,
            category: raw.category,
            kind: raw.kind,
            owner: raw.owner.into_inner(),
            cost_hours: raw.cost_hours.map(Spanned::into_inner),
            interest: raw.interest,
            interest_hours_per_month: raw.interest_hours_per_month.map(Spanned::into_inner),
            rationale: raw.rationale,
            created,
            due,
            closed,
        });
    }
    Ok(out)
}

fn as_date(d: &toml::value::Datetime) -> Option<Date> {
    if d.time.is_some() || d.offset.is_some() {
        return None;
    }
    let day = d.date?;
    Date::new(
        i16::try_from(day.year).ok()?,
        day.month as i8,
        day.day as i8,
    )
    .ok()
}

fn pattern(p: &str) -> Option<Regex> {
    (!p.trim().is_empty())
        .then(|| crate::codeowners::pattern_regex(p.trim()))
        .flatten()
}

/// How many days an open item of a kind may stay open, from its creation.
pub type Policies = BTreeMap<Kind, u32>;

/// An open item past its deadline.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Breach {
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub owner: String,
    pub deadline: Date,
    /// Whole days past the deadline.
    pub days_over: i32,
    /// "due date" or "security policy (30 days)".
    pub rule: String,
}

impl Item {
    /// The earlier of its due date and creation + its kind's policy, with the rule that set it.
    pub fn deadline(&self, policies: &Policies) -> Option<(Date, String)> {
        let by_policy = policies.get(&self.kind).and_then(|days| {
            let at = self
                .created
                .checked_add(jiff::Span::new().days(i64::from(*days)))
                .ok()?;
            Some((at, format!("{} policy ({days} days)", self.kind.as_str())))
        });
        let by_due = self.due.map(|d| (d, "due date".to_owned()));
        match (by_due, by_policy) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// True when one of its area patterns matches `path` in `repository`.
    pub fn covers(&self, repository: &str, path: &str) -> bool {
        self.repository.as_deref().is_none_or(|r| r == repository)
            && self
                .area
                .iter()
                .filter_map(|p| pattern(p))
                .any(|re| re.is_match(path))
    }
}

/// Open items whose deadline is before `today`, most overdue first.
pub fn breaches(items: &[Item], policies: &Policies, today: Date) -> Vec<Breach> {
    let mut out: Vec<Breach> = items
        .iter()
        .filter(|i| i.closed.is_none())
        .filter_map(|i| {
            let (deadline, rule) = i.deadline(policies)?;
            let days_over = (today - deadline).get_days();
            (deadline < today).then(|| Breach {
                id: i.id.clone(),
                title: i.title.clone(),
                kind: i.kind,
                owner: i.owner.clone(),
                deadline,
                days_over,
                rule,
            })
        })
        .collect();
    out.sort_by(|a, b| b.days_over.cmp(&a.days_over).then_with(|| a.id.cmp(&b.id)));
    out
}

/// The open portfolio at a glance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Portfolio {
    pub open: usize,
    pub closed: usize,
    pub open_by_category: BTreeMap<&'static str, usize>,
    pub open_by_kind: BTreeMap<&'static str, usize>,
    /// Hours to repay every open item with an estimate.
    pub cost_hours: f64,
    /// Hours per month the open items cost while they stay.
    pub interest_hours_per_month: f64,
    pub overdue: usize,
}

pub fn portfolio(items: &[Item], policies: &Policies, today: Date) -> Portfolio {
    let mut p = Portfolio::default();
    for i in items {
        if i.closed.is_some() {
            p.closed += 1;
            continue;
        }
        p.open += 1;
        *p.open_by_category.entry(i.category.as_str()).or_default() += 1;
        *p.open_by_kind.entry(i.kind.as_str()).or_default() += 1;
        p.cost_hours += i.cost_hours.unwrap_or(0.0);
        p.interest_hours_per_month += i.interest_hours_per_month.unwrap_or(0.0);
    }
    p.overdue = breaches(items, policies, today).len();
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &str = r#"
[[item]]
id = "D-1"
title = "Token comparison is not constant-time"
area = ["src/auth/"]
category = "accidental"
kind = "security"
owner = "platform"
cost_hours = 6
interest = "every login leaks timing"
created = 2026-01-01

[[item]]
id = "D-2"
title = "Report query scans the whole table"
area = ["src/report.rs", "migrations/"]
category = "tactical"
kind = "performance"
owner = "insights"
cost_hours = 24
interest_hours_per_month = 5
rationale = "shipped for the Q1 launch"
created = 2026-01-10
due = 2026-02-15

[[item]]
id = "D-3"
title = "Monolith kept while the product finds its market"
area = ["**"]
repository = "app"
category = "strategic"
kind = "maintainability"
owner = "platform"
interest_hours_per_month = 10
created = 2025-06-01

[[item]]
id = "D-4"
title = "Old audit log format"
area = ["audit/"]
category = "tactical"
kind = "compliance"
owner = "insights"
created = 2025-12-01
closed = 2026-01-20
"#;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// docs/metrics.md, "Debt register": policies security 30 days, performance 90.
    #[test]
    fn worked_example_breaches() {
        let items = parse(REGISTER).unwrap();
        let policies: Policies = [(Kind::Security, 30), (Kind::Performance, 90)].into();
        let at = |today: &str| -> Vec<(String, String, i32)> {
            breaches(&items, &policies, date(today))
                .into_iter()
                .map(|b| (b.id, b.deadline.to_string(), b.days_over))
                .collect()
        };
        // D-1 must close by 2026-01-31 (policy); D-2 by its due date 2026-02-15, earlier than
        // its policy's 2026-04-10; D-3 has no deadline; D-4 is closed.
        assert_eq!(at("2026-01-31"), []);
        assert_eq!(at("2026-02-01"), [("D-1".into(), "2026-01-31".into(), 1)]);
        assert_eq!(
            at("2026-03-01"),
            [
                ("D-1".into(), "2026-01-31".into(), 29),
                ("D-2".into(), "2026-02-15".into(), 14)
            ]
        );
        let p = portfolio(&items, &policies, date("2026-03-01"));
        assert_eq!((p.open, p.closed, p.overdue), (3, 1, 2));
        assert_eq!(p.cost_hours, 30.0);
        assert_eq!(p.interest_hours_per_month, 15.0);
        assert_eq!(p.open_by_category["tactical"], 1);
    }

    #[test]
    fn items_cover_hotspots_by_pattern_and_repository() {
        let items = parse(REGISTER).unwrap();
        assert!(items[0].covers("any", "src/auth/token.rs"));
        assert!(!items[0].covers("any", "src/authz.rs"));
        assert!(items[1].covers("any", "migrations/0001.sql"));
        assert!(items[2].covers("app", "deep/in/it.rs"));
        assert!(!items[2].covers("other", "deep/in/it.rs"));
    }

    fn error(text: &str) -> (usize, Option<String>, String) {
        let e = parse(text).unwrap_err();
        (e.line, e.field, e.message)
    }

    #[test]
    fn invalid_registers_are_refused_with_line_and_field() {
        let base = "[[item]]\nid = \"D-1\"\ntitle = \"t\"\narea = [\"src/\"]\ncategory = \"tactical\"\nkind = \"security\"\nowner = \"team\"\ncreated = 2026-01-01\n";
        assert!(parse(base).is_ok());
        let (line, field, message) = error(&base.replace("security", "securty"));
        assert_eq!((line, field.as_deref()), (6, Some("kind")));
        assert!(message.contains("securty"), "{message}");
        let (line, field, message) = error(&format!("{base}colour = \"red\"\n"));
        assert_eq!((line, field.as_deref()), (9, Some("colour")));
        assert!(message.contains("unknown field"), "{message}");
        let (line, field, _) = error(&format!("{base}due = 2025-12-01\n"));
        assert_eq!((line, field.as_deref()), (9, Some("due")));
        let (line, field, _) = error(&base.replace("2026-01-01", "\"soon\""));
        assert_eq!((line, field.as_deref()), (8, Some("created")));
        let (line, field, _) = error(&format!("{base}{base}"));
        assert_eq!((line, field.as_deref()), (10, Some("id")));
        let (line, field, _) = error(&base.replace("[\"src/\"]", "[]"));
        assert_eq!((line, field.as_deref()), (4, Some("area")));
        let (line, _, _) = error(&base.replace("owner = \"team\"\n", ""));
        assert_eq!(line, 1, "a missing field points at its item");
        assert!(
            error(&base.replace("owner = \"team\"\n", ""))
                .2
                .contains("owner")
        );
        let (line, _, _) = error("[[item]\n");
        assert_eq!(line, 1);
        let (line, field, _) = error(&format!("{base}cost_hours = -3\n"));
        assert_eq!((line, field.as_deref()), (9, Some("cost_hours")));
        for infinite in ["inf", "+inf", "nan"] {
            let (line, field, _) = error(&format!("{base}interest_hours_per_month = {infinite}\n"));
            assert_eq!(
                (line, field.as_deref()),
                (9, Some("interest_hours_per_month"))
            );
        }
        for glob in ["src/[ab]/", "!src/", "src/**x", "../src", "a\\\\b"] {
            let (line, field, message) = error(&base.replace("\"src/\"", &format!("{glob:?}")));
            assert_eq!((line, field.as_deref()), (4, Some("area")), "{glob}");
            assert!(message.contains("is not a path pattern"), "{message}");
        }
    }
}
