//! Which changes an AI wrote or helped write, from what the commit trail says about itself:
//! the author or committer is an agent identity (`ai_authored`), or the trailer block names an
//! assistant — a `Co-authored-by` of an assistant, an `Assisted-by:`, `Generated-by:` or
//! `AI-assisted: yes` trailer, or a "Generated with …" footer line of an assistant
//! (`ai_assisted`) — else `human`. Only the end of a message counts, never its prose, and every
//! rule is data ([`Rules`], `[ai]` in leadline.toml) so new spellings need no release.

use serde::Serialize;

use crate::model::Identity;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Human,
    AiAssisted,
    AiAuthored,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Human => "human",
            Class::AiAssisted => "ai_assisted",
            Class::AiAuthored => "ai_authored",
        }
    }
}

/// What marks AI involvement.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Lower-case fragments of an email (or `[bot]` login) that belong to an AI agent or
    /// assistant: `noreply@anthropic.com`, `copilot-swe-agent[bot]`. An author or committer
    /// matching one is an agent; a co-author matching one, an assistant.
    pub identities: Vec<String>,
    /// Assistant names as people write them in a `Co-authored-by` or a footer: `claude`,
    /// `github copilot`. A name counts when it is one of these, optionally followed by model
    /// words (`Claude Sonnet 4`, `aider (gpt-4o)`), and its email is no one's own.
    pub assistants: Vec<String>,
    /// Trailer keys whose presence means AI assistance (`assisted-by`, `generated-by`), and
    /// `ai-assisted`, which needs a yes.
    pub trailers: Vec<String>,
    /// Pull request labels meaning AI assistance.
    pub labels: Vec<String>,
}

impl Default for Rules {
    fn default() -> Self {
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        Rules {
            // Addresses assistants commit with, never a domain: the people who build them
            // have addresses there too.
            identities: own(&[
                "noreply@anthropic.com",
                "claude@anthropic.com",
                "noreply@openai.com",
                "codex@openai.com",
                "noreply@aider.chat",
                "cursoragent@cursor.com",
                "noreply@cursor.com",
                "noreply@codeium.com",
                "noreply@windsurf.com",
                "openhands@all-hands.dev",
                "+copilot@users.noreply.github.com",
                "copilot@github.com",
                "copilot-swe-agent[bot]",
                "copilot[bot]",
                "devin-ai-integration[bot]",
                "google-labs-jules[bot]",
                "gemini-code-assist[bot]",
                "claude[bot]",
                "chatgpt-codex-connector[bot]",
                "codex[bot]",
                "cursor[bot]",
                "amazon-q-developer[bot]",
                "openhands-agent",
                "sweep-ai[bot]",
            ]),
            assistants: own(&[
                "claude",
                "claude code",
                "anthropic claude",
                "copilot",
                "github copilot",
                "copilot agent",
                "codex",
                "openai codex",
                "chatgpt",
                "aider",
                "cursor",
                "cursor agent",
                "gemini",
                "gemini code assist",
                "google gemini",
                "amazon q",
                "amazon q developer",
                "devin",
                "jules",
                "windsurf",
                "codeium",
                "cody",
                "tabnine",
                "openhands",
            ]),
            trailers: own(&["assisted-by", "generated-by", "ai-assisted"]),
            labels: own(&["ai-assisted", "ai-generated", "copilot", "ai"]),
        }
    }
}

/// Words that may follow an assistant's name: models, versions, roles.
fn model_word(w: &str) -> bool {
    const WORDS: [&str; 16] = [
        "code",
        "opus",
        "sonnet",
        "haiku",
        "agent",
        "assistant",
        "ai",
        "bot",
        "[bot]",
        "pro",
        "flash",
        "model",
        "developer",
        "cli",
        "chat",
        "preview",
    ];
    WORDS.contains(&w)
        || w.starts_with('(')
        || w.ends_with(')')
        || w.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | 'o' | 'v'))
}

/// `Name <email>` as (name, email), either possibly empty.
fn split_identity(value: &str) -> (String, String) {
    match value.split_once('<') {
        Some((name, rest)) => (
            name.trim().to_lowercase(),
            rest.trim_end().trim_end_matches('>').trim().to_lowercase(),
        ),
        None => (value.trim().to_lowercase(), String::new()),
    }
}

