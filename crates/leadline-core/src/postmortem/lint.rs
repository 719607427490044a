//! The blameless-language lint: a postmortem describes systems, conditions and roles, never
//! whose fault it was. It reports the names and emails of people the history knows and blame
//! phrasing, each with its line and a neutral wording to use instead. Warnings, not errors: a
//! reviewer decides.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};
use serde::Serialize;

use crate::model::Identity;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// 1-based line in the file.
    pub line: usize,
    /// What was found, as written.
    pub found: String,
    pub kind: FindingKind,
    pub suggestion: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A person's name or email.
    Person,
    /// Phrasing that assigns blame.
    Blame,
}

/// Blame phrasings and what to write instead.
const PHRASES: [(&str, &str); 7] = [
    (
        r"\b[\w.-]+['’]s\s+fault\b|\b(?:the\s+)?fault\s+of\b|\bat\s+fault\b",
        "describe the conditions that allowed it (\"the deploy had no canary stage\"), not whose fault it was",
    ),
    (
        r"\bcareless(?:ly|ness)?\b|\bnegligen(?:t|ce)\b|\bsloppy\b|\breckless(?:ly)?\b|\bincompeten(?:t|ce)\b|\blazy\b",
        "describe what made the mistake easy to make (a missing guard rail, an unclear runbook, time pressure)",
    ),
    (
        r"\bshould\s+have\s+(?:known|noticed|caught|checked|seen|realised|realized|tested)\b",
        "say what information was missing at the time (\"the dashboard did not show queue depth\")",
    ),
    (
        r"\bhuman\s+error\b",
        "name the system condition that made the error possible (a missing check, a confusing interface): human error is where the inquiry starts, not a root cause",
    ),
    (
        r"\b(?:to\s+blame|blamed|blaming|blame)\b",
        "describe events and conditions; the review does not assign blame",
    ),
    (
        r"\bforgot\s+to\b",
        "say which step relied on memory and what would make it automatic (a checklist, a CI check)",
    ),
    (
        r"\b(?:his|her)\s+mistake\b|\bmade\s+a\s+mistake\b",
        "describe the action and the context it was taken in, with the role (\"the on-call engineer\")",
    ),
];

static BLAME: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    PHRASES
        .iter()
        .map(|(pattern, suggestion)| {
            let re = RegexBuilder::new(pattern)
                .case_insensitive(true)
                .build()
                .unwrap_or_else(|e| panic!("blame pattern {pattern:?}: {e}"));
            (re, *suggestion)
        })
        .collect()
});

/// What to write instead of a person's name.
const PERSON: &str = "use the role (\"the on-call engineer\", \"the payments team\") or the system instead of a person";

/// The people to look for: every name and email, each at most once. Names of one or two
/// letters and bots would only produce noise.
pub struct People {
    needles: Option<Regex>,
}

impl People {
    pub fn new(people: &[Identity]) -> People {
        let mut words: Vec<String> = Vec::new();
        for p in people {
            for word in [p.name.trim(), p.email.trim()] {
                let lower = word.to_lowercase();
                if word.chars().count() >= 3
                    && !lower.contains("[bot]")
                    && !lower.contains("noreply")
                    && !words.iter().any(|w| w.to_lowercase() == lower)
                {
                    words.push(word.to_owned());
                }
            }
        }
        // Longest first, so "Ann Smith" is reported rather than a shorter name inside it.
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let alternatives: Vec<String> = words
            .iter()
            .map(|w| {
                // A name may be split over spaces differently; any run of spaces matches.
                regex::escape(w).replace(' ', r"\s+")
            })
            .collect();
        let needles = (!alternatives.is_empty()).then(|| {
            RegexBuilder::new(&format!(
                r"(?:^|[^\w@.+-])({})(?:$|[^\w@-])",
                alternatives.join("|")
            ))
            .case_insensitive(true)
            .size_limit(1 << 26)
            .build()
            .ok()
        });
        People {
            needles: needles.flatten(),
        }
    }
}

/// Every finding in `text`, by line.
pub fn lint(text: &str, people: &People) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(re) = &people.needles {
            for c in re.captures_iter(line) {
                if let Some(m) = c.get(1) {
                    findings.push(Finding {
                        line: i + 1,
                        found: m.as_str().to_owned(),
                        kind: FindingKind::Person,
                        suggestion: PERSON.to_owned(),
                    });
                }
            }
        }
        for (re, suggestion) in BLAME.iter() {
            for m in re.find_iter(line) {
                findings.push(Finding {
                    line: i + 1,
                    found: m.as_str().to_owned(),
                    kind: FindingKind::Blame,
                    suggestion: (*suggestion).to_owned(),
                });
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str, email: &str) -> Identity {
        Identity {
            name: name.into(),
            email: email.into(),
        }
    }

    #[test]
    fn names_and_emails_of_people_are_found_on_their_lines() {
        let people = People::new(&[
            person("Ann Smith", "ann@example.com"),
            person(
                "dependabot[bot]",
                "49699333+dependabot[bot]@users.noreply.github.com",
            ),
            person("Jo", "jo@example.com"),
        ]);
        let text = "## Timeline\n10:02 ann smith rolled back\nPaged ann@example.com.\nJo and Annabel checked.\nThe annsmith job ran.\n";
        let found: Vec<_> = lint(text, &people)
            .into_iter()
            .map(|f| (f.line, f.found))
            .collect();
        // "Jo" is too short to tell from a word; "Annabel" and "annsmith" are other words.
        assert_eq!(
            found,
            [
                (2, "ann smith".to_owned()),
                (3, "ann@example.com".to_owned())
            ]
        );
    }

    #[test]
    fn blame_phrasing_is_found_with_a_suggestion() {
        let people = People::new(&[]);
        let text = "It was Bob's fault.\nThe engineer was careless.\nWe should have known.\nRoot cause: human error\nThe rollout is fine.\n";
        let found: Vec<_> = lint(text, &people)
            .into_iter()
            .map(|f| (f.line, f.kind))
            .collect();
        assert_eq!(
            found,
            [
                (1, FindingKind::Blame),
                (2, FindingKind::Blame),
                (3, FindingKind::Blame),
                (4, FindingKind::Blame)
            ]
        );
        assert!(lint("A faultless failover.\n", &people).is_empty());
    }
}
