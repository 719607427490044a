//! Jira's documented response shapes, read into planning's issues (issue 25: the HTTP sync,
//! storage and `ingest jira` build on these).
//!
//! - Search: Jira Cloud's `GET /rest/api/3/search/jql` pages with `nextPageToken` and `isLast`;
//!   Data Center's `GET /rest/api/2/search` (and Cloud's older search) with `startAt`,
//!   `maxResults` and `total`. [`next_page`] reads either.
//! - An issue's `fields` hold the type, status (with its category), priority, labels,
//!   components, parent, dates; story points sit in a custom field found by its name
//!   ([`story_points_field`] over `GET /rest/api/3/field`); the assignee is read only to find the
//!   team and is never kept.
//! - The changelog (`expand=changelog`, or `GET …/issue/{key}/changelog` pages) lists status
//!   changes; a status's category comes from `GET /rest/api/3/status` ([`status_categories`]).
//! - Times are like `2024-01-15T10:30:00.000+0000` (no colon in the offset).

use std::collections::HashMap;

use leadline_core::model::Millis;
use leadline_core::planning::{Category, SprintChange, Transition};
use leadline_core::store::TrackedSprint;
use serde_json::Value;

/// Where the next page of a search is, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Cloud's enhanced search: pass `nextPageToken`.
    Token(String),
    /// Offset pagination: the next `startAt`.
    StartAt(u64),
}

/// The next page of a search answer, in either pagination style; `None` on the last page.
pub fn next_page(body: &Value) -> Option<Next> {
    if let Some(token) = body.get("nextPageToken").and_then(Value::as_str) {
        let last = body.get("isLast").and_then(Value::as_bool).unwrap_or(false);
        return (!last && !token.is_empty()).then(|| Next::Token(token.to_owned()));
    }
    let start = body.get("startAt").and_then(Value::as_u64)?;
    let issues = body
        .get("issues")
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as u64;
    let total = body.get("total").and_then(Value::as_u64)?;
    // An empty page ends the listing whatever `total` says (issues deleted meanwhile).
    (issues > 0 && start + issues < total).then_some(Next::StartAt(start + issues))
}

/// A Jira time (`2024-01-15T10:30:00.000+0000`, or RFC 3339) as milliseconds.
pub fn time(text: &str) -> Option<Millis> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_millisecond());
    }
    // +hhmm → +hh:mm
    let (head, offset) = text.split_at(text.len().checked_sub(5)?);
    let fixed = format!("{head}{}:{}", &offset[..3], &offset[3..]);
    fixed
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// Status id → category, from `GET /rest/api/3/status` (an array of statuses).
pub fn status_categories(body: &Value) -> HashMap<String, Category> {
    body.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let id = s.get("id").and_then(Value::as_str)?;
            let key = s.pointer("/statusCategory/key").and_then(Value::as_str)?;
            Some((id.to_owned(), Category::from_key(key)))
        })
        .collect()
}

/// The id of the field called `name` (case-insensitive) in `GET /rest/api/3/field`.
pub fn field_named(fields: &Value, name: &str) -> Option<String> {
    fields.as_array()?.iter().find_map(|f| {
        let found = f.get("name").and_then(Value::as_str)?;
        found
            .eq_ignore_ascii_case(name)
            .then(|| f.get("id").and_then(Value::as_str).map(str::to_owned))?
    })
}

/// The id of the story points field, found by name in `GET /rest/api/3/field`: `wanted` when
/// configured, else "Story Points" or "Story point estimate" (case-insensitive), as Jira
/// Software names it in company- and team-managed projects.
pub fn story_points_field(fields: &Value, wanted: Option<&str>) -> Option<String> {
    let names: Vec<String> = match wanted {
        Some(w) => vec![w.to_lowercase()],
        None => vec!["story points".to_owned(), "story point estimate".to_owned()],
    };
    fields.as_array()?.iter().find_map(|f| {
        let name = f.get("name").and_then(Value::as_str)?.to_lowercase();
        names
            .contains(&name)
            .then(|| f.get("id").and_then(Value::as_str).map(str::to_owned))?
    })
}

