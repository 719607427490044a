//! `leadline import deployments|incidents|sli FILE`: strict parsing of CSV, JSON arrays and
//! NDJSON.
//!
//! A file is accepted whole or not at all: every problem is reported as
//! `FILE:LINE: FIELD: what is wrong`, and the caller stores nothing unless parsing succeeded.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use leadline_core::model::{Deployment, Incident, Millis};
use leadline_core::store::SliCount;

use crate::records::{self, Record};

/// How many problems a refusal lists before summarising the rest.
const SHOWN_ERRORS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Ndjson,
}

impl Format {
    /// The format a file name implies: `.csv`, `.json`, `.ndjson` or `.jsonl`.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            _ => None,
        }
    }
}

/// One problem in one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    /// The field, or empty when the problem is the row itself.
    pub field: String,
    pub message: String,
}

impl RowError {
    pub(crate) fn new(line: usize, field: &str, message: impl Into<String>) -> Self {
        RowError {
            line,
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// A refused file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Rejected {
    pub file: String,
    pub errors: Vec<RowError>,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} refused, nothing was imported:", self.file)?;
        for e in self.errors.iter().take(SHOWN_ERRORS) {
            match e.field.as_str() {
                "" => writeln!(f, "{}:{}: {}", self.file, e.line, e.message)?,
                field => writeln!(f, "{}:{}: {}: {}", self.file, e.line, field, e.message)?,
            }
        }
        if self.errors.len() > SHOWN_ERRORS {
            writeln!(f, "… and {} more", self.errors.len() - SHOWN_ERRORS)?;
        }
        Ok(())
    }
}

/// Parses deployments: required `id,service,environment,sha,finished_at`; optional
/// `started_at,status,repo` (status defaults to `success`).
pub fn deployments(file: &str, text: &str, format: Format) -> Result<Vec<Deployment>, Rejected> {
    const FIELDS: Fields = Fields {
        required: &["id", "service", "environment", "sha", "finished_at"],
        optional: &["started_at", "status", "repo"],
    };
    parse(file, text, format, &FIELDS, |row| {
        let started_at = row.time_opt("started_at");
        let finished_at = row.time("finished_at");
        if let (Some(Some(start)), Some(end)) = (started_at, finished_at)
            && start > end
        {
            row.fail("started_at", "is after finished_at");
        }
        let (id, service, environment, sha) = (
            row.text("id"),
            row.text("service"),
            row.text("environment"),
            row.sha("sha"),
        );
        Some(Deployment {
            id: id?,
            service: service?,
            environment: environment?,
            sha: sha?,
            started_at: started_at?,
            finished_at: finished_at?,
            status: row.status()?,
            repo: row.opt("repo"),
        })
    })
}

/// Parses incidents: required `id,service,opened_at`; optional `resolved_at,severity,title,
/// cause_deployment,cause_sha,postmortem_url,fix_deployment,fix_sha,started_at,detected_at,
/// acknowledged_at,mitigated_at,fingerprint`. No instant may be before `started_at`, and
/// `resolved_at` not before `opened_at`.
pub fn incidents(file: &str, text: &str, format: Format) -> Result<Vec<Incident>, Rejected> {
    const FIELDS: Fields = Fields {
        required: &["id", "service", "opened_at"],
        optional: &[
            "resolved_at",
            "severity",
            "title",
            "cause_deployment",
            "cause_sha",
            "postmortem_url",
            "fix_deployment",
            "fix_sha",
            "started_at",
            "detected_at",
            "acknowledged_at",
            "mitigated_at",
            "fingerprint",
        ],
    };
    parse(file, text, format, &FIELDS, |row| {
        let opened_at = row.time("opened_at");
        let resolved_at = row.time_opt("resolved_at");
        let [started_at, detected_at, acknowledged_at, mitigated_at] = [
            "started_at",
            "detected_at",
            "acknowledged_at",
            "mitigated_at",
        ]
        .map(|field| row.time_opt(field));
        let cause_sha = match row.opt("cause_sha") {
            Some(_) => row.sha("cause_sha").map(Some),
            None => Some(None),
        };
        let fix_sha = match row.opt("fix_sha") {
            Some(_) => row.sha("fix_sha").map(Some),
            None => Some(None),
        };
        let (id, service) = (row.text("id"), row.text("service"));
        let incident = Incident {
            id: id?,
            service: service?,
            opened_at: opened_at?,
            resolved_at: resolved_at?,
            started_at: started_at?,
            detected_at: detected_at?,
            acknowledged_at: acknowledged_at?,
            mitigated_at: mitigated_at?,
            fingerprint: row.opt("fingerprint"),
            severity: row.opt("severity"),
            title: row.opt("title"),
            cause_deployment: row.opt("cause_deployment"),
            cause_sha: cause_sha?,
            postmortem_url: row.opt("postmortem_url"),
            fix_deployment: row.opt("fix_deployment"),
            fix_sha: fix_sha?,
        };
        for problem in incident.out_of_order() {
            row.fail(problem.field, problem.message);
        }
        Some(incident)
    })
}

