//! Webhook payloads mapped to domain [`Events`]: pure functions of the event name and the raw
//! body, so a mapping can be tested on real payloads and re-run on stored deliveries (`replay`).
//!
//! A body that is not JSON is a [`MappingError`] (the caller answers 400 and stores nothing).
//! Valid JSON that lacks a field the mapping needs is also an error, naming the field by its
//! path (`deployment_status.created_at`). Events leadline does not track map to an ignored
//! [`Mapping`] with the reason.

pub mod alerts;
pub mod github;
pub mod gitlab;

use jiff::Timestamp;
use leadline_core::events::{Events, Outcome, PushedCommit};
use leadline_core::model::Millis;
use serde_json::Value;

/// What a delivery maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub outcome: Outcome,
    /// What was mapped (`1 deployment`) or why nothing was.
    pub detail: String,
    pub events: Events,
}

impl Mapping {
    pub fn ignored(reason: impl Into<String>) -> Mapping {
        Mapping {
            outcome: Outcome::Ignored,
            detail: reason.into(),
            events: Events::default(),
        }
    }

    pub(crate) fn stored(events: Events) -> Mapping {
        Mapping {
            outcome: Outcome::Stored,
            detail: events.summary(),
            events,
        }
    }
}

/// Why a payload cannot be mapped; `field` is a JSON path, empty for the body as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct MappingError {
    pub field: String,
    pub message: String,
}

impl MappingError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> MappingError {
        MappingError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

pub(crate) type Mapped = Result<Mapping, MappingError>;

/// Parses a body as one JSON value.
pub(crate) fn parse(body: &[u8]) -> Result<Value, MappingError> {
    serde_json::from_slice(body).map_err(|e| MappingError::new("", format!("invalid JSON: {e}")))
}

/// A JSON value with the path it was reached by, so that every complaint names its field.
#[derive(Clone, Copy)]
pub(crate) struct Field<'a> {
    path: &'a str,
    value: Option<&'a Value>,
}

/// Paths are built as owned strings only when a field is missing or wrong.
pub(crate) struct Doc<'a>(pub &'a Value);

impl<'a> Doc<'a> {
    /// The value at a dotted path (`deployment.sha`); missing or null is `None`.
    pub fn get(&self, path: &'a str) -> Field<'a> {
        let mut value = Some(self.0);
        for key in path.split('.') {
            value = value.and_then(|v| v.get(key)).filter(|v| !v.is_null());
        }
        Field { path, value }
    }
}

impl<'a> Field<'a> {
    pub fn exists(&self) -> bool {
        self.value.is_some()
    }

    fn missing(&self) -> MappingError {
        MappingError::new(self.path, "is missing")
    }

    pub fn opt_str(&self) -> Result<Option<&'a str>, MappingError> {
        match self.value {
            None => Ok(None),
            // A NUL byte is never part of an id, a name or a time: it truncates in C consumers
            // and makes two different values print alike.
            Some(Value::String(s)) if s.contains('\0') => {
                Err(MappingError::new(self.path, "contains a NUL byte"))
            }
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(MappingError::new(self.path, "expected a string")),
        }
    }

    pub fn str(&self) -> Result<&'a str, MappingError> {
        self.opt_str()?.ok_or_else(|| self.missing())
    }

    /// A string or a number, as text (ids are numbers on GitHub, strings elsewhere).
    pub fn id(&self) -> Result<String, MappingError> {
        match self.value {
            None => Err(self.missing()),
            Some(Value::String(s)) if s.contains('\0') => {
                Err(MappingError::new(self.path, "contains a NUL byte"))
            }
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(MappingError::new(self.path, "expected an id")),
        }
    }

    pub fn opt_int(&self) -> Result<Option<i64>, MappingError> {
        match self.value {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| MappingError::new(self.path, "expected an integer")),
        }
    }

    pub fn int(&self) -> Result<i64, MappingError> {
        self.opt_int()?.ok_or_else(|| self.missing())
    }

    pub fn bool(&self) -> Result<bool, MappingError> {
        match self.value {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(MappingError::new(self.path, "expected true or false")),
        }
    }

    pub fn array(&self) -> Result<&'a [Value], MappingError> {
        match self.value {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(MappingError::new(self.path, "expected an array")),
        }
    }

    pub fn opt_time(&self) -> Result<Option<Millis>, MappingError> {
        match self.value {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => {
                let at = parse_time(s).ok_or_else(|| {
                    MappingError::new(self.path, format!("unreadable time {s:?}"))
                })?;
                self.in_range(at).map(Some)
            }
            Some(_) => Err(MappingError::new(self.path, "expected a time")),
        }
    }

    /// Milliseconds since the epoch given as a number (Opsgenie), in the sane range.
    pub fn epoch_millis(&self) -> Result<Millis, MappingError> {
        self.in_range(self.int()?)
    }

    /// `at` if it is a sane event instant (see [`crate::instant`]), else an error naming this
    /// field.
    pub fn in_range(&self, at: Millis) -> Result<Millis, MappingError> {
        crate::instant::check(at).map_err(|why| MappingError::new(self.path, why))
    }

    pub fn time(&self) -> Result<Millis, MappingError> {
        self.opt_time()?.ok_or_else(|| self.missing())
    }
}

