//! Domain rows: what sources and the git miner produce and what the store persists.
//!
//! Instants are UTC epoch milliseconds ([`Millis`]); the offset a signature was recorded with is
//! kept beside it in minutes so that local time can be shown without losing the instant.

use serde::Serialize;

/// UTC epoch milliseconds.
pub type Millis = i64;

/// A repository known to the store. `name` is what users type (`--repo NAME`); `location` is
/// the canonical path or URL it was ingested from, its natural key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repository {
    pub id: i64,
    pub name: String,
    pub location: String,
}

/// A person as recorded in a commit, after `.mailmap` resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

/// Who did something and when: an identity, an instant and the UTC offset it was recorded in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    pub identity: Identity,
    /// The identity exactly as written in the object, when `.mailmap` mapped it elsewhere.
    pub raw: Option<Identity>,
    pub at: Millis,
    pub offset_minutes: i32,
}

/// A `Key: value` line from the trailer block of a commit message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trailer {
    pub key: String,
    pub value: String,
}

/// How a path changed in a commit, as `git diff --name-status --no-renames` would say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChangeStatus {
    Added,
    Modified,
    Deleted,
    /// The entry changed kind (file, symlink, submodule) at the same path.
    TypeChanged,
}

impl ChangeStatus {
    pub fn code(self) -> &'static str {
        match self {
            ChangeStatus::Added => "A",
            ChangeStatus::Modified => "M",
            ChangeStatus::Deleted => "D",
            ChangeStatus::TypeChanged => "T",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "A" => ChangeStatus::Added,
            "M" => ChangeStatus::Modified,
            "D" => ChangeStatus::Deleted,
            "T" => ChangeStatus::TypeChanged,
            _ => return None,
        })
    }
}

/// One row of `git log --numstat --no-renames`. `added`/`deleted` are `None` for binary
/// content (git prints `-`). Paths are raw bytes: git paths need not be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub path: Vec<u8>,
    pub added: Option<u64>,
    pub deleted: Option<u64>,
    pub status: ChangeStatus,
    /// The complexity of the file after the change; `None` when it was deleted, is binary, or
    /// is not a regular file (a symlink or submodule).
    pub complexity: Option<Complexity>,
}

/// A language-agnostic complexity proxy of a text file (see "Hotspots" in docs/metrics.md):
/// its non-blank lines and their summed logical indentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Complexity {
    /// Lines holding anything but whitespace.
    pub lines: u32,
    /// The sum over those lines of their indentation depth: a tab, or four columns of spaces,
    /// is one level.
    pub indentation: u32,
}

impl Complexity {
    /// Measures `text`. Deeply nested code weighs more than flat code of the same length,
    /// which is what makes a file hard to change, whatever its language.
    pub fn of(text: &[u8]) -> Complexity {
        let mut c = Complexity::default();
        let mut start = 0;
        // memchr finds line ends many bytes at a time: this runs over every blob ingest reads.
        for end in memchr::memchr_iter(b'\n', text).chain(std::iter::once(text.len())) {
            let line = &text[start..end];
            start = end + 1;
            let mut columns = 0u32;
            let mut indent = 0;
            for &b in line {
                match b {
                    b' ' => columns += 1,
                    b'\t' => columns = (columns / 4 + 1) * 4,
                    _ => break,
                }
                indent += 1;
            }
            if line[indent..].iter().any(|b| !b.is_ascii_whitespace()) {
                c.lines = c.lines.saturating_add(1);
                c.indentation = c.indentation.saturating_add(columns / 4);
            }
        }
        c
    }

    /// The single number hotspots use: every non-blank line counts one, plus its depth.
    pub fn score(self) -> u64 {
        u64::from(self.lines) + u64::from(self.indentation)
    }
}

/// A regular file in the tree HEAD points to, as ingested: what hotspots rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeadFile {
    pub path: Vec<u8>,
    /// The blob's id, so an unchanged file is not measured again.
    pub blob: String,
    /// `None` for binary content.
    pub complexity: Option<Complexity>,
    /// What `.gitattributes` at HEAD say about who maintains it; `None` when they say nothing.
    pub linguist: Option<Linguist>,
}

/// GitHub Linguist's attributes in `.gitattributes`: `linguist-generated` and
/// `linguist-vendored` mark files nobody maintains by hand; either attribute explicitly unset
/// (`-linguist-vendored`, `linguist-generated=false`) marks a file that is, whatever its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Linguist {
    Generated,
    Vendored,
    ByHand,
}

impl Linguist {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Linguist::Generated => "generated",
            Linguist::Vendored => "vendored",
            Linguist::ByHand => "by_hand",
        }
    }

    /// The inverse of [`Linguist::as_str`]; `None` for anything else.
    pub fn parse(s: &str) -> Option<Linguist> {
        match s {
            "generated" => Some(Linguist::Generated),
            "vendored" => Some(Linguist::Vendored),
            "by_hand" => Some(Linguist::ByHand),
            _ => None,
        }
    }
}

