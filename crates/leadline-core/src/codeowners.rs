//! CODEOWNERS files: which owners a path has (the last matching rule wins, as on GitHub and
//! GitLab), and which teams those are. Patterns as GitHub documents them: `*` within a path
//! segment, `**` across segments, a leading `/` or an inner `/` anchors at the root, a trailing
//! `/` means a directory's whole content, a pattern without `/` matches at any depth, and a last
//! segment with a wildcard (`docs/*`) does not reach into subdirectories.

use regex::Regex;

/// One rule: a pattern and its owners (`@org/team`, `@user`, emails); none means unowned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub pattern: String,
    pub owners: Vec<String>,
}

/// Rules read from a CODEOWNERS file, in file order. GitLab's sections (`[Documentation]
/// @docs-team`, `^[Optional]`, `[Section][2]`) give their default owners to the entries below
/// them that name none; an entry with owners of its own keeps them.
pub fn parse(text: &str) -> Vec<Rule> {
    let mut defaults: Vec<String> = Vec::new();
    let mut rules = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // An inline comment starts at a `#` after whitespace.
        let line = line.split(" #").next().unwrap_or(line);
        if let Some(owners) = section_owners(line) {
            defaults = owners;
            continue;
        }
        let mut parts = line.split_whitespace();
        let Some(pattern) = parts.next() else {
            continue;
        };
        let mut owners: Vec<String> = parts.map(str::to_owned).collect();
        if owners.is_empty() {
            owners.clone_from(&defaults);
        }
        rules.push(Rule {
            pattern: pattern.to_owned(),
            owners,
        });
    }
    rules
}

/// The default owners of a GitLab section header (`^[Name][2] @a @b`), or `None` when `line`
/// is no header.
fn section_owners(line: &str) -> Option<Vec<String>> {
    let rest = line.strip_prefix('^').unwrap_or(line).strip_prefix('[')?;
    let (_, mut rest) = rest.split_once(']')?;
    // An optional count of required approvals: `[2]`.
    if let Some(after) = rest.strip_prefix('[')
        && let Some((count, tail)) = after.split_once(']')
        && count.chars().all(|c| c.is_ascii_digit())
    {
        rest = tail;
    }
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Why `pattern` is not a CODEOWNERS path pattern, if it is not. GitHub's syntax has `*`,
/// `**` as a whole segment, `?` and a trailing `/`; character ranges, negation, escapes and
/// `..` are not part of it and would silently match nothing (or something else).
pub fn pattern_problem(pattern: &str) -> Option<&'static str> {
    if pattern.trim().is_empty() {
        return Some("it is empty");
    }
    if pattern.contains(['[', ']']) {
        return Some("character ranges ([...]) are not supported");
    }
    if pattern.starts_with('!') {
        return Some("negation (!) is not supported");
    }
    if pattern.contains('\\') || pattern.chars().any(char::is_control) {
        return Some("backslashes and control characters are not allowed");
    }
    if pattern.contains("***") {
        return Some("*** is not a wildcard");
    }
    let segments = pattern.trim_matches('/').split('/');
    for segment in segments {
        if segment == ".." || segment == "." {
            return Some("relative segments (. and ..) are not allowed");
        }
        if segment.contains("**") && segment != "**" {
            return Some("** must be a whole path segment (a/**/b)");
        }
    }
    None
}

