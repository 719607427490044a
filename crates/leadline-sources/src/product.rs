//! `leadline import events|samples FILE` and `POST /api/v1/events`: product analytics events in
//! leadline's shape (`time,user,event[,properties][,id]`) or as Segment (`userId`/
//! `anonymousId`, `event`, `timestamp`, `properties`, `messageId`) and PostHog (`distinct_id`,
//! `event`, `timestamp`, `properties`, `uuid`) export them; samples of outside metrics
//! (`name,time,value[,labels]`). A file is accepted whole or not at all, like every import.

use std::collections::{BTreeMap, HashMap};

use leadline_core::product::RawEvent;
use leadline_core::store::Sample;

use crate::import::{Format, Rejected, RowError};
use crate::records::{self, Record};

/// leadline's own fields; an object with none of the vendors' markers may hold nothing else.
const OWN: [&str; 6] = ["time", "user", "user_id", "event", "properties", "id"];
/// Fields only Segment or PostHog write: with one of them present, fields leadline does not
/// read (`context`, `integrations`, `sentAt`…) are the vendor's and are left alone.
const VENDOR: [&str; 7] = [
    "timestamp",
    "userId",
    "anonymousId",
    "messageId",
    "distinct_id",
    "uuid",
    "type",
];
/// Segment calls that are not events (they name no `event`): skipped, and counted.
const NOT_EVENTS: [&str; 5] = ["identify", "page", "screen", "group", "alias"];

/// What a parsed events file holds: the events, how many vendor calls that are not events
/// (Segment `identify`, `page`…) were skipped, and how many rows repeated an earlier row's id
/// (the same event delivered twice: the first is kept).
#[derive(Debug)]
pub struct Events {
    pub events: Vec<RawEvent>,
    pub skipped: usize,
    pub duplicates: usize,
}

fn field<'r>(record: &'r Record, names: &[&str]) -> Option<&'r str> {
    names.iter().find_map(|n| {
        record
            .fields
            .iter()
            .find(|(name, _)| name == n)
            .and_then(|(_, v)| v.as_deref())
    })
}

/// Parses product events; see the module's documentation for the shapes.
pub fn events(file: &str, text: &str, format: Format) -> Result<Events, Rejected> {
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut problems: Vec<RowError> = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut duplicates = 0;
    let mut unknown: Vec<String> = Vec::new();
    let (mut errors, header) = records::read_nested(text, format, &mut |record| {
        let line = record.line;
        let vendor = record
            .fields
            .iter()
            .any(|(n, _)| VENDOR.contains(&n.as_str()));
        if !vendor {
            for (name, _) in &record.fields {
                // Reported once, where it first appears (a CSV header: line 1).
                if !OWN.contains(&name.as_str()) && !unknown.contains(name) {
                    unknown.push(name.clone());
                    let at = if format == Format::Csv { 1 } else { line };
                    problems.push(RowError::new(
                        at,
                        name,
                        format!(
                            "unknown field (known: {}, or Segment's and PostHog's)",
                            OWN.join(", ")
                        ),
                    ));
                }
            }
        }
        let mut fail = |field: &str, message: String| {
            problems.push(RowError::new(line, field, message));
        };
        let event = field(&record, &["event"]);
        if event.is_none() && field(&record, &["type"]).is_some_and(|t| NOT_EVENTS.contains(&t)) {
            skipped += 1;
            return;
        }
        let time = match field(&record, &["time", "timestamp"]) {
            None => {
                fail("time", "is required (time, or timestamp)".into());
                None
            }
            Some(v) => match leadline_core::instant::rfc3339(v) {
                Ok(t) => Some(t),
                Err(why) => {
                    fail("time", why);
                    None
                }
            },
        };
        let user = field(
            &record,
            &["user", "user_id", "userId", "anonymousId", "distinct_id"],
        );
        if user.is_none() {
            fail(
                "user",
                "is required (user, userId, anonymousId or distinct_id)".into(),
            );
        }
        if event.is_none() {
            fail("event", "is required".into());
        }
        let properties = match field(&record, &["properties"]) {
            None => None,
            Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(map)) => Some(map),
                _ => {
                    fail("properties", "is not a JSON object".into());
                    None
                }
            },
        };
        let id = field(&record, &["id", "messageId", "uuid"]).map(str::to_owned);
        // Sources deliver at least once: an id seen before is the same event again.
        if let Some(id) = &id
            && ids.insert(id.clone(), line).is_some()
        {
            duplicates += 1;
            return;
        }
        if let (Some(at), Some(user), Some(event)) = (time, user, event) {
            out.push(RawEvent {
                id,
                at,
                user: user.to_owned(),
                event: event.to_owned(),
                properties,
            });
        }
    });
    if let Some(header) = header {
        for (column, names) in [
            ("time", &["time", "timestamp"][..]),
            (
                "user",
                &["user", "userId", "anonymousId", "distinct_id"][..],
            ),
            ("event", &["event"][..]),
        ] {
            if !header.iter().any(|h| names.contains(&h.as_str())) {
                errors.push(RowError::new(
                    1,
                    column,
                    "required column is missing from the header",
                ));
            }
        }
    }
    errors.append(&mut problems);
    errors.sort_by_key(|e| e.line);
    if errors.is_empty() {
        Ok(Events {
            events: out,
            skipped,
            duplicates,
        })
    } else {
        Err(Rejected {
            file: file.to_owned(),
            errors,
        })
    }
}

