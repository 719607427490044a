//! Capacity allocation (see "Capacity allocation" in `docs/metrics.md`): what share of merged
//! work went to features, to debt and maintenance, to fixes, or to other things, per group and
//! month, against a target share for debt.
//!
//! A change is classified by the first evidence found, most explicit first: its labels, then
//! the conventional-commit type of its title (`refactor(api)!: …`), then the title's leading
//! word (`Fix crash`, `printer: fix crash`: projects that write no types still start with a
//! verb), then its paths (every changed path matches one class's patterns); else `other`. A
//! tracker issue (Jira) by its labels, then its issue type; else `other`.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Serialize;

use crate::dora::Window;
use crate::model::Millis;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Feature,
    Debt,
    Fix,
    Other,
}

impl Class {
    /// The classes rules can name, in the order their evidence is tried.
    pub const RULED: [Class; 3] = [Class::Fix, Class::Debt, Class::Feature];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Feature => "feature",
            Class::Debt => "debt",
            Class::Fix => "fix",
            Class::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Class> {
        [Class::Feature, Class::Debt, Class::Fix, Class::Other]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// The evidence that puts a change in one class.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    /// Conventional-commit types, lower case (`refactor`).
    pub prefixes: Vec<String>,
    /// Labels, compared case-insensitively.
    pub labels: Vec<String>,
    /// Path patterns (CODEOWNERS syntax) that, matching every changed path, decide the class.
    pub paths: Vec<Regex>,
    /// Tracker issue types (Jira's `Story`, `Bug`), compared case-insensitively.
    pub issue_types: Vec<String>,
}

/// One rule per ruled class.
#[derive(Debug, Clone)]
pub struct Rules(pub BTreeMap<Class, Rule>);

impl Default for Rules {
    /// Conventional Commits' common types, GitHub's default labels and Jira's issue types.
    fn default() -> Self {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        let rule = |prefixes: &[&str], labels: &[&str], issue_types: &[&str]| Rule {
            prefixes: owned(prefixes),
            labels: owned(labels),
            paths: Vec::new(),
            issue_types: owned(issue_types),
        };
        Rules(
            [
                (
                    Class::Feature,
                    rule(
                        &["feat", "feature"],
                        &["feature", "enhancement"],
                        &["Story", "New Feature", "Feature", "Improvement"],
                    ),
                ),
                (
                    Class::Debt,
                    rule(
                        &[
                            "refactor", "perf", "chore", "build", "ci", "test", "style", "deps",
                            "bump",
                        ],
                        &[
                            "tech-debt",
                            "technical debt",
                            "debt",
                            "refactor",
                            "refactoring",
                            "maintenance",
                            "dependencies",
                            "chore",
                        ],
                        &["Tech Debt", "Technical Debt", "Chore", "Maintenance"],
                    ),
                ),
                (
                    Class::Fix,
                    rule(
                        &["fix", "hotfix", "bugfix", "revert"],
                        &["bug", "fix", "bugfix", "regression"],
                        &crate::planning::DEFECT_TYPES,
                    ),
                ),
            ]
            .into(),
        )
    }
}

/// A merged change to classify.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub title: &'a str,
    pub labels: &'a [String],
    pub paths: &'a [String],
}