/// A pattern as an anchored regular expression over `/`-separated paths; `None` for what
/// [`pattern_problem`] refuses.
pub fn pattern_regex(pattern: &str) -> Option<Regex> {
    if pattern_problem(pattern).is_some() {
        return None;
    }
    let directory = pattern.ends_with('/');
    let trimmed = pattern.trim_end_matches('/');
    let anchored = trimmed.starts_with('/') || trimmed.contains('/');
    let body = trimmed.trim_start_matches('/');
    let mut re = String::from("^");
    if !anchored {
        re.push_str("(?:.*/)?");
    }
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                // `**/` matches zero or more directories.
                if chars.peek() == Some(&'/') {
                    chars.next();
                    re.push_str("(?:.*/)?");
                } else {
                    re.push_str(".*");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    // A name also owns what is below it (a directory); a last segment with a wildcard
    // (`docs/*`, `*.js`) matches only entries themselves, not deeper ones.
    let last = body.rsplit('/').next().unwrap_or(body);
    re.push_str(if directory {
        "/.*$"
    } else if last.contains(['*', '?']) {
        "$"
    } else {
        "(?:/.*)?$"
    });
    Regex::new(&re).ok()
}

/// Compiled rules.
pub struct CodeOwners {
    rules: Vec<(Regex, Vec<String>)>,
}

impl CodeOwners {
    pub fn new(rules: &[Rule]) -> CodeOwners {
        CodeOwners {
            rules: rules
                .iter()
                .filter_map(|r| Some((pattern_regex(&r.pattern)?, r.owners.clone())))
                .collect(),
        }
    }

    /// The owners of `path`: those of the last rule matching it.
    pub fn owners(&self, path: &str) -> &[String] {
        self.rules
            .iter()
            .rev()
            .find(|(re, _)| re.is_match(path))
            .map_or(&[], |(_, owners)| owners.as_slice())
    }
}

/// The team an owner names: `@org/team` -> `team`; people (`@user`, emails) are no team.
pub fn team_of_owner(owner: &str) -> Option<&str> {
    let (_, team) = owner.strip_prefix('@')?.split_once('/')?;
    (!team.is_empty()).then_some(team)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_sections_give_their_default_owners() {
        let rules = parse(
            "* @org/core\n\
             [Documentation] @org/docs\n\
             docs/\n\
             README.md @ann\n\
             ^[Optional][2] @org/qa @bob\n\
             tests/ # the QA team's\n\
             [Empty]\n\
             scratch/\n",
        );
        let owners: Vec<(&str, Vec<&str>)> = rules
            .iter()
            .map(|r| {
                (
                    r.pattern.as_str(),
                    r.owners.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            owners,
            [
                ("*", vec!["@org/core"]),
                ("docs/", vec!["@org/docs"]),
                ("README.md", vec!["@ann"]),
                ("tests/", vec!["@org/qa", "@bob"]),
                ("scratch/", vec![]),
            ]
        );
    }

    #[test]
    fn last_matching_rule_wins_with_gitignore_patterns() {
        let rules = parse(
            "# owners\n\
             *       @org/everyone\n\
             *.js    @org/web  # front end\n\
             /build/logs/ @org/ops\n\
             docs/*  docs@example.com\n\
             apps/   @org/apps\n\
             **/migrations/** @org/data\n\
             /vendor/\n",
        );
        let owners = CodeOwners::new(&rules);
        let of = |p: &str| owners.owners(p).to_vec();
        assert_eq!(of("README.md"), ["@org/everyone"]);
        assert_eq!(of("src/app.js"), ["@org/web"]);
        assert_eq!(of("build/logs/today.log"), ["@org/ops"]);
        // An anchored directory does not match deeper copies of its name.
        assert_eq!(of("src/build/logs/x.log"), ["@org/everyone"]);
        // `docs/*`: files directly in docs/, not deeper.
        assert_eq!(of("docs/intro.md"), ["docs@example.com"]);
        assert_eq!(of("docs/api/v1.md"), ["@org/everyone"]);
        // `apps/` without an anchor: any directory named apps.
        assert_eq!(of("apps/web/main.rs"), ["@org/apps"]);
        assert_eq!(of("tools/apps/x.rs"), ["@org/apps"]);
        assert_eq!(of("db/migrations/0001.sql"), ["@org/data"]);
        // A rule without owners leaves the path unowned.
        assert!(of("vendor/lib.c").is_empty());
        assert_eq!(team_of_owner("@org/web"), Some("web"));
        assert_eq!(team_of_owner("@someone"), None);
        assert_eq!(team_of_owner("docs@example.com"), None);
    }
}