/// Labels as a canonical JSON object (keys sorted): from a JSON object of strings, or
/// `key=value` pairs separated by `;` or `,`.
fn labels(text: Option<&str>) -> Result<String, String> {
    let Some(text) = text else {
        return Ok("{}".to_owned());
    };
    let mut map = BTreeMap::new();
    if text.trim_start().starts_with('{') {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        for (k, v) in value.as_object().ok_or("is not a JSON object")? {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err(format!("label {k:?} is not a string")),
            };
            map.insert(k.clone(), v);
        }
    } else {
        for pair in text.split([';', ',']).filter(|p| !p.trim().is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?} is not key=value"))?;
            map.insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    serde_json::to_string(&map).map_err(|e| e.to_string())
}

/// Parses samples: `name,time,value[,labels]`; a name is letters, digits, `_`, `-` and `.`.
pub fn samples(file: &str, text: &str, format: Format) -> Result<Vec<Sample>, Rejected> {
    let mut out = Vec::new();
    let mut problems: Vec<RowError> = Vec::new();
    let mut seen: HashMap<(String, i64, String), usize> = HashMap::new();
    let known = ["name", "time", "value", "labels"];
    let (mut errors, header) = records::read_nested(text, format, &mut |record| {
        let line = record.line;
        let mut fail = |field: &str, message: String| {
            problems.push(RowError::new(line, field, message));
        };
        for (name, _) in &record.fields {
            if !known.contains(&name.as_str()) {
                fail(name, format!("unknown field (known: {})", known.join(", ")));
            }
        }
        let name = field(&record, &["name"]);
        match name {
            None => fail("name", "is required".into()),
            Some(n)
                if !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) =>
            {
                fail(
                    "name",
                    format!("{n:?}: use letters, digits, '_', '-' and '.'"),
                );
            }
            Some(_) => {}
        }
        let at = match field(&record, &["time"]).map(leadline_core::instant::rfc3339) {
            None => {
                fail("time", "is required".into());
                None
            }
            Some(Err(why)) => {
                fail("time", why);
                None
            }
            Some(Ok(t)) => Some(t),
        };
        let value = match field(&record, &["value"]).map(|v| v.parse::<f64>()) {
            Some(Ok(v)) if v.is_finite() => Some(v),
            Some(_) => {
                fail("value", "is not a finite number".into());
                None
            }
            None => {
                fail("value", "is required".into());
                None
            }
        };
        let labels = match labels(field(&record, &["labels"])) {
            Ok(l) => Some(l),
            Err(why) => {
                fail("labels", why);
                None
            }
        };
        if let (Some(name), Some(at), Some(value), Some(labels)) = (name, at, value, labels) {
            if let Some(first) = seen.insert((name.to_owned(), at, labels.clone()), line) {
                fail(
                    "time",
                    format!("repeats the name, time and labels of line {first}"),
                );
            }
            out.push(Sample {
                name: name.to_owned(),
                at,
                labels,
                value,
            });
        }
    });
    if let Some(header) = header {
        for column in ["name", "time", "value"] {
            if !header.iter().any(|h| h == column) {
                errors.push(RowError::new(
                    1,
                    column,
                    "required column is missing from the header",
                ));
            }
        }
    }
    errors.append(&mut problems);
    errors.sort_by_key(|e| e.line);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Rejected {
            file: file.to_owned(),
            errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leadline_segment_and_posthog_shapes_read_alike() {
        let ours = "time,user,event,properties\n2024-05-01T10:00:00Z,u1,signed_up,\"{\"\"plan\"\":\"\"pro\"\"}\"\n";
        let segment = r#"{"type":"track","event":"signed_up","userId":"u1","timestamp":"2024-05-01T10:00:00.000Z","properties":{"plan":"pro"},"messageId":"m-1","context":{"ip":"1.2.3.4"}}
{"type":"identify","userId":"u1","traits":{"email":"a@b"},"timestamp":"2024-05-01T10:00:00Z"}
"#;
        let posthog = r#"[{"event":"signed_up","distinct_id":"u1","timestamp":"2024-05-01T10:00:00+00:00","properties":{"plan":"pro"},"uuid":"0190-aa"}]"#;
        let a = events("a.csv", ours, Format::Csv).unwrap();
        let b = events("b.ndjson", segment, Format::Ndjson).unwrap();
        let c = events("c.json", posthog, Format::Json).unwrap();
        assert_eq!((a.skipped, b.skipped, c.skipped), (0, 1, 0));
        for parsed in [&a, &b, &c] {
            let e = &parsed.events[0];
            assert_eq!(
                (e.at, e.user.as_str(), e.event.as_str()),
                (1_714_557_600_000, "u1", "signed_up")
            );
            assert_eq!(e.properties.as_ref().unwrap()["plan"], "pro");
        }
        assert_eq!(b.events[0].id.as_deref(), Some("m-1"));
        assert_eq!(c.events[0].id.as_deref(), Some("0190-aa"));
        // Delivered twice: kept once.
        let twice = format!("{}{}", segment.lines().next().unwrap(), "\n").repeat(2);
        let d = events("d.ndjson", &twice, Format::Ndjson).unwrap();
        assert_eq!((d.events.len(), d.duplicates), (1, 1));
    }

    #[test]
    fn bad_rows_refuse_the_file_naming_line_and_field() {
        let text = "time,user,event,colour\n2024-05-01T10:00:00Z,u1,a,red\nyesterday,u2,b,\n2024-05-01T10:00:00Z,,c,\n";
        let e = events("e.csv", text, Format::Csv).unwrap_err();
        let shown = e.to_string();
        for part in [
            "e.csv:1: colour: unknown field",
            "e.csv:3: time",
            "e.csv:4: user",
        ] {
            assert!(shown.contains(part), "{shown}");
        }
        let e = events(
            "p.ndjson",
            r#"{"time":"2024-05-01T10:00:00Z","user":"u","event":"a","properties":[1]}"#,
            Format::Ndjson,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("p.ndjson:1: properties: is not a JSON object")
        );
    }

    #[test]
    fn samples_carry_canonical_labels() {
        let text = "name,time,value,labels\nrevenue,2024-05-01T00:00:00Z,1200.5,region=eu;tier=pro\nrevenue,2024-05-01T00:00:00Z,99,\"{\"\"tier\"\":\"\"pro\"\",\"\"region\"\":\"\"us\"\"}\"\n";
        let s = samples("s.csv", text, Format::Csv).unwrap();
        assert_eq!(s[0].labels, r#"{"region":"eu","tier":"pro"}"#);
        assert_eq!(s[1].labels, r#"{"region":"us","tier":"pro"}"#);
        let bad = "name,time,value\nnps,2024-05-01T00:00:00Z,high\nnps,2024-05-01T00:00:00Z,1\nnps,2024-05-01T00:00:00Z,2\n";
        let shown = samples("s.csv", bad, Format::Csv).unwrap_err().to_string();
        assert!(
            shown.contains("s.csv:2: value") && shown.contains("s.csv:4: time: repeats"),
            "{shown}"
        );
    }
}