/// The conventional-commit type of a title: `feat` in `feat(ui)!: x`, lower case.
pub fn conventional_type(title: &str) -> Option<String> {
    let (head, _) = title.trim_start().split_once(':')?;
    let head = head.trim_end_matches('!');
    let kind = match head.split_once('(') {
        Some((kind, scope)) if scope.ends_with(')') => kind,
        Some(_) => return None,
        None => head,
    };
    (!kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then(|| kind.to_ascii_lowercase())
}

/// The first word of a title after an optional `scope: ` prefix, lower case: `fix` in
/// `crates/printer: Fix overflow` and in `Fixes #12`.
pub fn leading_word(title: &str) -> Option<String> {
    let rest = match title.split_once(": ") {
        Some((scope, rest)) if !scope.contains(' ') => rest,
        _ => title,
    };
    let word: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    (!word.is_empty()).then_some(word)
}

/// `word` is `prefix` or one of its inflections (`fixes`, `fixed`, `fixing`, `reverted`).
fn inflects(word: &str, prefix: &str) -> bool {
    word.strip_prefix(prefix)
        .is_some_and(|rest| ["", "s", "es", "ed", "d", "ing"].contains(&rest))
}

impl Rules {
    /// The rules in the order their evidence is tried (fix, debt, feature).
    fn ruled(&self) -> impl Iterator<Item = (Class, &Rule)> {
        Class::RULED
            .into_iter()
            .filter_map(|k| Some((k, self.0.get(&k)?)))
    }

    /// The class of the first rule naming one of `labels`, case-insensitively.
    fn by_label(&self, labels: &[String]) -> Option<Class> {
        let labels: Vec<String> = labels.iter().map(|l| l.to_lowercase()).collect();
        self.ruled()
            .find(|(_, r)| r.labels.iter().any(|l| labels.contains(&l.to_lowercase())))
            .map(|(k, _)| k)
    }

    pub fn classify(&self, c: Change<'_>) -> Class {
        if let Some(k) = self.by_label(c.labels) {
            return k;
        }
        if let Some(kind) = conventional_type(c.title)
            && let Some((k, _)) = self.ruled().find(|(_, r)| r.prefixes.contains(&kind))
        {
            return k;
        }
        if let Some(word) = leading_word(c.title)
            && let Some((k, _)) = self
                .ruled()
                .find(|(_, r)| r.prefixes.iter().any(|p| inflects(&word, p)))
        {
            return k;
        }
        if !c.paths.is_empty()
            && let Some((k, _)) = self.ruled().find(|(_, r)| {
                !r.paths.is_empty()
                    && c.paths
                        .iter()
                        .all(|p| r.paths.iter().any(|re| re.is_match(p)))
            })
        {
            return k;
        }
        Class::Other
    }

    /// A tracker issue's class: its labels first (as a change's), then its type; else other.
    pub fn classify_issue(&self, issue_type: &str, labels: &[String]) -> Class {
        self.by_label(labels)
            .or_else(|| {
                self.ruled()
                    .find(|(_, r)| {
                        r.issue_types
                            .iter()
                            .any(|t| t.eq_ignore_ascii_case(issue_type))
                    })
                    .map(|(k, _)| k)
            })
            .unwrap_or(Class::Other)
    }
}

/// Merged changes per class in one period (a month, or a whole window), with the debt share.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Allocation {
    /// The bucket's start, `YYYY-MM` for months (set by the caller).
    pub period: String,
    pub feature: usize,
    pub debt: usize,
    pub fix: usize,
    pub other: usize,
    /// debt / all, `None` with nothing merged.
    pub debt_share: Option<f64>,
    /// debt_share − the target, when a target is set.
    pub versus_target: Option<f64>,
}

