//! `leadline export`: stored rows to stdout as CSV, a JSON array or NDJSON, streamed page by
//! page so memory stays flat whatever the size of the store.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Result, bail};
use leadline_core::model::{Deployment, Identity, Incident};
use leadline_core::pseudonym::pseudonym;
use leadline_core::store::{CommitRow, FileChangeRow, Store, TagRow};
use serde::Serialize;

use crate::cli::{ExportArgs, ExportFormat, ExportKind};
use crate::time::rfc3339;

const PAGE: usize = 10_000;

pub async fn run(store: &Arc<dyn Store>, args: &ExportArgs, out: &mut dyn Write) -> Result<()> {
    let repo_id = match &args.repo {
        Some(name) => match store.repository(name).await? {
            Some(r) => Some(r.id),
            None => bail!(
                "no repository named {name:?} in the store (see `leadline export` without --repo)"
            ),
        },
        None => None,
    };
    let people = People::new(store, args.identify).await?;
    let mut sink = Sink::new(args.format, out, header(args.what))?;
    match args.what {
        ExportKind::Commits => {
            for repo in by_name(store, repo_id).await? {
                let mut after = None;
                loop {
                    let page = store.commits_page(Some(repo), after.as_ref(), PAGE).await?;
                    for c in &page.rows {
                        sink.row(&commit_out(c, &people))?;
                    }
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
            }
        }
        ExportKind::FileChanges => {
            for repo in by_name(store, repo_id).await? {
                let mut after = None;
                loop {
                    let page = store
                        .file_changes_page(Some(repo), after.as_ref(), PAGE)
                        .await?;
                    for f in &page.rows {
                        sink.row(&FileChangeOut::from(f))?;
                    }
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
            }
        }
        ExportKind::Tags => {
            for t in &store.tags(repo_id).await? {
                sink.row(&tag_out(t))?;
            }
        }
        ExportKind::Deployments => {
            for (source, d) in &store.deployments().await? {
                sink.row(&deployment_out(source, d))?;
            }
        }
        ExportKind::Incidents => {
            for (source, i) in &store.incidents().await? {
                sink.row(&incident_out(source, i))?;
            }
        }
    }
    sink.finish()
}

/// The repositories to export, by name: the same store gives the same export whatever order
/// its repositories were ingested in (a fleet of workers ingests them in any order).
async fn by_name(store: &Arc<dyn Store>, only: Option<i64>) -> Result<Vec<i64>> {
    if let Some(id) = only {
        return Ok(vec![id]);
    }
    let mut repos = store.repositories().await?;
    repos.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(repos.into_iter().map(|r| r.id).collect())
}

fn header(what: ExportKind) -> &'static [&'static str] {
    match what {
        ExportKind::Commits => &[
            "repo",
            "sha",
            "parents",
            "author",
            "authored_at",
            "committed_at",
            "is_merge",
            "subject",
        ],
        ExportKind::FileChanges => &["repo", "sha", "path", "added", "deleted"],
        ExportKind::Tags => &["repo", "tag", "sha", "annotated", "tagged_at"],
        ExportKind::Deployments => &[
            "source",
            "id",
            "service",
            "environment",
            "sha",
            "started_at",
            "finished_at",
            "status",
            "repo",
        ],
        ExportKind::Incidents => &[
            "source",
            "id",
            "service",
            "opened_at",
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
    }
}

/// How people appear: keyed pseudonyms unless `--identify`.
struct People {
    key: Option<Vec<u8>>,
}

impl People {
    async fn new(store: &Arc<dyn Store>, identify: bool) -> Result<People> {
        let key = if identify {
            None
        } else {
            Some(store.pseudonym_key().await?)
        };
        Ok(People { key })
    }

    fn show(&self, who: &Identity) -> String {
        match &self.key {
            Some(key) => pseudonym(key, &who.email),
            None => format!("{} <{}>", who.name, who.email),
        }
    }
}

/// One exported row: JSON through serde, CSV as raw byte fields (paths need not be UTF-8).
trait OutRow: Serialize {
    fn csv_fields(&self) -> Vec<Vec<u8>>;
}

#[derive(Serialize)]
struct CommitOut<'a> {
    repo: &'a str,
    sha: &'a str,
    parents: &'a [String],
    author: String,
    authored_at: String,
    committed_at: String,
    is_merge: bool,
    subject: &'a str,
}

fn commit_out<'a>(c: &'a CommitRow, people: &People) -> CommitOut<'a> {
    CommitOut {
        repo: &c.repo,
        sha: &c.sha,
        parents: &c.parents,
        author: people.show(&c.author),
        authored_at: rfc3339(c.authored_at, c.author_offset_minutes),
        committed_at: rfc3339(c.committed_at, c.committer_offset_minutes),
        is_merge: c.is_merge(),
        subject: &c.subject,
    }
}

impl OutRow for CommitOut<'_> {
    fn csv_fields(&self) -> Vec<Vec<u8>> {
        [
            self.repo.to_owned(),
            self.sha.to_owned(),
            self.parents.join(" "),
            self.author.clone(),
            self.authored_at.clone(),
            self.committed_at.clone(),
            self.is_merge.to_string(),
            self.subject.to_owned(),
        ]
        .map(String::into_bytes)
        .to_vec()
    }
}

#[derive(Serialize)]
struct FileChangeOut<'a> {
    repo: &'a str,
    sha: &'a str,
    /// The path as text; for a path that is not UTF-8, replacement characters stand in for the
    /// undecodable bytes and `path_hex` carries the exact bytes.
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_hex: Option<String>,
    added: Option<u64>,
    deleted: Option<u64>,
    #[serde(skip)]
    raw_path: &'a [u8],
}