/// A push's commits as pushed commits: GitHub and GitLab describe them alike (`commits[]`
/// with `id`, `message`, `timestamp`, `author.name`, `author.email`).
pub(crate) fn push_commits(
    doc: &Doc<'_>,
    forge: &str,
    repo: &str,
    ref_name: &str,
    received_at: Millis,
) -> Mapped {
    let mut commits = Vec::new();
    for (i, item) in doc.get("commits").array()?.iter().enumerate() {
        let c = Doc(item);
        let one = || -> Result<PushedCommit, MappingError> {
            Ok(PushedCommit {
                forge: forge.to_owned(),
                repo: repo.to_owned(),
                sha: c.get("id").str()?.to_owned(),
                ref_name: ref_name.to_owned(),
                author_name: c.get("author.name").str()?.to_owned(),
                author_email: c.get("author.email").opt_str()?.unwrap_or("").to_owned(),
                committed_at: c.get("timestamp").time()?,
                pushed_at: received_at,
                message: c.get("message").str()?.to_owned(),
            })
        };
        commits.push(
            one().map_err(|e| MappingError::new(&format!("commits.{i}.{}", e.field), e.message))?,
        );
    }
    if commits.is_empty() {
        return Ok(Mapping::ignored("a push without commits"));
    }
    Ok(Mapping::stored(Events {
        pushed_commits: commits,
        ..Events::default()
    }))
}

/// The postmortem action items a pull request's title and description name: all that is kept
/// of a description.
pub fn named_actions(title: &str, description: Option<&str>) -> Vec<String> {
    let text = format!("{title}\n{}", description.unwrap_or(""));
    leadline_core::postmortem::references_in(&text)
}

/// The issue keys (`PAY-12`) in a pull request's title, description and head branch name,
/// of any project: all that is kept of a branch name.
pub fn named_issue_keys(title: &str, description: Option<&str>, branch: &str) -> Vec<String> {
    let text = format!("{title}\n{}\n{branch}", description.unwrap_or(""));
    leadline_core::planning::issue_keys(&text, &[])
}

/// RFC 3339 (`2019-05-15T15:20:55Z`), or GitLab's `2021-04-28 21:50:00 +0200` and
/// `2016-08-12 15:23:28 UTC`.
pub fn parse_time(text: &str) -> Option<Millis> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t.as_millisecond());
    }
    let normalized = match text.strip_suffix(" UTC") {
        Some(rest) => format!("{rest} +0000"),
        None => text.to_owned(),
    };
    jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S %z", &normalized)
        .ok()?
        .to_timestamp()
        .ok()
        .map(|t| t.as_millisecond())
}

/// A full commit id: 40 (SHA-1) or 64 (SHA-256) hexadecimal digits.
pub(crate) fn is_full_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_the_formats_forges_send() {
        assert_eq!(parse_time("2019-05-15T15:20:55Z"), Some(1_557_933_655_000));
        assert_eq!(
            parse_time("2021-04-28 21:50:00 +0200"),
            parse_time("2021-04-28T19:50:00Z")
        );
        assert_eq!(
            parse_time("2016-08-12 15:23:28 UTC"),
            parse_time("2016-08-12T15:23:28Z")
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn fields_name_their_path() {
        let v: Value = serde_json::json!({"a": {"b": 3, "s": "x", "n": null}});
        let doc = Doc(&v);
        assert_eq!(doc.get("a.b").int(), Ok(3));
        assert_eq!(doc.get("a.b").id(), Ok("3".to_owned()));
        assert_eq!(
            doc.get("a.n").str().unwrap_err().to_string(),
            "a.n: is missing"
        );
        assert_eq!(
            doc.get("a.s").int().unwrap_err().to_string(),
            "a.s: expected an integer"
        );
        assert_eq!(doc.get("a.zz.y").opt_str(), Ok(None));
    }
}