/// An issue as the search returns it, with the person-free fields planning needs.
#[derive(Debug, Clone, PartialEq)]
pub struct JiraIssue {
    pub key: String,
    pub project: String,
    pub issue_type: String,
    pub status: String,
    pub category: Category,
    pub priority: Option<String>,
    pub labels: Vec<String>,
    pub components: Vec<String>,
    /// The parent (the epic of a story in team-managed projects, or of a subtask).
    pub parent: Option<String>,
    pub story_points: Option<f64>,
    /// The assignee's account id or name, only to find the team; never stored.
    pub assignee: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub resolved_at: Option<Millis>,
    /// Status changes from the changelog, oldest first.
    pub transitions: Vec<Transition>,
    /// Moves between sprints from the changelog, oldest first.
    pub sprint_changes: Vec<SprintChange>,
    /// The sprints its Sprint field holds now (set by the sync, which knows the field's id).
    pub sprints: Vec<i64>,
    /// Whether the changelog in the answer is complete (`total` ≤ entries): else it is read
    /// page by page from the issue's changelog.
    pub changelog_complete: bool,
}

/// Why an issue in an answer cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {field}: {message}")]
pub struct Unreadable {
    pub key: String,
    pub field: String,
    pub message: String,
}

/// One issue of a search answer. `points` is the story points field's id; `statuses` maps
/// status ids to categories (a transition to an unknown status counts as `new`).
pub fn issue(
    v: &Value,
    points: Option<&str>,
    statuses: &HashMap<String, Category>,
) -> Result<JiraIssue, Unreadable> {
    let key = v
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let bad = |field: &str, message: &str| Unreadable {
        key: key.clone(),
        field: field.to_owned(),
        message: message.to_owned(),
    };
    if key.is_empty() {
        return Err(bad("key", "missing"));
    }
    let f = v.get("fields").ok_or_else(|| bad("fields", "missing"))?;
    let text = |p: &str| f.pointer(p).and_then(Value::as_str).map(str::to_owned);
    let when = |name: &str| -> Result<Option<Millis>, Unreadable> {
        match f.get(name).and_then(Value::as_str) {
            None => Ok(None),
            Some(t) => time(t)
                .map(Some)
                .ok_or_else(|| bad(name, &format!("{t:?} is not a time"))),
        }
    };
    let names = |name: &str, inner: Option<&str>| -> Vec<String> {
        f.get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| match inner {
                Some(k) => x.get(k).and_then(Value::as_str),
                None => x.as_str(),
            })
            .map(str::to_owned)
            .collect()
    };
    let (transitions, changelog_complete) = changelog(v.get("changelog"), statuses, &key)?;
    Ok(JiraIssue {
        project: text("/project/key")
            .or_else(|| key.rsplit_once('-').map(|(p, _)| p.to_owned()))
            .unwrap_or_default(),
        issue_type: text("/issuetype/name").ok_or_else(|| bad("issuetype", "missing"))?,
        status: text("/status/name").unwrap_or_default(),
        category: Category::from_key(&text("/status/statusCategory/key").unwrap_or_default()),
        priority: text("/priority/name"),
        labels: names("labels", None),
        components: names("components", Some("name")),
        parent: text("/parent/key"),
        story_points: points.and_then(|p| f.get(p)).and_then(number),
        assignee: text("/assignee/accountId").or_else(|| text("/assignee/name")),
        created_at: when("created")?.ok_or_else(|| bad("created", "missing"))?,
        updated_at: when("updated")?.ok_or_else(|| bad("updated", "missing"))?,
        resolved_at: when("resolutiondate")?,
        transitions,
        sprint_changes: sprint_changes(v.get("changelog")),
        sprints: Vec::new(),
        changelog_complete,
        key,
    })
}