/// Parses SLI counts: `slo,time,good,total`, each required. `time` starts a counting interval
/// (RFC 3339); `good` and `total` are non-negative numbers with good ≤ total; an (slo, time)
/// may appear once.
pub fn sli(file: &str, text: &str, format: Format) -> Result<Vec<SliCount>, Rejected> {
    const FIELDS: Fields = Fields {
        required: &["slo", "time", "good", "total"],
        optional: &[],
    };
    let mut seen: HashMap<(String, Millis), usize> = HashMap::new();
    parse(file, text, format, &FIELDS, |row| {
        let slo = row.text("slo");
        let at = row.time("time");
        let good = row.count("good");
        let total = row.count("total");
        if let (Some(g), Some(t)) = (good, total)
            && g > t
        {
            row.fail("good", "is more than total");
        }
        if let (Some(slo), Some(at)) = (&slo, at)
            && let Some(first) = seen.insert((slo.clone(), at), row.record.line)
        {
            row.fail("time", &format!("repeats the slo and time of line {first}"));
        }
        Some(SliCount {
            slo: slo?,
            at: at?,
            good: good?,
            total: total?,
        })
    })
}

struct Fields {
    required: &'static [&'static str],
    optional: &'static [&'static str],
}

/// Reads records, checks their fields against `fields`, converts each with `convert` and
/// refuses the whole file on any problem (including a repeated id).
fn parse<T>(
    file: &str,
    text: &str,
    format: Format,
    fields: &Fields,
    mut convert: impl FnMut(&mut Row<'_>) -> Option<T>,
) -> Result<Vec<T>, Rejected> {
    let reject = |errors| Rejected {
        file: file.to_owned(),
        errors,
    };
    let mut out = Vec::new();
    let mut problems: Vec<RowError> = Vec::new();
    let mut first_line_of_id: HashMap<String, usize> = HashMap::new();
    // An unknown field is reported once, where it first appears (a CSV header: line 1).
    let mut unknown: Vec<String> = Vec::new();
    let names: Vec<&str> = fields
        .required
        .iter()
        .chain(fields.optional)
        .copied()
        .collect();
    let (mut errors, header) = records::read(text, format, &mut |record| {
        for (name, _) in &record.fields {
            if !names.contains(&name.as_str()) && !unknown.contains(name) {
                unknown.push(name.clone());
                let line = if format == Format::Csv {
                    1
                } else {
                    record.line
                };
                problems.push(RowError::new(
                    line,
                    name,
                    format!("unknown field (known: {})", names.join(", ")),
                ));
            }
        }
        let mut row = Row {
            record: &record,
            errors: Vec::new(),
        };
        let converted = convert(&mut row);
        if let Some(id) = row.opt("id")
            && let Some(first) = first_line_of_id.insert(id.clone(), record.line)
        {
            row.fail("id", &format!("{id:?} repeats the id of line {first}"));
        }
        match (converted, row.errors.is_empty()) {
            // Once the file is refused, converted rows are no longer kept.
            (Some(value), true) if problems.is_empty() => out.push(value),
            (Some(_), true) => {}
            _ => problems.append(&mut row.errors),
        }
    });
    if let Some(header) = header {
        for missing in fields
            .required
            .iter()
            .filter(|f| !header.iter().any(|h| h == *f))
        {
            errors.push(RowError::new(
                1,
                missing,
                "required column is missing from the header",
            ));
        }
    }
    errors.append(&mut problems);
    errors.sort_by_key(|e| e.line);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(reject(errors))
    }
}

/// Field access for one record that records what is wrong instead of stopping at the first
/// problem, so a refusal lists everything.
struct Row<'a> {
    record: &'a Record,
    errors: Vec<RowError>,
}