impl Rules {
    /// The email (or login) belongs to an AI.
    fn ai_email(&self, email: &str) -> bool {
        !email.is_empty() && self.identities.iter().any(|i| email.contains(i.as_str()))
    }

    /// The name is an assistant's: one of [`Rules::assistants`], then only model words.
    fn assistant_name(&self, name: &str) -> bool {
        let name = name.trim().trim_start_matches('@');
        self.assistants.iter().any(|a| {
            name == a
                || name
                    .strip_prefix(a.as_str())
                    .filter(|rest| rest.starts_with([' ', '(', '-', '/']))
                    .is_some_and(|rest| {
                        rest.split([' ', '-', '/'])
                            .filter(|w| !w.is_empty())
                            .all(model_word)
                    })
        })
    }

    /// An author or committer that is an agent: its email is an AI's, or its name is marked
    /// `(aider)`, as aider marks the commits it writes.
    fn agent(&self, who: &Identity) -> Option<String> {
        let email = who.email.to_lowercase();
        let name = who.name.to_lowercase();
        // The rule names the pattern, never the person behind an identity.
        if let Some(pattern) = self
            .identities
            .iter()
            .find(|i| email.contains(i.as_str()) || name.contains(i.as_str()))
        {
            return Some(format!("agent identity {pattern}"));
        }
        name.trim_end()
            .ends_with("(aider)")
            .then(|| "agent identity marked (aider)".to_owned())
    }

    /// A co-author that is an assistant: an AI's email, or an assistant's name with no email,
    /// a no-reply one, or a bot's.
    fn assistant(&self, value: &str) -> bool {
        let (name, email) = split_identity(value);
        self.ai_email(&email)
            || (self.assistant_name(&name)
                && (email.is_empty() || email.contains("noreply") || email.contains("[bot]")))
    }

    /// The class of one change and the rule that decided it.
    pub fn classify(
        &self,
        author: &Identity,
        committer: &Identity,
        trailers: &[(String, String)],
        message: &str,
    ) -> (Class, Option<String>) {
        if let Some(why) = self.agent(author).or_else(|| self.agent(committer)) {
            return (Class::AiAuthored, Some(why));
        }
        for (key, value) in trailers {
            let key = key.trim().to_lowercase();
            if key == "co-authored-by" && self.assistant(value) {
                return (
                    Class::AiAssisted,
                    Some(format!("Co-authored-by: {}", value.trim())),
                );
            }
            if self.trailers.contains(&key) {
                let yes = key != "ai-assisted"
                    || matches!(
                        value.trim().to_lowercase().as_str(),
                        "yes" | "true" | "y" | "1"
                    );
                if yes {
                    return (Class::AiAssisted, Some(format!("{key}: {}", value.trim())));
                }
            }
        }
        if let Some(line) = self.footer(message) {
            return (Class::AiAssisted, Some(line));
        }
        (Class::Human, None)
    }

    /// A "Generated with <assistant>" line in the last two paragraphs of the message (where
    /// assistants write it, just above the trailers).
    fn footer(&self, message: &str) -> Option<String> {
        let paragraphs: Vec<&str> = message
            .trim_end()
            .split("\n\n")
            .filter(|p| !p.trim().is_empty())
            .collect();
        let tail = &paragraphs[paragraphs.len().saturating_sub(2)..];
        for line in tail.iter().flat_map(|p| p.lines()) {
            let lower = line.to_lowercase();
            let start = lower.trim_start_matches(|c: char| !c.is_alphanumeric());
            for lead in [
                "generated with ",
                "generated by ",
                "co-authored with ",
                "created with ",
            ] {
                if let Some(rest) = start.strip_prefix(lead) {
                    let name: String = rest
                        .trim_start_matches('[')
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '.'))
                        .collect();
                    let name = name.trim();
                    let words: Vec<&str> = name.split(' ').collect();
                    // The assistant's name, then words up to the end of the name part.
                    let named = (1..=words.len().min(4))
                        .any(|n| self.assistant_name(&words[..n].join(" ")));
                    if named {
                        return Some(format!("footer: {}", line.trim()));
                    }
                }
            }
        }
        None
    }

    /// A pull request is AI-assisted by one of its labels.
    pub fn labelled(&self, labels: &[String]) -> bool {
        labels
            .iter()
            .any(|l| self.labels.iter().any(|r| r.eq_ignore_ascii_case(l.trim())))
    }
}

#[cfg(test)]
mod tests;