/// A number, or a string holding one (some field types come as text).
fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// The status changes of a changelog (`{histories: [{created, items: [{field, to}]}], total}`),
/// oldest first, and whether it is complete.
pub fn changelog(
    log: Option<&Value>,
    statuses: &HashMap<String, Category>,
    key: &str,
) -> Result<(Vec<Transition>, bool), Unreadable> {
    let Some(log) = log else {
        return Ok((Vec::new(), false));
    };
    // The issue's own changelog pages say `values`; the search's expansion says `histories`.
    let histories = log
        .get("histories")
        .or_else(|| log.get("values"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for h in &histories {
        let created = h.get("created").and_then(Value::as_str).unwrap_or_default();
        let at = time(created).ok_or_else(|| Unreadable {
            key: key.to_owned(),
            field: "changelog.created".to_owned(),
            message: format!("{created:?} is not a time"),
        })?;
        for item in h
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if item.get("field").and_then(Value::as_str) != Some("status") {
                continue;
            }
            let to = item.get("to").and_then(Value::as_str).unwrap_or_default();
            out.push(Transition {
                at,
                to: statuses.get(to).copied().unwrap_or(Category::New),
            });
        }
    }
    out.sort_by_key(|t| t.at);
    let total = log.get("total").and_then(Value::as_u64);
    let complete = total.is_none_or(|t| t as usize <= histories.len());
    Ok((out, complete))
}

/// An issue's moves between sprints from a changelog (entries of the `Sprint` field, whose
/// `from` and `to` hold sprint ids as `"12, 13"`), oldest first.
pub fn sprint_changes(log: Option<&Value>) -> Vec<SprintChange> {
    let histories = log
        .and_then(|l| l.get("histories").or_else(|| l.get("values")))
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let ids = |v: Option<&Value>| -> Vec<i64> {
        v.and_then(Value::as_str)
            .unwrap_or_default()
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .collect()
    };
    let mut out: Vec<SprintChange> = histories
        .filter_map(|h| {
            let at = time(h.get("created").and_then(Value::as_str)?)?;
            Some(
                h.get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|item| {
                        item.get("field")
                            .and_then(Value::as_str)
                            .is_some_and(|f| f.eq_ignore_ascii_case("sprint"))
                    })
                    .map(move |item| SprintChange {
                        at,
                        from: ids(item.get("from")),
                        to: ids(item.get("to")),
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect();
    out.sort_by_key(|c| c.at);
    out
}

/// The sprint ids an issue's Sprint field holds now: objects with an `id` (Cloud, recent Data
/// Center) or Data Center's older `"com.atlassian.greenhopper.service.sprint.Sprint@…[id=12,…]"`.
pub fn sprint_ids(field: Option<&Value>) -> Vec<i64> {
    field
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| match s {
            Value::Object(_) => s.get("id").and_then(Value::as_i64),
            Value::String(text) => {
                let start = text.find("[id=").map(|i| i + 4)?;
                let digits: String = text[start..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse().ok()
            }
            _ => None,
        })
        .collect()
}

/// The sprints of one page of the agile API's sprint listing, and whether it was the last page
/// (`isLast`). A sprint without an id or with an unreadable date is refused, naming it.
pub fn agile_sprints(body: &Value) -> Result<(Vec<TrackedSprint>, bool), Unreadable> {
    let mut out = Vec::new();
    for v in body
        .get("values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
        let bad = |field: &str, message: String| Unreadable {
            key: format!("sprint {name:?}"),
            field: field.to_owned(),
            message,
        };
        let id = v
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("id", "missing".to_owned()))?;
        let when = |field: &str| match v.get(field).and_then(Value::as_str) {
            None => Ok(None),
            Some(t) => time(t)
                .map(Some)
                .ok_or_else(|| bad(field, format!("{t:?} is not a time"))),
        };
        out.push(TrackedSprint {
            id,
            name: name.to_owned(),
            state: v
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or("future")
                .to_lowercase(),
            started_at: when("startDate")?,
            ends_at: when("endDate")?,
            completed_at: when("completeDate")?,
        });
    }
    let last = body.get("isLast").and_then(Value::as_bool).unwrap_or(true) || out.is_empty();
    Ok((out, last))
}

/// The ids of the scrum boards (kanban boards have no sprints) of one page of
/// `GET /rest/agile/1.0/board?projectKeyOrId=…`, and whether it was the last page.
pub fn scrum_boards(body: &Value) -> (Vec<i64>, bool) {
    let boards: Vec<i64> = body
        .get("values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("scrum"))
        .filter_map(|b| b.get("id").and_then(Value::as_i64))
        .collect();
    let last = body.get("isLast").and_then(Value::as_bool).unwrap_or(true);
    (boards, last)
}

/// Jira Cloud (REST v3, the enhanced search) or Data Center (REST v2, offset search).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Cloud,
    DataCenter,
}

impl Flavour {
    fn api(self) -> &'static str {
        match self {
            Flavour::Cloud => "/rest/api/3",
            Flavour::DataCenter => "/rest/api/2",
        }
    }
}

/// Where a sync stands, stored with each page: the `updated` floor of finished syncs, and,
/// inside a sync, where its listing stopped (a killed sync resumes there).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    /// The newest `updated` of the issues a finished sync stored.
    pub since: Option<Millis>,
    /// The page a running sync fetches next: a token, or a `startAt`.
    pub token: Option<String>,
    pub start_at: Option<u64>,
    /// The newest `updated` seen so far by the running sync.
    pub seen: Option<Millis>,
}

/// What a sync is asked for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub projects: Vec<String>,
    /// More JQL, ANDed with the projects.
    pub jql: Option<String>,
    /// The story points field's name, when it is not Jira Software's.
    pub story_points: Option<String>,
}

/// Where a sync stores each page with the cursor that follows it.
pub trait IssueSink {
    fn save(
        &mut self,
        issues: Vec<JiraIssue>,
        cursor: &str,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
    fn notice(&mut self, message: &str);
}

/// What a sync did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    pub issues: usize,
    pub pages: usize,
    pub resumed: bool,
}

/// The client's waits and retries report through the issue sink.
struct Notices<'a, S>(&'a mut S);