/// Counts classified changes merged at `at` into `buckets`; the period labels are the caller's.
pub fn allocate(
    changes: &[(Millis, Class)],
    buckets: &[(String, Window)],
    target: Option<f64>,
) -> Vec<Allocation> {
    buckets
        .iter()
        .map(|(period, w)| {
            let mut counts: BTreeMap<Class, usize> = BTreeMap::new();
            for (at, class) in changes {
                if w.since <= *at && *at < w.until {
                    *counts.entry(*class).or_default() += 1;
                }
            }
            let n = |c| counts.get(&c).copied().unwrap_or(0);
            let total: usize = counts.values().sum();
            let debt_share = (total > 0).then(|| n(Class::Debt) as f64 / total as f64);
            Allocation {
                period: period.clone(),
                feature: n(Class::Feature),
                debt: n(Class::Debt),
                fix: n(Class::Fix),
                other: n(Class::Other),
                versus_target: debt_share.zip(target).map(|(s, t)| s - t),
                debt_share,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(rules: &Rules, title: &str, labels: &[&str], paths: &[&str]) -> Class {
        let labels: Vec<String> = labels.iter().map(|s| (*s).to_owned()).collect();
        let paths: Vec<String> = paths.iter().map(|s| (*s).to_owned()).collect();
        rules.classify(Change {
            title,
            labels: &labels,
            paths: &paths,
        })
    }

    #[test]
    fn conventional_types() {
        assert_eq!(
            conventional_type("feat(ui)!: dark mode").as_deref(),
            Some("feat")
        );
        assert_eq!(
            conventional_type("Refactor: split").as_deref(),
            Some("refactor")
        );
        assert_eq!(conventional_type("fix!: crash").as_deref(), Some("fix"));
        assert_eq!(conventional_type("Update README"), None);
        assert_eq!(
            conventional_type("Note: see (this): x"),
            Some("note".into())
        );
        assert_eq!(conventional_type("a b: c"), None);
        assert_eq!(conventional_type("feat(ui: x"), None);
        assert_eq!(
            leading_word("crates/printer: Fix overflow").as_deref(),
            Some("fix")
        );
        assert_eq!(leading_word("Fixes #12").as_deref(), Some("fixes"));
        assert_eq!(
            leading_word("Update the docs: all").as_deref(),
            Some("update")
        );
        assert!(inflects("fixes", "fix") && inflects("reverted", "revert"));
        assert!(!inflects("fixture", "fix") && !inflects("testing-x", "tests"));
    }

    /// docs/metrics.md, "Capacity allocation", Jira: a label outranks the type, types compare
    /// case-insensitively, a type no rule names is other.
    #[test]
    fn issues_by_label_then_type() {
        let rules = Rules::default();
        let labels = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let classes = [
            rules.classify_issue("Story", &labels(&[])),
            rules.classify_issue("Story", &labels(&["Tech-Debt"])),
            rules.classify_issue("bug", &labels(&["customer"])),
            rules.classify_issue("Technical Debt", &labels(&[])),
            rules.classify_issue("Task", &labels(&[])),
            rules.classify_issue("Task", &labels(&["regression"])),
        ];
        assert_eq!(
            classes,
            [
                Class::Feature,
                Class::Debt,
                Class::Fix,
                Class::Debt,
                Class::Other,
                Class::Fix
            ]
        );
    }

    /// docs/metrics.md, "Capacity allocation": six changes in January, four in February, with
    /// lock files as maintenance by path; target 0.2.
    #[test]
    fn worked_example_allocation() {
        let mut rules = Rules::default();
        rules.0.get_mut(&Class::Debt).unwrap().paths =
            vec![crate::codeowners::pattern_regex("*.lock").unwrap()];
        let jan = [
            classify(&rules, "feat: search", &[], &["src/search.rs"]),
            classify(&rules, "Add export", &["enhancement"], &[]),
            // A label outranks the title's type.
            classify(&rules, "feat: faster list", &["tech-debt"], &[]),
            classify(&rules, "fix(api): 500 on empty body", &[], &[]),
            classify(&rules, "Bump serde", &[], &["Cargo.lock"]),
            classify(&rules, "Update README", &[], &["README.md"]),
        ];
        assert_eq!(
            jan,
            [
                Class::Feature,
                Class::Feature,
                Class::Debt,
                Class::Fix,
                Class::Debt,
                Class::Other
            ]
        );
        let feb = [
            classify(&rules, "refactor: split parser", &[], &[]),
            classify(&rules, "feat: tags", &[], &[]),
            classify(&rules, "Hotfix", &["Bug"], &[]),
            classify(&rules, "misc", &[], &["Cargo.lock", "src/x.rs"]),
        ];
        assert_eq!(feb, [Class::Debt, Class::Feature, Class::Fix, Class::Other]);
        // Without a type, the leading word: a verb most projects start with.
        assert_eq!(
            classify(&rules, "printer: Fixed overflow", &[], &[]),
            Class::Fix
        );
        assert_eq!(
            classify(&rules, "Refactoring the walker", &[], &[]),
            Class::Debt
        );
        assert_eq!(
            classify(&rules, "Fixture for walker", &[], &[]),
            Class::Other
        );
        let changes: Vec<(Millis, Class)> = jan
            .iter()
            .map(|c| (5, *c))
            .chain(feb.iter().map(|c| (15, *c)))
            .collect();
        let buckets = [
            (
                "2026-01".to_owned(),
                Window {
                    since: 0,
                    until: 10,
                },
            ),
            (
                "2026-02".to_owned(),
                Window {
                    since: 10,
                    until: 20,
                },
            ),
            (
                "2026-03".to_owned(),
                Window {
                    since: 20,
                    until: 30,
                },
            ),
        ];
        let a = allocate(&changes, &buckets, Some(0.2));
        let rows: Vec<(usize, usize, usize, usize, Option<f64>)> = a
            .iter()
            .map(|a| (a.feature, a.debt, a.fix, a.other, a.debt_share))
            .collect();
        assert_eq!(
            rows,
            [
                (2, 2, 1, 1, Some(2.0 / 6.0)),
                (1, 1, 1, 1, Some(0.25)),
                (0, 0, 0, 0, None)
            ]
        );
        assert!((a[0].versus_target.unwrap() - (2.0 / 6.0 - 0.2)).abs() < 1e-12);
        assert_eq!(a[2].versus_target, None);
    }
}