/// A commit with everything mined from it. Merge commits carry no file changes (as
/// `git log --numstat` prints none for them); root commits are diffed against the empty tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    pub sha: String,
    pub parents: Vec<String>,
    pub author: Signature,
    pub committer: Signature,
    pub subject: String,
    /// The message after the subject line, trailers included; kept so later metrics (reverts,
    /// hotfix patterns) can read it without going back to git.
    pub body: String,
    pub trailers: Vec<Trailer>,
    pub file_changes: Vec<FileChange>,
}

impl Commit {
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }
}

/// What kind of reference a [`Ref`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RefKind {
    Head,
    Branch,
    Remote,
    Tag,
}

impl RefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::Head => "head",
            RefKind::Branch => "branch",
            RefKind::Remote => "remote",
            RefKind::Tag => "tag",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "head" => RefKind::Head,
            "branch" => RefKind::Branch,
            "remote" => RefKind::Remote,
            "tag" => RefKind::Tag,
            _ => return None,
        })
    }
}

/// A reference whose target peels to a commit. For annotated tags `tagger` holds the tag
/// object's tagger time, which is when a release was cut, not when its commit was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ref {
    /// Full name, e.g. `refs/tags/v1.2.0`, or `HEAD`.
    pub name: String,
    pub kind: RefKind,
    /// The commit the ref peels to.
    pub commit: String,
    pub annotated: bool,
    pub tagger_at: Option<Millis>,
    pub tagger_offset_minutes: Option<i32>,
}

impl Ref {
    /// The short name users know: `v1.2.0` for `refs/tags/v1.2.0`, `main` for `refs/heads/main`.
    pub fn short_name(&self) -> &str {
        ["refs/tags/", "refs/heads/", "refs/remotes/"]
            .iter()
            .find_map(|p| self.name.strip_prefix(p))
            .unwrap_or(&self.name)
    }
}

/// A deployment as imported, received or inferred; natural key (source, id). Only
/// `status == "success"` counts in metrics; other statuses are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    pub id: String,
    pub service: String,
    pub environment: String,
    pub sha: String,
    pub started_at: Option<Millis>,
    pub finished_at: Millis,
    pub status: String,
    /// The repository the sha belongs to, when the source says.
    pub repo: Option<String>,
}

/// An incident as imported, received or inferred; natural key (source, id).
///
/// `opened_at` is when the incident was declared (the record exists); the lifecycle instants
/// around it are optional because sources carry different subsets. No time may be earlier than
/// `started_at`, and `resolved_at` is never before `opened_at` (sources refuse otherwise).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub id: String,
    pub service: String,
    pub opened_at: Millis,
    pub resolved_at: Option<Millis>,
    /// When the impact began (an alert's `startsAt`), when known.
    pub started_at: Option<Millis>,
    /// When monitoring or a person noticed it.
    pub detected_at: Option<Millis>,
    /// When a responder acknowledged it.
    pub acknowledged_at: Option<Millis>,
    /// When the impact ended, before the incident was closed.
    pub mitigated_at: Option<Millis>,
    /// An alert's dedup key or a user's tag: incidents sharing one are the same problem.
    pub fingerprint: Option<String>,
    /// As the source spelled it; [`crate::incident::Severity::of`] normalises it.
    pub severity: Option<String>,
    pub title: Option<String>,
    /// The id of the deployment that caused it, when known.
    pub cause_deployment: Option<String>,
    /// The commit that caused it, when known.
    pub cause_sha: Option<String>,
    pub postmortem_url: Option<String>,
    /// The deployment that carried the fix, by id; it counts as rework.
    pub fix_deployment: Option<String>,
    /// The commit that fixed it (may be abbreviated); its first deployment counts as rework.
    pub fix_sha: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::Complexity;
    use proptest::prelude::*;

    proptest! {
        /// Lines are measured alone: joining two texts adds their complexities, and trailing
        /// whitespace or a CR never counts.
        #[test]
        fn complexity_adds_up_over_lines(a in "[ \t\ra-z\n]{0,60}", b in "[ \t\ra-z\n]{0,60}") {
            let joined = Complexity::of(format!("{a}\n{b}").as_bytes());
            let (ca, cb) = (Complexity::of(a.as_bytes()), Complexity::of(b.as_bytes()));
            prop_assert_eq!(joined.lines, ca.lines + cb.lines);
            prop_assert_eq!(joined.indentation, ca.indentation + cb.indentation);
            prop_assert_eq!(Complexity::of(a.replace('\n', " \r\n").as_bytes()), ca);
        }
    }

    /// docs/metrics.md, "Hotspots": the complexity of a small file.
    #[test]
    fn worked_example_complexity() {
        let text = b"fn main() {\n    if ok {\n\tgo();\n        }\n\n   \n  }\n";
        let c = Complexity::of(text);
        // Non-blank: 5 lines; depths 0, 1, 1 (a tab), 2, 0 (two spaces are not a level).
        assert_eq!(
            c,
            Complexity {
                lines: 5,
                indentation: 4
            }
        );
        assert_eq!(c.score(), 9);
        // CRLF and a missing final newline change nothing; tabs after spaces reach the next stop.
        assert_eq!(Complexity::of(b"a\r\n  \tb"), Complexity::of(b"a\n\tb"));
        assert_eq!(Complexity::of(b""), Complexity::default());
    }
}