impl<S: IssueSink + Send> crate::forge::Sink for Notices<'_, S> {
    async fn save(&mut self, _: leadline_core::events::Events, _: &str) -> Result<(), String> {
        Ok(())
    }
    fn progress(&mut self, _: &str, _: u64) {}
    fn total(&mut self, _: &str, _: u64) {}
    fn notice(&mut self, message: &str) {
        self.0.notice(message);
    }
}

async fn get_json<S: IssueSink + Send>(
    client: &crate::forge::Client,
    url: &str,
    sink: &mut S,
) -> Result<Value, crate::forge::ForgeError> {
    match client.get(url, None, &mut Notices(sink)).await? {
        crate::forge::Fetched::Page { body, .. } => Ok(body),
        crate::forge::Fetched::NotModified => Ok(Value::Null),
    }
}

/// `?a=b&…` with each value percent-encoded.
fn query_string(pairs: &[(&str, String)]) -> String {
    let encode = |v: &str| -> String {
        v.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("?{}", parts.join("&"))
}

/// The JQL of a sync: the projects, the extra JQL, issues updated since the floor (a minute
/// early: JQL times have minutes), oldest update first.
pub fn jql(query: &Query, floor: Option<Millis>) -> String {
    let projects: Vec<String> = query.projects.iter().map(|p| format!("\"{p}\"")).collect();
    let mut out = format!("project in ({})", projects.join(", "));
    if let Some(extra) = query.jql.as_deref().filter(|j| !j.trim().is_empty()) {
        out.push_str(&format!(" AND ({extra})"));
    }
    if let Some(floor) = floor {
        let t = jiff::Timestamp::from_millisecond(floor - 60_000)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .strftime("%Y-%m-%d %H:%M");
        out.push_str(&format!(" AND updated >= \"{t}\""));
    }
    out.push_str(" ORDER BY updated ASC");
    out
}

/// Syncs the issues of `query` updated since the cursor, page by page: each page is stored
/// with the cursor that follows it, so a killed sync resumes at its page.
pub async fn sync<S: IssueSink + Send>(
    client: &crate::forge::Client,
    flavour: Flavour,
    query: &Query,
    mut cursor: Cursor,
    sink: &mut S,
) -> Result<Synced, crate::forge::ForgeError> {
    let api = flavour.api();
    let statuses =
        status_categories(&get_json(client, &client.url(&format!("{api}/status")), sink).await?);
    let fields = get_json(client, &client.url(&format!("{api}/field")), sink).await?;
    let points = story_points_field(&fields, query.story_points.as_deref());
    let sprint_field = field_named(&fields, "sprint");
    let mut synced = Synced {
        resumed: cursor.token.is_some() || cursor.start_at.is_some(),
        ..Synced::default()
    };
    let jql = jql(query, cursor.since);
    loop {
        let mut params = vec![
            ("jql", jql.clone()),
            ("maxResults", "100".to_owned()),
            ("expand", "changelog".to_owned()),
            ("fields", "*all".to_owned()),
        ];
        let path = match flavour {
            Flavour::Cloud => {
                if let Some(t) = &cursor.token {
                    params.push(("nextPageToken", t.clone()));
                }
                format!("{api}/search/jql")
            }
            Flavour::DataCenter => {
                params.push(("startAt", cursor.start_at.unwrap_or(0).to_string()));
                format!("{api}/search")
            }
        };
        let url = client.url(&format!("{path}{}", query_string(&params)));
        let body = get_json(client, &url, sink).await?;
        let mut issues = Vec::new();
        for v in body
            .get("issues")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut i = issue(v, points.as_deref(), &statuses).map_err(|e| {
                crate::forge::ForgeError::Body {
                    url: url.clone(),
                    message: e.to_string(),
                }
            })?;
            if !i.changelog_complete {
                (i.transitions, i.sprint_changes) =
                    full_changelog(client, flavour, &i.key, &statuses, sink).await?;
                i.changelog_complete = true;
            }
            if let Some(field) = &sprint_field {
                i.sprints = sprint_ids(v.pointer(&format!("/fields/{field}")));
            }
            cursor.seen = cursor.seen.max(Some(i.updated_at));
            issues.push(i);
        }
        synced.pages += 1;
        synced.issues += issues.len();
        let next = next_page(&body);
        (cursor.token, cursor.start_at) = match &next {
            Some(Next::Token(t)) => (Some(t.clone()), None),
            Some(Next::StartAt(n)) => (None, Some(*n)),
            None => (None, None),
        };
        if next.is_none() {
            cursor.since = cursor.seen.or(cursor.since);
            cursor.seen = None;
        }
        let text = serde_json::to_string(&cursor).unwrap_or_default();
        sink.save(issues, &text)
            .await
            .map_err(crate::forge::ForgeError::Sink)?;
        if next.is_none() {
            return Ok(synced);
        }
    }
}