impl<'a> From<&'a FileChangeRow> for FileChangeOut<'a> {
    fn from(f: &'a FileChangeRow) -> Self {
        let utf8 = std::str::from_utf8(&f.path).ok();
        FileChangeOut {
            repo: &f.repo,
            sha: &f.sha,
            path: String::from_utf8_lossy(&f.path).into_owned(),
            path_hex: utf8.is_none().then(|| hex::encode(&f.path)),
            added: f.added,
            deleted: f.deleted,
            raw_path: &f.path,
        }
    }
}

impl OutRow for FileChangeOut<'_> {
    fn csv_fields(&self) -> Vec<Vec<u8>> {
        let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default().into_bytes();
        vec![
            self.repo.as_bytes().to_vec(),
            self.sha.as_bytes().to_vec(),
            self.raw_path.to_vec(),
            count(self.added),
            count(self.deleted),
        ]
    }
}

#[derive(Serialize)]
struct TagOut<'a> {
    repo: &'a str,
    tag: &'a str,
    sha: &'a str,
    annotated: bool,
    /// The tagger time of an annotated tag; null for a lightweight one.
    tagged_at: Option<String>,
}

fn tag_out(t: &TagRow) -> TagOut<'_> {
    TagOut {
        repo: &t.repo,
        tag: t.tag.short_name(),
        sha: &t.tag.commit,
        annotated: t.tag.annotated,
        tagged_at: t
            .tag
            .tagger_at
            .map(|at| rfc3339(at, t.tag.tagger_offset_minutes.unwrap_or(0))),
    }
}

impl OutRow for TagOut<'_> {
    fn csv_fields(&self) -> Vec<Vec<u8>> {
        [
            self.repo.to_owned(),
            self.tag.to_owned(),
            self.sha.to_owned(),
            self.annotated.to_string(),
            self.tagged_at.clone().unwrap_or_default(),
        ]
        .map(String::into_bytes)
        .to_vec()
    }
}

/// An export row of plain text fields (UTC times), for deployments and incidents: JSON keeps
/// the header's names, nulls for empty optional fields.
pub(crate) struct TextRow {
    names: &'static [&'static str],
    values: Vec<Option<String>>,
}

impl Serialize for TextRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.names.len()))?;
        for (name, value) in self.names.iter().zip(&self.values) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl OutRow for TextRow {
    fn csv_fields(&self) -> Vec<Vec<u8>> {
        self.values
            .iter()
            .map(|v| v.clone().unwrap_or_default().into_bytes())
            .collect()
    }
}

fn utc(at: leadline_core::model::Millis) -> String {
    rfc3339(at, 0)
}

pub(crate) fn deployment_out(source: &str, d: &Deployment) -> TextRow {
    TextRow {
        names: header(ExportKind::Deployments),
        values: vec![
            Some(source.to_owned()),
            Some(d.id.clone()),
            Some(d.service.clone()),
            Some(d.environment.clone()),
            Some(d.sha.clone()),
            d.started_at.map(utc),
            Some(utc(d.finished_at)),
            Some(d.status.clone()),
            d.repo.clone(),
        ],
    }
}

pub(crate) fn incident_out(source: &str, i: &Incident) -> TextRow {
    TextRow {
        names: header(ExportKind::Incidents),
        values: vec![
            Some(source.to_owned()),
            Some(i.id.clone()),
            Some(i.service.clone()),
            Some(utc(i.opened_at)),
            i.resolved_at.map(utc),
            i.severity.clone(),
            i.title.clone(),
            i.cause_deployment.clone(),
            i.cause_sha.clone(),
            i.postmortem_url.clone(),
            i.fix_deployment.clone(),
            i.fix_sha.clone(),
            i.started_at.map(utc),
            i.detected_at.map(utc),
            i.acknowledged_at.map(utc),
            i.mitigated_at.map(utc),
            i.fingerprint.clone(),
        ],
    }
}

/// Writes rows in one format.
enum Sink<'w> {
    Csv(Box<csv::Writer<&'w mut dyn Write>>),
    Json { out: &'w mut dyn Write, rows: usize },
    Ndjson(&'w mut dyn Write),
}

impl<'w> Sink<'w> {
    fn new(format: ExportFormat, out: &'w mut dyn Write, header: &[&str]) -> Result<Sink<'w>> {
        Ok(match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(header)?;
                Sink::Csv(Box::new(w))
            }
            ExportFormat::Json => {
                out.write_all(b"[")?;
                Sink::Json { out, rows: 0 }
            }
            ExportFormat::Ndjson => Sink::Ndjson(out),
        })
    }

    fn row(&mut self, row: &impl OutRow) -> Result<()> {
        match self {
            Sink::Csv(w) => crate::csv_cell::write(w, row.csv_fields())?,
            Sink::Json { out, rows } => {
                out.write_all(if *rows == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut **out, row)?;
                *rows += 1;
            }
            Sink::Ndjson(out) => {
                serde_json::to_writer(&mut **out, row)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Csv(mut w) => w.flush()?,
            Sink::Json { out, .. } => {
                out.write_all(b"\n]\n")?;
                out.flush()?;
            }
            Sink::Ndjson(out) => out.flush()?,
        }
        Ok(())
    }
}

/// Marks a broken pipe (e.g. `| head`) so `main` can exit quietly.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
            || c.downcast_ref::<csv::Error>()
                .is_some_and(|c| match c.kind() {
                    csv::ErrorKind::Io(io) => io.kind() == std::io::ErrorKind::BrokenPipe,
                    _ => false,
                })
    })
}
