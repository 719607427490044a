//! docs/metrics.md, "AI-assisted changes": spellings seen in real repositories, and near
//! misses that must stay human.

use super::*;

fn who(name: &str, email: &str) -> Identity {
    Identity {
        name: name.into(),
        email: email.into(),
    }
}

fn human() -> Identity {
    who("Ann Smith", "ann@example.com")
}

fn class_of(trailers: &[(&str, &str)], message: &str) -> Class {
    let trailers: Vec<(String, String)> = trailers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Rules::default()
        .classify(&human(), &human(), &trailers, message)
        .0
}

#[test]
fn assistants_named_in_trailers_in_every_spelling() {
    for (key, value) in [
        ("Co-authored-by", "Claude <noreply@anthropic.com>"),
        ("Co-Authored-By", "Claude <noreply@anthropic.com>"),
        (
            "co-authored-by",
            "Claude Sonnet 4.5 <noreply@anthropic.com>",
        ),
        ("Co-authored-by", "Claude Opus 4.1 <noreply@anthropic.com>"),
        (
            "Co-authored-by",
            "Copilot <175728472+Copilot@users.noreply.github.com>",
        ),
        ("Co-authored-by", "GitHub Copilot <copilot@github.com>"),
        ("Co-authored-by", "Cursor Agent <cursoragent@cursor.com>"),
        (
            "Co-authored-by",
            "aider (anthropic/claude-3-7-sonnet) <noreply@aider.chat>",
        ),
        (
            "Co-authored-by",
            "gemini-code-assist[bot] <176961590+gemini-code-assist[bot]@users.noreply.github.com>",
        ),
        (
            "Co-authored-by",
            "devin-ai-integration[bot] <158243242+devin-ai-integration[bot]@users.noreply.github.com>",
        ),
        ("Co-authored-by", "Codex <codex@openai.com>"),
        ("Co-authored-by", "Amazon Q Developer"),
        ("Assisted-by", "Claude:claude-3-opus"),
        ("Generated-by", "GitHub Copilot"),
        ("AI-assisted", "yes"),
        ("AI-Assisted", "True"),
    ] {
        assert_eq!(
            class_of(&[(key, value)], "x"),
            Class::AiAssisted,
            "{key}: {value}"
        );
    }
}

#[test]
fn footers_of_assistants_count_and_prose_does_not() {
    let claude_code = "Fix the parser\n\nIt dropped the last token.\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Someone <someone@example.com>";
    assert_eq!(class_of(&[], claude_code), Class::AiAssisted);
    let prose = "Compare with Claude\n\nGenerated with Claude Code, the summary said, but we rewrote it.\n\nThen we tested it by hand.\n\nSigned-off-by: Ann <ann@example.com>";
    assert_eq!(
        class_of(&[("Signed-off-by", "Ann <ann@example.com>")], prose),
        Class::Human
    );
}

#[test]
fn near_misses_stay_human() {
    for (key, value) in [
        ("Co-authored-by", "Claude Monet <claude@monet.fr>"),
        ("Co-authored-by", "Devin Smith <devin@example.com>"),
        ("Co-authored-by", "Jules Verne <jules@example.com>"),
        ("Co-authored-by", "Claudia <claudia@example.com>"),
        ("Co-authored-by", "Jane Doe <jane@anthropic.com>"),
        ("AI-assisted", "no"),
        ("Reviewed-by", "Claude <noreply@anthropic.com>"),
    ] {
        assert_eq!(
            class_of(&[(key, value)], "x"),
            Class::Human,
            "{key}: {value}"
        );
    }
    // A human revert of an AI commit: its message names the commit, not the assistant.
    let revert =
        "Revert \"Add cache\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.";
    assert_eq!(class_of(&[], revert), Class::Human);
}

#[test]
fn agents_that_commit_are_ai_authored() {
    let rules = Rules::default();
    for author in [
        who(
            "copilot-swe-agent[bot]",
            "198982749+Copilot@users.noreply.github.com",
        ),
        who("Copilot", "198982749+Copilot@users.noreply.github.com"),
        who(
            "devin-ai-integration[bot]",
            "158243242+devin-ai-integration[bot]@users.noreply.github.com",
        ),
        who(
            "google-labs-jules[bot]",
            "161369871+google-labs-jules[bot]@users.noreply.github.com",
        ),
        who("Paul Gauthier (aider)", "paul@aider.chat"),
    ] {
        let (class, why) = rules.classify(&author, &human(), &[], "x");
        assert_eq!(class, Class::AiAuthored, "{author:?}");
        assert!(why.is_some());
    }
    // An agent committing a person's change (the committer) authors it too; a person named
    // Devin does not.
    let (class, _) = rules.classify(&human(), &who("Claude", "noreply@anthropic.com"), &[], "x");
    assert_eq!(class, Class::AiAuthored);
    let (class, _) = rules.classify(&who("Devin", "devin@example.com"), &human(), &[], "x");
    assert_eq!(class, Class::Human);
}

#[test]
fn labels_are_compared_without_case() {
    let rules = Rules::default();
    assert!(rules.labelled(&["AI-Generated".into()]));
    assert!(!rules.labelled(&["bug".into()]));
}