/// The sprints of the scrum boards of `projects` (`/rest/agile/1.0`, offset pages with
/// `isLast`); a sprint on several boards comes once.
pub async fn sync_sprints<S: IssueSink + Send>(
    client: &crate::forge::Client,
    projects: &[String],
    sink: &mut S,
) -> Result<Vec<TrackedSprint>, crate::forge::ForgeError> {
    let mut boards = Vec::new();
    for project in projects {
        let mut start = 0;
        loop {
            let url = client.url(&format!(
                "/rest/agile/1.0/board{}",
                query_string(&[
                    ("projectKeyOrId", project.clone()),
                    ("startAt", start.to_string())
                ])
            ));
            let body = get_json(client, &url, sink).await?;
            let seen = body
                .get("values")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let (found, last) = scrum_boards(&body);
            boards.extend(found);
            if last || seen == 0 {
                break;
            }
            start += seen;
        }
    }
    boards.sort_unstable();
    boards.dedup();
    let mut sprints: Vec<TrackedSprint> = Vec::new();
    for board in boards {
        let mut start = 0;
        loop {
            let url = client.url(&format!(
                "/rest/agile/1.0/board/{board}/sprint?startAt={start}"
            ));
            let body = get_json(client, &url, sink).await?;
            let (page, last) =
                agile_sprints(&body).map_err(|e| crate::forge::ForgeError::Body {
                    url: url.clone(),
                    message: e.to_string(),
                })?;
            start += page.len();
            sprints.extend(page);
            if last {
                break;
            }
        }
    }
    sprints.sort_by_key(|s| s.id);
    sprints.dedup_by_key(|s| s.id);
    Ok(sprints)
}

