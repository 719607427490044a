//! Which files people maintain by hand. Hotspots rank only those: lock files, change logs,
//! vendored and generated code change in many commits and are long, so they would top every
//! list while nobody could make them simpler (see "Hotspots" in `docs/metrics.md`).
//!
//! The first rule that speaks decides, in this order:
//! 1. `[health] include` patterns: maintained by hand, whatever else says otherwise;
//! 2. `[health] exclude` patterns: not;
//! 3. `.gitattributes` at HEAD, as GitHub Linguist reads them: `linguist-generated` or
//!    `linguist-vendored` set is not, either one explicitly unset is;
//! 4. the built-in patterns ([`BUILT_IN`]).
//!
//! Patterns have CODEOWNERS syntax (see [`crate::codeowners::pattern_regex`]).

use regex::Regex;

use crate::codeowners::{pattern_problem, pattern_regex};
use crate::model::Linguist;

/// Paths nobody maintains by hand unless configured or attributed otherwise: lock files,
/// change logs, vendored and installed dependencies, minified bundles.
pub const BUILT_IN: &[&str] = &[
    "*.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "go.sum",
    "CHANGELOG*",
    "changelog*",
    "vendor/",
    "third_party/",
    "node_modules/",
    "*.min.js",
    "*.min.css",
];

/// A pattern `[health] include` or `exclude` cannot use.
#[derive(Debug, thiserror::Error)]
#[error("[health] {setting}: invalid path pattern {pattern:?}: {why}")]
pub struct InvalidPattern {
    pub setting: &'static str,
    pub pattern: String,
    pub why: &'static str,
}

#[derive(Debug)]
struct Rule {
    pattern: String,
    regex: Regex,
}

impl Rule {
    fn compile(setting: &'static str, pattern: &str) -> Result<Rule, InvalidPattern> {
        let invalid = |why| InvalidPattern {
            setting,
            pattern: pattern.to_owned(),
            why,
        };
        if let Some(why) = pattern_problem(pattern) {
            return Err(invalid(why));
        }
        let regex = pattern_regex(pattern).ok_or_else(|| invalid("it is not a path pattern"))?;
        Ok(Rule {
            pattern: pattern.to_owned(),
            regex,
        })
    }

    fn first<'r>(rules: &'r [Rule], path: &str) -> Option<&'r Rule> {
        rules.iter().find(|r| r.regex.is_match(path))
    }
}

/// The rules of one configuration: built-ins plus `[health] include` and `exclude`.
#[derive(Debug)]
pub struct HandRules {
    include: Vec<Rule>,
    exclude: Vec<Rule>,
    built_in: Vec<Rule>,
}

impl Default for HandRules {
    fn default() -> Self {
        HandRules::new(&[], &[]).expect("the built-in patterns are valid")
    }
}

impl HandRules {
    /// Built-ins plus the configured patterns; an error names the first invalid one.
    pub fn new(include: &[String], exclude: &[String]) -> Result<HandRules, InvalidPattern> {
        let compile = |setting, patterns: &[String]| -> Result<Vec<Rule>, InvalidPattern> {
            patterns.iter().map(|p| Rule::compile(setting, p)).collect()
        };
        let built_in: Vec<String> = BUILT_IN.iter().map(|p| (*p).to_owned()).collect();
        Ok(HandRules {
            include: compile("include", include)?,
            exclude: compile("exclude", exclude)?,
            built_in: compile("built-in", &built_in)?,
        })
    }

    /// `None` when people maintain `path` by hand, otherwise the rule that says they do not,
    /// e.g. `.gitattributes linguist-generated` or `built-in "*.lock"`. `linguist` is what
    /// HEAD's `.gitattributes` say about it.
    pub fn why_not(&self, path: &str, linguist: Option<Linguist>) -> Option<String> {
        if Rule::first(&self.include, path).is_some() {
            return None;
        }
        if let Some(rule) = Rule::first(&self.exclude, path) {
            return Some(format!("[health] exclude {:?}", rule.pattern));
        }
        match linguist {
            Some(Linguist::Generated) => {
                return Some(".gitattributes linguist-generated".to_owned());
            }
            Some(Linguist::Vendored) => return Some(".gitattributes linguist-vendored".to_owned()),
            Some(Linguist::ByHand) => return None,
            None => {}
        }
        Rule::first(&self.built_in, path).map(|rule| format!("built-in {:?}", rule.pattern))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// docs/metrics.md, "Hotspots": which files are maintained by hand, and why not.
    #[test]
    fn worked_example_rules_in_order() {
        let rules = HandRules::new(
            &strings(&["vendor/ours/", "CHANGELOG.md"]),
            &strings(&["gen/", "*.pb.go"]),
        )
        .unwrap();
        let cases: &[(&str, Option<Linguist>, Option<&str>)] = &[
            ("src/main.rs", None, None),
            ("Cargo.lock", None, Some("built-in \"*.lock\"")),
            (
                "web/package-lock.json",
                None,
                Some("built-in \"package-lock.json\""),
            ),
            ("vendor/lib/x.go", None, Some("built-in \"vendor/\"")),
            ("vendor/ours/y.go", None, None),
            ("vendor/ours/y.go", Some(Linguist::Vendored), None),
            ("CHANGELOG.md", None, None),
            ("docs/CHANGELOG.txt", None, Some("built-in \"CHANGELOG*\"")),
            ("api/gen/client.ts", None, Some("[health] exclude \"gen/\"")),
            (
                "api/x.pb.go",
                Some(Linguist::ByHand),
                Some("[health] exclude \"*.pb.go\""),
            ),
            (
                "src/parser.c",
                Some(Linguist::Generated),
                Some(".gitattributes linguist-generated"),
            ),
            (
                "lib/jquery.js",
                Some(Linguist::Vendored),
                Some(".gitattributes linguist-vendored"),
            ),
            ("third_party/patched.c", Some(Linguist::ByHand), None),
            ("dist/app.min.js", None, Some("built-in \"*.min.js\"")),
        ];
        for (path, linguist, want) in cases {
            assert_eq!(
                rules.why_not(path, *linguist).as_deref(),
                *want,
                "{path} with {linguist:?}"
            );
        }
    }

    #[test]
    fn invalid_patterns_are_named() {
        let e = HandRules::new(&[], &strings(&["ok/", "[ab]*.c"]))
            .err()
            .unwrap();
        assert_eq!(e.setting, "exclude");
        assert_eq!(e.pattern, "[ab]*.c");
        assert!(e.to_string().contains("character ranges"), "{e}");
        assert!(HandRules::new(&strings(&[""]), &[]).is_err());
    }

    #[test]
    fn built_ins_apply_without_configuration() {
        let rules = HandRules::default();
        assert!(rules.why_not("ui/node_modules/a/index.js", None).is_some());
        assert!(rules.why_not("docs/changes.md", None).is_none());
    }
}