impl Row<'_> {
    fn fail(&mut self, field: &str, message: &str) {
        self.errors
            .push(RowError::new(self.record.line, field, message));
    }

    fn opt(&self, field: &str) -> Option<String> {
        self.record
            .fields
            .iter()
            .find(|(name, _)| name == field)
            .and_then(|(_, value)| value.clone())
    }

    /// A deployment status, `success` when absent; the forges' spellings are accepted and
    /// anything else refused (a typo must not silently make a deployment not count).
    fn status(&mut self) -> Option<String> {
        let Some(given) = self.opt("status") else {
            return Some("success".to_owned());
        };
        let lower = given.to_ascii_lowercase();
        let status = match lower.as_str() {
            "success" | "succeeded" => "success",
            "failure" | "failed" | "error" => "failure",
            "cancelled" | "canceled" => "cancelled",
            "in_progress" | "running" => "in_progress",
            s @ ("pending" | "queued" | "blocked" | "skipped") => s,
            _ => {
                self.fail(
                    "status",
                    &format!(
                        "unknown status {given:?} (known: success, failure, cancelled, in_progress, pending, queued, blocked, skipped)"
                    ),
                );
                return None;
            }
        };
        Some(status.to_owned())
    }

    fn text(&mut self, field: &str) -> Option<String> {
        let value = self.opt(field);
        if value.is_none() {
            self.fail(field, "is required");
        }
        value
    }

    fn sha(&mut self, field: &str) -> Option<String> {
        let value = self.text(field)?.to_ascii_lowercase();
        // Full or abbreviated (git abbreviates to 7 at least); abbreviations are resolved
        // against the ingested history when the keys are computed.
        let valid = (7..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            self.fail(
                field,
                &format!(
                    "{value:?} is not a commit sha (7 to 64 hex digits: SHA-1 or SHA-256, full or abbreviated)"
                ),
            );
            return None;
        }
        Some(value)
    }

    /// A required non-negative finite number (a count of events).
    fn count(&mut self, field: &str) -> Option<f64> {
        let value = self.text(field)?;
        match value.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
            _ => {
                self.fail(
                    field,
                    &format!("{value:?} is not a count (a non-negative number)"),
                );
                None
            }
        }
    }

    /// A required RFC 3339 instant.
    fn time(&mut self, field: &str) -> Option<Millis> {
        let value = self.text(field)?;
        self.parse_time(field, &value)
    }

    /// An optional RFC 3339 instant: `Some(None)` when absent, `None` when malformed.
    fn time_opt(&mut self, field: &str) -> Option<Option<Millis>> {
        match self.opt(field) {
            None => Some(None),
            Some(value) => self.parse_time(field, &value).map(Some),
        }
    }

    fn parse_time(&mut self, field: &str, value: &str) -> Option<Millis> {
        match crate::instant::rfc3339(value) {
            Ok(t) => Some(t),
            Err(why) => {
                self.fail(field, &why);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn formats_come_from_extensions() {
        assert_eq!(
            Format::from_path(Path::new("a/deploys.CSV")),
            Some(Format::Csv)
        );
        assert_eq!(
            Format::from_path(Path::new("x.jsonl")),
            Some(Format::Ndjson)
        );
        assert_eq!(Format::from_path(Path::new("x.txt")), None);
    }

    #[test]
    fn csv_json_and_ndjson_give_the_same_rows() {
        let csv = format!(
            "id,service,environment,sha,finished_at,status\nd1,api,production,{SHA},2024-05-01T09:30:00+02:00,\n"
        );
        let json = format!(
            "[\n {{\"id\": \"d1\", \"service\": \"api\", \"environment\": \"production\", \"sha\": \"{SHA}\", \"finished_at\": \"2024-05-01T07:30:00Z\"}}\n]"
        );
        let ndjson = format!(
            "{{\"id\": \"d1\", \"service\": \"api\", \"environment\": \"production\", \"sha\": \"{}\", \"finished_at\": \"2024-05-01T07:30:00Z\", \"status\": null}}\n",
            SHA.to_uppercase()
        );
        let a = deployments("f", &csv, Format::Csv).unwrap();
        assert_eq!(a, deployments("f", &json, Format::Json).unwrap());
        assert_eq!(a, deployments("f", &ndjson, Format::Ndjson).unwrap());
        // `date -u -d 2024-05-01T07:30:00Z +%s` is 1714548600.
        assert_eq!(
            (a[0].finished_at, a[0].status.as_str(), a[0].sha.as_str()),
            (1_714_548_600_000, "success", SHA)
        );
    }

    #[test]
    fn every_problem_is_named_by_line_and_field() {
        let csv = format!(
            "id,service,environment,sha,finished_at,colour\n\
             d1,api,production,{SHA},2024-05-01T09:30:00Z,red\n\
             d2,,production,abc,yesterday,\n\
             d1,api,production,{SHA},2024-05-01T09:30:00Z,\n"
        );
        let err = deployments("deploys.csv", &csv, Format::Csv).unwrap_err();
        let shown = err.to_string();
        for expected in [
            "deploys.csv:1: colour: unknown field",
            "deploys.csv:3: service: is required",
            "deploys.csv:3: sha: \"abc\" is not a commit sha",
            "deploys.csv:3: finished_at: \"yesterday\" is not an RFC 3339 time",
            "deploys.csv:4: id: \"d1\" repeats the id of line 2",
        ] {
            assert!(shown.contains(expected), "missing {expected:?} in\n{shown}");
        }
    }

    #[test]
    fn json_errors_name_the_line_of_the_item() {
        let json = "[\n {\"id\": \"i1\", \"service\": \"api\", \"opened_at\": \"2024-05-01T00:00:00Z\"},\n {\"id\": \"i2\", \"service\": \"api\",\n  \"opened_at\": \"2024-05-02T00:00:00Z\", \"resolved_at\": \"2024-05-01T00:00:00Z\"},\n {\"id\": true}\n]";
        let err = incidents("inc.json", json, Format::Json)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("inc.json:3: resolved_at: is before opened_at"),
            "{err}"
        );
        assert!(
            err.contains("inc.json:5: id: expected a string, found a boolean"),
            "{err}"
        );
    }

    #[test]
    fn lifecycle_columns_are_read_and_their_order_checked() {
        let csv = "id,service,opened_at,started_at,detected_at,acknowledged_at,mitigated_at,resolved_at,fingerprint,severity\n\
                   i1,api,2024-05-01T10:05:00Z,2024-05-01T09:50:00Z,2024-05-01T10:00:00Z,2024-05-01T10:06:00Z,2024-05-01T10:30:00Z,2024-05-01T11:00:00Z,db-pool,P1\n";
        let rows = incidents("inc.csv", csv, Format::Csv).unwrap();
        let i = &rows[0];
        // `date -u -d 2024-05-01T09:50:00Z +%s` is 1714557000.
        assert_eq!(i.started_at, Some(1_714_557_000_000));
        assert_eq!(i.detected_at, Some(1_714_557_000_000 + 600_000));
        assert_eq!(i.acknowledged_at, Some(1_714_557_000_000 + 960_000));
        assert_eq!(i.mitigated_at, Some(1_714_557_000_000 + 2_400_000));
        assert_eq!(i.fingerprint.as_deref(), Some("db-pool"));
        assert_eq!(i.severity.as_deref(), Some("P1"));

        let bad = "id,service,opened_at,started_at,acknowledged_at\n\
                   i1,api,2024-05-01T10:05:00Z,2024-05-01T10:00:00Z,2024-05-01T10:06:00Z\n\
                   i2,api,2024-05-01T10:05:00Z,2024-05-01T10:10:00Z,2024-05-01T10:01:00Z\n";
        let err = incidents("inc.csv", bad, Format::Csv)
            .unwrap_err()
            .to_string();
        for expected in [
            "inc.csv:3: opened_at: is before started_at",
            "inc.csv:3: acknowledged_at: is before started_at",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in\n{err}");
        }
        assert!(!err.contains("inc.csv:2"), "{err}");
    }

    #[test]
    fn sli_counts_are_read_and_refused_whole() {
        let csv = "slo,time,good,total\ncheckout,2026-03-02T10:00:00Z,990,1000\ncheckout,2026-03-02T10:01:00Z,1000,1000\n";
        let rows = sli("sli.csv", csv, Format::Csv).unwrap();
        // `date -u -d 2026-03-02T10:00:00Z +%s` is 1772445600.
        assert_eq!(
            (rows[0].at, rows[0].good, rows[0].total),
            (1_772_445_600_000, 990.0, 1000.0)
        );
        let ndjson = "{\"slo\": \"checkout\", \"time\": \"2026-03-02T10:00:00Z\", \"good\": 990, \"total\": 1000}\n";
        assert_eq!(sli("s.ndjson", ndjson, Format::Ndjson).unwrap()[0], rows[0]);
        let bad = "slo,time,good,total\ncheckout,2026-03-02T10:00:00Z,1001,1000\n\
                   checkout,2026-03-02T10:01:00Z,-1,1000\ncheckout,2026-03-02T10:00:00Z,1,1\n,soon,x,2\n";
        let err = sli("sli.csv", bad, Format::Csv).unwrap_err().to_string();
        for expected in [
            "sli.csv:2: good: is more than total",
            "sli.csv:3: good: \"-1\" is not a count",
            "sli.csv:4: time: repeats the slo and time of line 2",
            "sli.csv:5: slo: is required",
            "sli.csv:5: time: \"soon\" is not an RFC 3339 time",
            "sli.csv:5: good: \"x\" is not a count",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in\n{err}");
        }
    }

    #[test]
    fn a_csv_header_without_required_columns_is_refused_even_without_rows() {
        let err = deployments("d.csv", "id,service\n", Format::Csv)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("d.csv:1: sha: required column is missing"),
            "{err}"
        );
        assert!(deployments("d.csv", "", Format::Csv).is_err());
    }

    #[test]
    fn malformed_structure_is_refused() {
        assert!(incidents("x", "id,service\n\"unterminated", Format::Csv).is_err());
        let err = incidents("x.ndjson", "{\"id\": \"a\"\n", Format::Ndjson)
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.ndjson:1: invalid JSON"), "{err}");
        assert!(
            incidents(
                "x",
                "[{\"id\":\"a\",\"service\":\"s\",\"opened_at\":\"2024-01-01T00:00:00Z\"}",
                Format::Json
            )
            .is_err()
        );
    }

    #[test]
    fn byte_order_marks_are_not_data_in_any_format() {
        let row = format!(
            "{{\"id\": \"d1\", \"service\": \"api\", \"environment\": \"production\", \"sha\": \"{SHA}\", \"finished_at\": \"2024-05-01T07:30:00Z\"}}"
        );
        let csv = format!(
            "\u{feff}id,service,environment,sha,finished_at\nd1,api,production,{SHA},2024-05-01T07:30:00Z\n"
        );
        let a = deployments("f", &csv, Format::Csv).unwrap();
        assert_eq!(
            a,
            deployments("f", &format!("\u{feff}[{row}]"), Format::Json).unwrap()
        );
        assert_eq!(
            a,
            deployments("f", &format!("\u{feff}{row}\n"), Format::Ndjson).unwrap()
        );
    }

    #[test]
    fn repeated_columns_and_keys_nul_bytes_and_unknown_statuses_are_refused() {
        let base = format!("d1,api,production,{SHA},2024-05-01T07:30:00Z");
        for (text, format, expected) in [
            (
                format!("id,service,environment,sha,finished_at,id\n{base},d2\n"),
                Format::Csv,
                "f:1: id: appears twice in the header",
            ),
            (
                format!(
                    "{{\"id\": \"a\", \"id\": \"b\", \"service\": \"api\", \"environment\": \"production\", \"sha\": \"{SHA}\", \"finished_at\": \"2024-05-01T07:30:00Z\"}}\n"
                ),
                Format::Ndjson,
                "f:1: id: appears twice in the object",
            ),
            (
                format!(
                    "id,service,environment,sha,finished_at\nd\u{0}1,api,production,{SHA},2024-05-01T07:30:00Z\n"
                ),
                Format::Csv,
                "f:2: id: contains a NUL byte",
            ),
            (
                format!("id,service,environment,sha,finished_at,status\n{base},succes\n"),
                Format::Csv,
                "f:2: status: unknown status \"succes\"",
            ),
        ] {
            let err = deployments("f", &text, format).unwrap_err().to_string();
            assert!(err.contains(expected), "missing {expected:?} in\n{err}");
        }
        // SHA-256 commit ids are accepted deliberately.
        let sha256 = "ab".repeat(32);
        let text = format!(
            "id,service,environment,sha,finished_at,status\nd1,api,production,{sha256},2024-05-01T07:30:00Z,FAILED\n"
        );
        let rows = deployments("f", &text, Format::Csv).unwrap();
        assert_eq!(
            (rows[0].sha.as_str(), rows[0].status.as_str()),
            (sha256.as_str(), "failure")
        );
    }

    #[test]
    fn line_numbers_are_right_in_crlf_files() {
        let crlf = format!(
            "id,service,environment,sha,finished_at\r\nd1,api,production,{SHA},2024-05-01T07:30:00Z\r\nd2,api,production,{SHA},yesterday\r\n"
        );
        let err = deployments("f.csv", &crlf, Format::Csv)
            .unwrap_err()
            .to_string();
        assert!(err.contains("f.csv:3: finished_at"), "{err}");
        let ndjson =
            "{\"id\": \"a\"}\r\n{\"id\": \"b\", \"service\": \"s\", \"opened_at\": \"soon\"}\r\n";
        let err = incidents("f.ndjson", ndjson, Format::Ndjson)
            .unwrap_err()
            .to_string();
        assert!(err.contains("f.ndjson:2: opened_at"), "{err}");
    }
}