/// Every status change and sprint move of `key`, page by page (Cloud: `…/issue/{key}/changelog`; Data Center
/// answers the whole changelog with `?expand=changelog`).
async fn full_changelog<S: IssueSink + Send>(
    client: &crate::forge::Client,
    flavour: Flavour,
    key: &str,
    statuses: &HashMap<String, Category>,
    sink: &mut S,
) -> Result<(Vec<Transition>, Vec<SprintChange>), crate::forge::ForgeError> {
    let api = flavour.api();
    let (mut out, mut moves) = (Vec::new(), Vec::new());
    if flavour == Flavour::DataCenter {
        let url = client.url(&format!("{api}/issue/{key}?expand=changelog&fields=status"));
        let body = get_json(client, &url, sink).await?;
        let (t, _) = changelog(body.get("changelog"), statuses, key).map_err(|e| {
            crate::forge::ForgeError::Body {
                url,
                message: e.to_string(),
            }
        })?;
        return Ok((t, sprint_changes(body.get("changelog"))));
    }
    let mut start = 0u64;
    loop {
        let url = client.url(&format!(
            "{api}/issue/{key}/changelog?startAt={start}&maxResults=100"
        ));
        let body = get_json(client, &url, sink).await?;
        let (t, _) =
            changelog(Some(&body), statuses, key).map_err(|e| crate::forge::ForgeError::Body {
                url: url.clone(),
                message: e.to_string(),
            })?;
        out.extend(t);
        moves.extend(sprint_changes(Some(&body)));
        let got = body
            .get("values")
            .and_then(Value::as_array)
            .map_or(0, Vec::len) as u64;
        let last = body.get("isLast").and_then(Value::as_bool).unwrap_or(true);
        if last || got == 0 {
            break;
        }
        start += got;
    }
    out.sort_by_key(|t| t.at);
    moves.sort_by_key(|c| c.at);
    Ok((out, moves))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statuses() -> HashMap<String, Category> {
        status_categories(&json!([
            {"id": "10000", "name": "To Do", "statusCategory": {"id": 2, "key": "new"}},
            {"id": "3", "name": "In Progress", "statusCategory": {"id": 4, "key": "indeterminate"}},
            {"id": "10001", "name": "Done", "statusCategory": {"id": 3, "key": "done"}},
        ]))
    }

    #[test]
    fn both_pagination_styles() {
        let token = json!({"issues": [{}], "nextPageToken": "CAEaAggD", "isLast": false});
        assert_eq!(next_page(&token), Some(Next::Token("CAEaAggD".into())));
        assert_eq!(
            next_page(&json!({"issues": [], "nextPageToken": "x", "isLast": true})),
            None
        );
        let offset = json!({"startAt": 0, "maxResults": 2, "total": 5, "issues": [{}, {}]});
        assert_eq!(next_page(&offset), Some(Next::StartAt(2)));
        let last = json!({"startAt": 4, "maxResults": 2, "total": 5, "issues": [{}]});
        assert_eq!(next_page(&last), None);
        // Fewer issues than `total` promised, but an empty page: the end.
        assert_eq!(
            next_page(&json!({"startAt": 4, "total": 9, "issues": []})),
            None
        );
    }

    #[test]
    fn jira_times_with_and_without_a_colon() {
        assert_eq!(
            time("2024-01-15T10:30:00.000+0000"),
            Some(1_705_314_600_000)
        );
        assert_eq!(
            time("2024-01-15T12:30:00.000+0200"),
            Some(1_705_314_600_000)
        );
        assert_eq!(time("2024-01-15T10:30:00Z"), Some(1_705_314_600_000));
        assert_eq!(time("yesterday"), None);
    }

    #[test]
    fn story_points_are_found_by_name() {
        let fields = json!([
            {"id": "summary", "name": "Summary", "custom": false},
            {"id": "customfield_10016", "name": "Story point estimate", "custom": true},
            {"id": "customfield_10026", "name": "Story Points", "custom": true},
        ]);
        assert_eq!(
            story_points_field(&fields, None).as_deref(),
            Some("customfield_10016")
        );
        assert_eq!(
            story_points_field(&fields, Some("story points")).as_deref(),
            Some("customfield_10026")
        );
        assert_eq!(story_points_field(&fields, Some("Effort")), None);
    }

    /// An issue as Jira Cloud's search documents it, with its changelog expanded.
    #[test]
    fn an_issue_with_its_changelog() {
        let v = json!({
            "id": "10002", "key": "PAY-7",
            "fields": {
                "project": {"key": "PAY"},
                "issuetype": {"name": "Story"},
                "status": {"name": "Done", "statusCategory": {"key": "done"}},
                "priority": {"name": "High"},
                "labels": ["refunds", "q4"],
                "components": [{"name": "api"}],
                "parent": {"key": "PAY-1"},
                "customfield_10016": 5.0,
                "assignee": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof"},
                "created": "2024-01-10T09:00:00.000+0000",
                "updated": "2024-01-15T10:30:00.000+0000",
                "resolutiondate": "2024-01-15T10:30:00.000+0000"
            },
            "changelog": {"startAt": 0, "maxResults": 100, "total": 2, "histories": [
                {"id": "2", "created": "2024-01-15T10:30:00.000+0000",
                 "items": [{"field": "status", "from": "3", "to": "10001"}]},
                {"id": "1", "created": "2024-01-11T09:00:00.000+0000",
                 "items": [{"field": "assignee", "to": "x"}, {"field": "status", "from": "10000", "to": "3"}]}
            ]}
        });
        let i = issue(&v, Some("customfield_10016"), &statuses()).unwrap();
        assert_eq!(
            (i.key.as_str(), i.project.as_str(), i.issue_type.as_str()),
            ("PAY-7", "PAY", "Story")
        );
        assert_eq!(i.category, Category::Done);
        assert_eq!(i.labels, ["refunds", "q4"]);
        assert_eq!(i.components, ["api"]);
        assert_eq!(i.parent.as_deref(), Some("PAY-1"));
        assert_eq!(i.story_points, Some(5.0));
        assert_eq!(i.resolved_at, time("2024-01-15T10:30:00.000+0000"));
        assert_eq!(
            i.transitions,
            [
                Transition {
                    at: time("2024-01-11T09:00:00.000+0000").unwrap(),
                    to: Category::Indeterminate
                },
                Transition {
                    at: time("2024-01-15T10:30:00.000+0000").unwrap(),
                    to: Category::Done
                },
            ]
        );
        assert!(i.changelog_complete);
        // A truncated changelog is marked, to be read page by page.
        let mut long = v.clone();
        long["changelog"]["total"] = json!(250);
        assert!(!issue(&long, None, &statuses()).unwrap().changelog_complete);
        // Story points as text, an unknown status: read, and counted as to do.
        let mut odd = v.clone();
        odd["fields"]["customfield_10016"] = json!("3");
        odd["changelog"]["histories"][0]["items"][0]["to"] = json!("99999");
        let o = issue(&odd, Some("customfield_10016"), &statuses()).unwrap();
        assert_eq!(o.story_points, Some(3.0));
        assert_eq!(o.transitions[1].to, Category::New);
    }

    #[test]
    fn unreadable_issues_name_the_field() {
        let v = json!({"key": "PAY-8", "fields": {"issuetype": {"name": "Bug"}, "created": "soon", "updated": "2024-01-15T10:30:00.000+0000"}});
        let e = issue(&v, None, &HashMap::new()).unwrap_err();
        assert_eq!((e.key.as_str(), e.field.as_str()), ("PAY-8", "created"));
        assert!(issue(&json!({"fields": {}}), None, &HashMap::new()).is_err());
    }

    #[test]
    fn sprint_moves_from_the_changelog_and_the_field() {
        // Atlassian's changelog shape: the Sprint field's ids in `from`/`to`, names beside.
        let log = json!({"histories": [
            {"created": "2024-03-05T09:00:00.000+0000", "items": [
                {"field": "Sprint", "fieldtype": "custom", "from": "12", "fromString": "PAY 12",
                 "to": "12, 13", "toString": "PAY 12, PAY 13"},
                {"field": "status", "from": "10000", "to": "3"}]},
            {"created": "2024-03-01T09:00:00.000+0000", "items": [
                {"field": "Sprint", "from": null, "fromString": null, "to": "12", "toString": "PAY 12"}]}
        ]});
        let changes = sprint_changes(Some(&log));
        assert_eq!(
            changes,
            [
                SprintChange {
                    at: time("2024-03-01T09:00:00.000+0000").unwrap(),
                    from: vec![],
                    to: vec![12],
                },
                SprintChange {
                    at: time("2024-03-05T09:00:00.000+0000").unwrap(),
                    from: vec![12],
                    to: vec![12, 13],
                },
            ]
        );
        assert!(sprint_changes(None).is_empty());
        let cloud = json!([{"id": 13, "name": "PAY 13", "state": "active", "boardId": 84}]);
        assert_eq!(sprint_ids(Some(&cloud)), [13]);
        let data_center = json!([
            "com.atlassian.greenhopper.service.sprint.Sprint@1f39706[id=12,rapidViewId=84,state=CLOSED,name=PAY 12,startDate=2024-02-19T09:00:00.000Z]"
        ]);
        assert_eq!(sprint_ids(Some(&data_center)), [12]);
        assert!(sprint_ids(Some(&Value::Null)).is_empty());
    }

    #[test]
    fn agile_boards_and_sprints() {
        // The agile API's documented answers: boards of a project, then a board's sprints.
        let boards = json!({"maxResults": 2, "startAt": 0, "total": 3, "isLast": false, "values": [
            {"id": 84, "name": "PAY board", "type": "scrum"},
            {"id": 92, "name": "PAY flow", "type": "kanban"}]});
        assert_eq!(scrum_boards(&boards), (vec![84], false));
        let sprints = json!({"maxResults": 50, "startAt": 0, "isLast": true, "values": [
            {"id": 37, "self": "https://your-domain.atlassian.net/rest/agile/1.0/sprint/23",
             "state": "closed", "name": "sprint 1", "startDate": "2015-04-11T15:22:00.000+10:00",
             "endDate": "2015-04-20T01:22:00.000+10:00", "completeDate": "2015-04-20T11:04:00.000+10:00",
             "originBoardId": 5, "goal": "sprint 1 goal"},
            {"id": 72, "state": "future", "name": "sprint 2"}]});
        let (got, last) = agile_sprints(&sprints).unwrap();
        assert!(last);
        assert_eq!(got[0].state, "closed");
        assert_eq!(got[0].started_at, time("2015-04-11T05:22:00Z"));
        assert_eq!(got[0].completed_at, time("2015-04-20T01:04:00Z"));
        assert_eq!((got[1].id, got[1].started_at), (72, None));
        let bad = json!({"values": [{"id": 5, "name": "S", "startDate": "soon"}]});
        let e = agile_sprints(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sprint \"S\": startDate: \"soon\" is not a time"
        );
    }
}
