//! The history family: repositories, their mined commits and file changes, refs, files at
//! HEAD and ingest cursors.

use futures_util::TryStreamExt;
use leadline_core::model::{
    Commit, HeadFile, Identity, Linguist, Millis, Ref, RefKind, Repository,
};
use leadline_core::store::{
    ChurnRow, CommitFact, CommitMessage, CommitRow, FileChangeRow, GraphRow, Page, PagePosition,
    RevertRow, StoreError, StoreResult, TagRow, TrailerRow,
};
use sqlx::{QueryBuilder, Row};

use crate::{SqlStore, backend, on_pool};

/// Rows per multi-row INSERT: large enough to amortise statement overhead, small enough to
/// stay far below both engines' bound-parameter limits (rows × columns ≤ 65535 and 32766).
const INSERT_ROWS: usize = 500;

use super::*;
/// Reads a column or fails with the column's name.
use async_trait::async_trait;
use leadline_core::store::HistoryStore;

#[async_trait]
impl HistoryStore for SqlStore {
    async fn upsert_repository(
        &self,
        name: &str,
        location: &str,
    ) -> StoreResult<(Repository, bool)> {
        on_pool!(self, |pool| {
            let mut tx = pool
                .begin()
                .await
                .map_err(backend("cannot start a transaction"))?;
            let by_location =
                sqlx::query("SELECT id, name, location FROM repositories WHERE location = $1")
                    .bind(location)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend("cannot look up a repository"))?;
            // Ended explicitly: a dropped transaction rolls back only after the connection is
            // back in the pool, which then finds it still open and closes it.
            if let Some(row) = by_location {
                let repo = repository!(row);
                tx.commit()
                    .await
                    .map_err(backend("cannot end a transaction"))?;
                return Ok((repo, false));
            }
            let taken: Option<String> =
                sqlx::query_scalar("SELECT location FROM repositories WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend("cannot look up a repository"))?;
            if let Some(other) = taken {
                tx.rollback()
                    .await
                    .map_err(backend("cannot end a transaction"))?;
                return Err(StoreError::Conflict(format!(
                    "the repository name {name:?} is already used by {other}; choose another with --name"
                )));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO repositories (name, location) VALUES ($1, $2) RETURNING id",
            )
            .bind(name)
            .bind(location)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend("cannot add a repository"))?;
            tx.commit()
                .await
                .map_err(backend("cannot add a repository"))?;
            let repo = Repository {
                id,
                name: name.to_owned(),
                location: location.to_owned(),
            };
            Ok((repo, true))
        })
    }

    async fn repositories(&self) -> StoreResult<Vec<Repository>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query("SELECT id, name, location FROM repositories ORDER BY name")
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list repositories"))?;
            let mut repos = Vec::with_capacity(rows.len());
            for row in rows {
                repos.push(repository!(row));
            }
            Ok(repos)
        })
    }

    async fn repository(&self, name: &str) -> StoreResult<Option<Repository>> {
        on_pool!(self, |pool| {
            let row = sqlx::query("SELECT id, name, location FROM repositories WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await
                .map_err(backend("cannot look up a repository"))?;
            Ok(match row {
                Some(row) => Some(repository!(row)),
                None => None,
            })
        })
    }

    async fn cursor(&self, source: &str, scope: &str) -> StoreResult<Option<String>> {
        on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT value FROM ingest_cursors WHERE source = $1 AND scope = $2")
                .bind(source)
                .bind(scope)
                .fetch_optional(pool)
                .await
                .map_err(backend("cannot read an ingest cursor"))
        })
    }

    async fn commit_shas(&self, repo_id: i64) -> StoreResult<Vec<String>> {
        on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT sha FROM commits WHERE repo_id = $1")
                .bind(repo_id)
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list stored commits"))
        })
    }

    async fn insert_commits(&self, repo_id: i64, commits: &[Commit]) -> StoreResult<()> {
        if commits.is_empty() {
            return Ok(());
        }
        let people = People::of(commits);
        let trailers: Vec<(&str, usize, &str, &str)> = commits
            .iter()
            .flat_map(|c| {
                c.trailers
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (c.sha.as_str(), i, t.key.as_str(), t.value.as_str()))
            })
            .collect();
        let changes: Vec<(&str, &leadline_core::model::FileChange)> = commits
            .iter()
            .flat_map(|c| c.file_changes.iter().map(|f| (c.sha.as_str(), f)))
            .collect();
        on_pool!(self, |pool| {
            let context = "cannot store commits";
            let mut tx = pool.begin().await.map_err(backend(context))?;
            for chunk in people.canonical.chunks(INSERT_ROWS) {
                let mut q = QueryBuilder::new("INSERT INTO people (email, name) ");
                q.push_values(chunk, |mut b, p| {
                    b.push_bind(&p.email).push_bind(&p.name);
                });
                // Keep the smallest name, so the result does not depend on batch order.
                q.push(" ON CONFLICT (email) DO UPDATE SET name = excluded.name WHERE excluded.name < people.name");
                q.build()
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            }
            for chunk in people.aliases.chunks(INSERT_ROWS) {
                let mut q =
                    QueryBuilder::new("INSERT INTO person_aliases (email, name, person_email) ");
                q.push_values(chunk, |mut b, (raw, canonical)| {
                    b.push_bind(&raw.email)
                        .push_bind(&raw.name)
                        .push_bind(canonical);
                });
                q.push(" ON CONFLICT (email, name) DO NOTHING");
                q.build()
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            }
            for chunk in commits.chunks(INSERT_ROWS / 2) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO commits (repo_id, sha, parents, author_email, author_name, authored_at, \
                     author_offset, committer_email, committer_name, committed_at, committer_offset, is_merge, \
                     subject, body) ",
                );
                q.push_values(chunk, |mut b, c| {
                    b.push_bind(repo_id)
                        .push_bind(&c.sha)
                        .push_bind(c.parents.join(" "))
                        .push_bind(&c.author.identity.email)
                        .push_bind(&c.author.identity.name)
                        .push_bind(c.author.at)
                        .push_bind(i64::from(c.author.offset_minutes))
                        .push_bind(&c.committer.identity.email)
                        .push_bind(&c.committer.identity.name)
                        .push_bind(c.committer.at)
                        .push_bind(i64::from(c.committer.offset_minutes))
                        .push_bind(c.is_merge())
                        .push_bind(&c.subject)
                        .push_bind(&c.body);
                });
                q.push(" ON CONFLICT (repo_id, sha) DO NOTHING");
                q.build()
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            }
            for chunk in trailers.chunks(INSERT_ROWS) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO commit_trailers (repo_id, sha, position, key, value) ",
                );
                q.push_values(chunk, |mut b, (sha, i, key, value)| {
                    b.push_bind(repo_id)
                        .push_bind(*sha)
                        .push_bind(*i as i64)
                        .push_bind(*key)
                        .push_bind(*value);
                });
                q.push(" ON CONFLICT (repo_id, sha, position) DO NOTHING");
                q.build()
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            }
            for chunk in changes.chunks(INSERT_ROWS) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO file_changes (repo_id, sha, path, added, deleted, status, lines, indentation) ",
                );
                q.push_values(chunk, |mut b, (sha, f)| {
                    let (lines, indentation) = complexity_columns(f.complexity);
                    b.push_bind(repo_id)
                        .push_bind(*sha)
                        .push_bind(f.path.as_slice())
                        .push_bind(count(f.added))
                        .push_bind(count(f.deleted))
                        .push_bind(f.status.code())
                        .push_bind(lines)
                        .push_bind(indentation);
                });
                q.push(" ON CONFLICT (repo_id, sha, path) DO NOTHING");
                q.build()
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            }
            tx.commit().await.map_err(backend(context))
        })
    }

    async fn delete_repository(&self, repo_id: i64) -> StoreResult<()> {
        on_pool!(self, |pool| {
            let context = "cannot delete a repository";
            let mut tx = pool.begin().await.map_err(backend(context))?;
            for table in REPOSITORY_TABLES {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE repo_id = $1"
                )))
                .bind(repo_id)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
            }
            sqlx::query("DELETE FROM ingest_cursors WHERE source = 'git' AND scope = (SELECT location FROM repositories WHERE id = $1)")
                .bind(repo_id)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
            sqlx::query("DELETE FROM repositories WHERE id = $1")
                .bind(repo_id)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
            tx.commit().await.map_err(backend(context))
        })
    }

    async fn delete_commits(&self, repo_id: i64, shas: &[String]) -> StoreResult<()> {
        on_pool!(self, |pool| {
            let context = "cannot delete commits";
            let mut tx = pool.begin().await.map_err(backend(context))?;
            delete_commits!(tx, repo_id, shas, context);
            tx.commit().await.map_err(backend(context))
        })
    }

    async fn finish_ingest(
        &self,
        repo_id: i64,
        unreachable: &[String],
        refs: &[Ref],
        cursor: (&str, &str, &str),
    ) -> StoreResult<()> {
        let (source, scope, value) = cursor;
        on_pool!(self, |pool| {
            let context = "cannot record the ingested refs";
            let mut tx = pool.begin().await.map_err(backend(context))?;
            delete_commits!(tx, repo_id, unreachable, context);
            sqlx::query("DELETE FROM refs WHERE repo_id = $1")
                .bind(repo_id)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
            for chunk in refs.chunks(INSERT_ROWS) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO refs (repo_id, name, kind, commit_sha, annotated, tagger_at, tagger_offset) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(repo_id)
                        .push_bind(&r.name)
                        .push_bind(r.kind.as_str())
                        .push_bind(&r.commit)
                        .push_bind(r.annotated)
                        .push_bind(r.tagger_at)
                        .push_bind(r.tagger_offset_minutes.map(i64::from));
                });
                q.build()
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            }
            put_cursor!(tx, source, scope, value, context);
            // The graph is encoded as the rows stream in: holding 100k rows would double the
            // ingest's peak memory.
            let authors: Vec<(String, String)> = sqlx::query_as(
                "SELECT DISTINCT author_name, author_email FROM commits WHERE repo_id = $1",
            )
            .bind(repo_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend(context))?;
            let mut encoder = graph::Encoder::new(authors);
            {
                let mut rows = sqlx::query(
                    "SELECT sha, parents, committed_at, author_name, author_email FROM commits \
                     WHERE repo_id = $1",
                )
                .bind(repo_id)
                .fetch(&mut *tx);
                while let Some(row) = rows.try_next().await.map_err(backend(context))? {
                    let (sha, parents): (String, String) = (col!(row, "sha"), col!(row, "parents"));
                    let (name, email): (String, String) =
                        (col!(row, "author_name"), col!(row, "author_email"));
                    encoder.push(&sha, &parents, col!(row, "committed_at"), &name, &email);
                }
            }
            let (count, data) = encoder.finish();
            sqlx::query(
                "INSERT INTO commit_graphs (repo_id, commits, data) VALUES ($1, $2, $3) \
                 ON CONFLICT (repo_id) DO UPDATE SET commits = excluded.commits, data = excluded.data",
            )
            .bind(repo_id)
            .bind(count as i64)
            .bind(data)
            .execute(&mut *tx)
            .await
            .map_err(backend(context))?;
            tx.commit().await.map_err(backend(context))
        })
    }

    async fn commits_page(
        &self,
        repo_id: Option<i64>,
        after: Option<&PagePosition>,
        limit: usize,
    ) -> StoreResult<Page<CommitRow>> {
        let (after_repo, after_time, after_sha) = match after {
            Some(PagePosition::Commit {
                repo_id,
                committed_at,
                sha,
            }) => (*repo_id, *committed_at, sha.as_str()),
            None => (i64::MIN, i64::MIN, ""),
            Some(other) => {
                return Err(StoreError::Corrupt(format!(
                    "not a commit page position: {other:?}"
                )));
            }
        };
        const SQL: &str = "SELECT c.repo_id, r.name AS repo, c.sha, c.parents, c.author_email, c.author_name, \
                 c.authored_at, c.author_offset, c.committer_email, c.committer_name, c.committed_at, \
                 c.committer_offset, c.subject \
                 FROM commits c JOIN repositories r ON r.id = c.repo_id \
                 WHERE ($1 IS NULL OR c.repo_id = $1) AND (c.repo_id, c.committed_at, c.sha) > ($2, $3, $4) \
                 ORDER BY c.repo_id, c.committed_at, c.sha LIMIT $5";
        if let Pool::Sqlite(pool) = &self.pool {
            use crate::raw::Bind;
            let binds = [
                repo_id.map_or(Bind::Null, Bind::Int),
                Bind::Int(after_repo),
                Bind::Int(after_time),
                Bind::Text(after_sha),
                Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX)),
            ];
            let (mut out, mut last) = (Vec::new(), None);
            crate::raw::each_row(pool, "cannot list commits", SQL, &binds, &mut |row| {
                let commit = CommitRow {
                    repo: row.string(1)?,
                    sha: row.string(2)?,
                    parents: split_parents(row.text(3)?.unwrap_or_default()),
                    author: Identity {
                        name: row.string(5)?,
                        email: row.string(4)?,
                    },
                    authored_at: row.int(6).unwrap_or_default(),
                    author_offset_minutes: row.int(7).unwrap_or_default() as i32,
                    committer: Identity {
                        name: row.string(9)?,
                        email: row.string(8)?,
                    },
                    committed_at: row.int(10).unwrap_or_default(),
                    committer_offset_minutes: row.int(11).unwrap_or_default() as i32,
                    subject: row.string(12)?,
                };
                last = Some(PagePosition::Commit {
                    repo_id: row.int(0).unwrap_or_default(),
                    committed_at: commit.committed_at,
                    sha: commit.sha.clone(),
                });
                out.push(commit);
                Ok(())
            })
            .await?;
            return Ok(Page {
                next: if out.len() == limit { last } else { None },
                rows: out,
            });
        }
        on_pool!(self, |pool| {
            let rows = sqlx::query(SQL)
                .bind(repo_id)
                .bind(after_repo)
                .bind(after_time)
                .bind(after_sha)
                .bind(limit as i64)
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list commits"))?;
            let mut out = Vec::with_capacity(rows.len());
            let mut last = None;
            for row in rows {
                let parents: String = col!(row, "parents");
                let author_offset: i64 = col!(row, "author_offset");
                let committer_offset: i64 = col!(row, "committer_offset");
                let commit = CommitRow {
                    repo: col!(row, "repo"),
                    sha: col!(row, "sha"),
                    parents: split_parents(&parents),
                    author: Identity {
                        name: col!(row, "author_name"),
                        email: col!(row, "author_email"),
                    },
                    authored_at: col!(row, "authored_at"),
                    author_offset_minutes: author_offset as i32,
                    committer: Identity {
                        name: col!(row, "committer_name"),
                        email: col!(row, "committer_email"),
                    },
                    committed_at: col!(row, "committed_at"),
                    committer_offset_minutes: committer_offset as i32,
                    subject: col!(row, "subject"),
                };
                last = Some(PagePosition::Commit {
                    repo_id: col!(row, "repo_id"),
                    committed_at: commit.committed_at,
                    sha: commit.sha.clone(),
                });
                out.push(commit);
            }
            Ok(Page {
                next: if out.len() == limit { last } else { None },
                rows: out,
            })
        })
    }

    async fn file_changes_page(
        &self,
        repo_id: Option<i64>,
        after: Option<&PagePosition>,
        limit: usize,
    ) -> StoreResult<Page<FileChangeRow>> {
        let (after_repo, after_sha, after_path) = match after {
            Some(PagePosition::FileChange { repo_id, sha, path }) => {
                (*repo_id, sha.as_str(), path.as_slice())
            }
            None => (i64::MIN, "", &[][..]),
            Some(other) => {
                return Err(StoreError::Corrupt(format!(
                    "not a file-change page position: {other:?}"
                )));
            }
        };
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT f.repo_id, r.name AS repo, f.sha, f.path, f.added, f.deleted \
                 FROM file_changes f JOIN repositories r ON r.id = f.repo_id \
                 WHERE ($1 IS NULL OR f.repo_id = $1) AND (f.repo_id, f.sha, f.path) > ($2, $3, $4) \
                 ORDER BY f.repo_id, f.sha, f.path LIMIT $5",
            )
            .bind(repo_id)
            .bind(after_repo)
            .bind(after_sha)
            .bind(after_path)
            .bind(limit as i64)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list file changes"))?;
            let mut out = Vec::with_capacity(rows.len());
            let mut last = None;
            for row in rows {
                let change = FileChangeRow {
                    repo: col!(row, "repo"),
                    sha: col!(row, "sha"),
                    path: col!(row, "path"),
                    added: uncount(col!(row, "added")),
                    deleted: uncount(col!(row, "deleted")),
                };
                last = Some(PagePosition::FileChange {
                    repo_id: col!(row, "repo_id"),
                    sha: change.sha.clone(),
                    path: change.path.clone(),
                });
                out.push(change);
            }
            Ok(Page {
                next: if out.len() == limit { last } else { None },
                rows: out,
            })
        })
    }

    async fn tags(&self, repo_id: Option<i64>) -> StoreResult<Vec<TagRow>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT r.name AS repo, t.name, t.kind, t.commit_sha, t.annotated, t.tagger_at, t.tagger_offset \
                 FROM refs t JOIN repositories r ON r.id = t.repo_id \
                 WHERE t.kind = 'tag' AND ($1 IS NULL OR t.repo_id = $1) ORDER BY r.name, t.name",
            )
            .bind(repo_id)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list tags"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let kind: String = col!(row, "kind");
                let offset: Option<i64> = col!(row, "tagger_offset");
                out.push(TagRow {
                    repo: col!(row, "repo"),
                    tag: Ref {
                        name: col!(row, "name"),
                        kind: RefKind::parse(&kind).ok_or_else(|| {
                            StoreError::Corrupt(format!("unknown ref kind {kind:?}"))
                        })?,
                        commit: col!(row, "commit_sha"),
                        annotated: col!(row, "annotated"),
                        tagger_at: col!(row, "tagger_at"),
                        tagger_offset_minutes: offset.map(|o| o as i32),
                    },
                });
            }
            Ok(out)
        })
    }

    async fn refs(&self, repo_id: i64) -> StoreResult<Vec<Ref>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT name, kind, commit_sha, annotated, tagger_at, tagger_offset FROM refs \
                 WHERE repo_id = $1 ORDER BY name",
            )
            .bind(repo_id)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list refs"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let kind: String = col!(row, "kind");
                let offset: Option<i64> = col!(row, "tagger_offset");
                out.push(Ref {
                    name: col!(row, "name"),
                    kind: RefKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown ref kind {kind:?}")))?,
                    commit: col!(row, "commit_sha"),
                    annotated: col!(row, "annotated"),
                    tagger_at: col!(row, "tagger_at"),
                    tagger_offset_minutes: offset.map(|o| o as i32),
                });
            }
            Ok(out)
        })
    }

    async fn commit_graph(&self, bots: &[String]) -> StoreResult<Vec<GraphRow>> {
        if let Some(graph) = self.stored_graph(bots).await? {
            return Ok(graph);
        }
        self.assembled_graph(bots).await
    }

    async fn subjects(&self) -> StoreResult<Vec<(String, String)>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query("SELECT DISTINCT sha, subject FROM commits")
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list commits"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((col!(row, "sha"), col!(row, "subject")));
            }
            Ok(out)
        })
    }

    async fn commit_paths(&self) -> StoreResult<Vec<(String, Vec<u8>)>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query("SELECT DISTINCT sha, path FROM file_changes")
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list file changes"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((col!(row, "sha"), col!(row, "path")));
            }
            Ok(out)
        })
    }

    async fn trailers_named(&self, repo_id: i64, key: &str) -> StoreResult<Vec<TrailerRow>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT t.sha, t.value, c.committed_at FROM commit_trailers t \
                 JOIN commits c ON c.repo_id = t.repo_id AND c.sha = t.sha \
                 WHERE t.repo_id = $1 AND LOWER(t.key) = LOWER($2) \
                 ORDER BY c.committed_at, t.sha, t.position",
            )
            .bind(repo_id)
            .bind(key)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list trailers"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(TrailerRow {
                    sha: col!(row, "sha"),
                    value: col!(row, "value"),
                    committed_at: col!(row, "committed_at"),
                });
            }
            Ok(out)
        })
    }

    async fn messages_containing(
        &self,
        repo_id: i64,
        needles: &[String],
    ) -> StoreResult<Vec<(String, String, String)>> {
        let contains = match self.pool {
            Pool::Sqlite(_) => "instr",
            Pool::Postgres(_) => "strpos",
        };
        let mut found: std::collections::BTreeMap<String, (String, String)> = Default::default();
        for chunk in needles.chunks(100) {
            let rows = on_pool!(self, |pool| {
                let mut q =
                    QueryBuilder::new("SELECT sha, subject, body FROM commits WHERE repo_id = ");
                q.push_bind(repo_id).push(" AND (");
                for (i, needle) in chunk.iter().enumerate() {
                    if i > 0 {
                        q.push(" OR ");
                    }
                    q.push(format_args!("{contains}(subject, "))
                        .push_bind(needle)
                        .push(format_args!(") > 0 OR {contains}(body, "))
                        .push_bind(needle)
                        .push(") > 0");
                }
                q.push(")");
                let rows = q
                    .build()
                    .fetch_all(pool)
                    .await
                    .map_err(backend("cannot search commit messages"))?;
                let mut out: Vec<(String, String, String)> = Vec::with_capacity(rows.len());
                for row in rows {
                    out.push((col!(row, "sha"), col!(row, "subject"), col!(row, "body")));
                }
                out
            });
            for (sha, subject, body) in rows {
                found.insert(sha, (subject, body));
            }
        }
        Ok(found
            .into_iter()
            .map(|(sha, (subject, body))| (sha, subject, body))
            .collect())
    }

    async fn commit_messages(&self, repo_id: i64) -> StoreResult<Vec<CommitMessage>> {
        if let Pool::Sqlite(pool) = &self.pool {
            return sqlite_commit_messages(pool, repo_id).await;
        }
        let context = "cannot list commit messages";
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT sha, author_name, author_email, committer_name, committer_email, \
                 committed_at, is_merge, subject, body FROM commits WHERE repo_id = $1",
            )
            .bind(repo_id)
            .fetch_all(pool)
            .await
            .map_err(backend(context))?;
            let mut trailers: std::collections::HashMap<String, Vec<(String, String)>> =
                std::collections::HashMap::new();
            let trailer_rows = sqlx::query(
                "SELECT sha, key, value FROM commit_trailers WHERE repo_id = $1 ORDER BY sha, position",
            )
            .bind(repo_id)
            .fetch_all(pool)
            .await
            .map_err(backend(context))?;
            for row in trailer_rows {
                let sha: String = col!(row, "sha");
                trailers
                    .entry(sha)
                    .or_default()
                    .push((col!(row, "key"), col!(row, "value")));
            }
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let sha: String = col!(row, "sha");
                out.push(CommitMessage {
                    trailers: trailers.remove(&sha).unwrap_or_default(),
                    sha,
                    author: Identity {
                        name: col!(row, "author_name"),
                        email: col!(row, "author_email"),
                    },
                    committer: Identity {
                        name: col!(row, "committer_name"),
                        email: col!(row, "committer_email"),
                    },
                    committed_at: col!(row, "committed_at"),
                    is_merge: col!(row, "is_merge"),
                    subject: col!(row, "subject"),
                    body: col!(row, "body"),
                });
            }
            Ok(out)
        })
    }

    async fn people(&self) -> StoreResult<Vec<Identity>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT name, email FROM people UNION SELECT name, email FROM person_aliases \
                 ORDER BY email, name",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list people"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(Identity {
                    name: col!(row, "name"),
                    email: col!(row, "email"),
                });
            }
            Ok(out)
        })
    }

    async fn reverts(&self) -> StoreResult<Vec<RevertRow>> {
        // The WHERE clause is the predicate of the partial index `commits_reverts`, verbatim.
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT sha, MIN(committed_at) AS committed_at, MIN(body) AS body FROM commits \
                 WHERE body LIKE '%This reverts commit %' GROUP BY sha",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list reverts"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(RevertRow {
                    sha: col!(row, "sha"),
                    committed_at: col!(row, "committed_at"),
                    message: col!(row, "body"),
                });
            }
            Ok(out)
        })
    }

    async fn commit_facts(&self, repo_id: i64) -> StoreResult<Vec<CommitFact>> {
        const SQL: &str =
            "SELECT sha, author_email, committed_at, is_merge FROM commits WHERE repo_id = $1";
        if let Pool::Sqlite(pool) = &self.pool {
            let mut out = Vec::new();
            crate::raw::each_row(
                pool,
                "cannot list commits",
                SQL,
                &[crate::raw::Bind::Int(repo_id)],
                &mut |row| {
                    out.push(CommitFact {
                        sha: row.string(0)?,
                        author_email: row.string(1)?,
                        committed_at: row.int(2).unwrap_or_default(),
                        is_merge: row.int(3).is_some_and(|m| m != 0),
                    });
                    Ok(())
                },
            )
            .await?;
            return Ok(out);
        }
        on_pool!(self, |pool| {
            let rows = sqlx::query(SQL)
                .bind(repo_id)
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list commits"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(CommitFact {
                    sha: col!(row, "sha"),
                    author_email: col!(row, "author_email"),
                    committed_at: col!(row, "committed_at"),
                    is_merge: col!(row, "is_merge"),
                });
            }
            Ok(out)
        })
    }

    async fn churn_since(&self, repo_id: i64, since: Millis) -> StoreResult<Vec<ChurnRow>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT f.sha, f.path, c.committed_at, c.author_email, f.added, f.deleted, f.lines, f.indentation \
                 FROM commits c JOIN file_changes f ON f.repo_id = c.repo_id AND f.sha = c.sha \
                 WHERE c.repo_id = $1 AND c.committed_at >= $2",
            )
            .bind(repo_id)
            .bind(since)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list file changes"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(churn_row!(row));
            }
            Ok(out)
        })
    }

    async fn each_file_change(
        &self,
        repo_id: i64,
        each: &mut (dyn FnMut(ChurnRow) + Send),
    ) -> StoreResult<()> {
        const SQL: &str = "SELECT f.sha, f.path, c.committed_at, c.author_email, f.added, f.deleted, f.lines, f.indentation \
                 FROM commits c JOIN file_changes f ON f.repo_id = c.repo_id AND f.sha = c.sha \
                 WHERE c.repo_id = $1";
        if let Pool::Sqlite(pool) = &self.pool {
            return crate::raw::each_row(
                pool,
                "cannot list file changes",
                SQL,
                &[crate::raw::Bind::Int(repo_id)],
                &mut |row| {
                    each(ChurnRow {
                        sha: row.string(0)?,
                        path: row.bytes(1)?.unwrap_or_default().to_vec(),
                        committed_at: row.int(2).unwrap_or_default(),
                        author_email: row.string(3)?,
                        added: uncount(row.int(4)),
                        deleted: uncount(row.int(5)),
                        complexity: complexity_of(row.int(6), row.int(7)),
                    });
                    Ok(())
                },
            )
            .await;
        }
        on_pool!(self, |pool| {
            let mut rows = sqlx::query(SQL).bind(repo_id).fetch(pool);
            while let Some(row) = rows
                .try_next()
                .await
                .map_err(backend("cannot list file changes"))?
            {
                each(churn_row!(row));
            }
            Ok(())
        })
    }

    async fn commit_parents(&self, repo_id: i64) -> StoreResult<Vec<(String, Vec<String>)>> {
        if let Pool::Sqlite(pool) = &self.pool {
            let mut out = Vec::new();
            crate::raw::each_row(
                pool,
                "cannot list commits",
                "SELECT sha, parents FROM commits WHERE repo_id = $1",
                &[crate::raw::Bind::Int(repo_id)],
                &mut |row| {
                    out.push((
                        row.string(0)?,
                        split_parents(row.text(1)?.unwrap_or_default()),
                    ));
                    Ok(())
                },
            )
            .await?;
            return Ok(out);
        }
        on_pool!(self, |pool| {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT sha, parents FROM commits WHERE repo_id = $1")
                    .bind(repo_id)
                    .fetch_all(pool)
                    .await
                    .map_err(backend("cannot list commits"))?;
            Ok(rows
                .into_iter()
                .map(|(sha, parents)| (sha, split_parents(&parents)))
                .collect())
        })
    }

    async fn head_file_count(&self, repo_id: i64) -> StoreResult<usize> {
        on_pool!(self, |pool| {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM head_files WHERE repo_id = $1")
                .bind(repo_id)
                .fetch_one(pool)
                .await
                .map_err(backend("cannot count the files at HEAD"))?;
            Ok(n.max(0) as usize)
        })
    }

    async fn head_files(&self, repo_id: i64) -> StoreResult<Vec<HeadFile>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT path, blob, lines, indentation, linguist FROM head_files WHERE repo_id = $1 \
                 ORDER BY path",
            )
            .bind(repo_id)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list the files at HEAD"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(HeadFile {
                    path: col!(row, "path"),
                    blob: col!(row, "blob"),
                    complexity: complexity_of(col!(row, "lines"), col!(row, "indentation")),
                    linguist: {
                        let stored: Option<String> = col!(row, "linguist");
                        stored.as_deref().and_then(Linguist::parse)
                    },
                });
            }
            Ok(out)
        })
    }

    async fn replace_head_files(&self, repo_id: i64, files: &[HeadFile]) -> StoreResult<()> {
        on_pool!(self, |pool| {
            let context = "cannot store the files at HEAD";
            let mut tx = pool.begin().await.map_err(backend(context))?;
            sqlx::query("DELETE FROM head_files WHERE repo_id = $1")
                .bind(repo_id)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
            for chunk in files.chunks(INSERT_ROWS) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO head_files (repo_id, path, blob, lines, indentation, linguist) ",
                );
                q.push_values(chunk, |mut b, f| {
                    let (lines, indentation) = complexity_columns(f.complexity);
                    b.push_bind(repo_id)
                        .push_bind(f.path.as_slice())
                        .push_bind(&f.blob)
                        .push_bind(lines)
                        .push_bind(indentation)
                        .push_bind(f.linguist.map(Linguist::as_str));
                });
                q.build()
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            }
            tx.commit().await.map_err(backend(context))
        })
    }

    async fn repositories_with(&self, shas: &[String]) -> StoreResult<Vec<i64>> {
        let mut repos = std::collections::BTreeSet::new();
        for chunk in shas.chunks(INSERT_ROWS) {
            on_pool!(self, |pool| {
                let mut q =
                    QueryBuilder::new("SELECT DISTINCT repo_id FROM commits WHERE sha IN (");
                let mut list = q.separated(", ");
                for sha in chunk {
                    list.push_bind(sha);
                }
                q.push(")");
                let found: Vec<i64> = q
                    .build_query_scalar()
                    .fetch_all(pool)
                    .await
                    .map_err(backend("cannot look up commits"))?;
                repos.extend(found);
            });
        }
        Ok(repos.into_iter().collect())
    }

    async fn unknown_shas(&self, shas: &[String]) -> StoreResult<Vec<String>> {
        let mut known = std::collections::HashSet::new();
        for chunk in shas.chunks(INSERT_ROWS) {
            on_pool!(self, |pool| {
                let mut q = QueryBuilder::new("SELECT DISTINCT sha FROM commits WHERE sha IN (");
                let mut list = q.separated(", ");
                for sha in chunk {
                    list.push_bind(sha);
                }
                q.push(")");
                let found: Vec<String> = q
                    .build_query_scalar()
                    .fetch_all(pool)
                    .await
                    .map_err(backend("cannot look up commits"))?;
                known.extend(found);
            });
        }
        let mut unknown: Vec<String> = shas
            .iter()
            .filter(|s| !known.contains(*s))
            .cloned()
            .collect();
        unknown.sort();
        unknown.dedup();
        // Abbreviations: a range over the sha index ("abc" ≤ sha < "abcg", hex has no g).
        let mut still = Vec::with_capacity(unknown.len());
        for sha in unknown {
            let abbreviated = sha.len() < 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
            let found: Option<String> = match abbreviated {
                false => None,
                true => on_pool!(self, |pool| {
                    sqlx::query_scalar(
                        "SELECT sha FROM commits WHERE sha >= $1 AND sha < $2 LIMIT 1",
                    )
                    .bind(&sha)
                    .bind(format!("{sha}g"))
                    .fetch_optional(pool)
                    .await
                    .map_err(backend("cannot look up commits"))?
                }),
            };
            if found.is_none() {
                still.push(sha);
            }
        }
        Ok(still)
    }
}

/// `commit_messages` on SQLite, stepped on the connection's handle (see `raw.rs`).
async fn sqlite_commit_messages(
    pool: &sqlx::SqlitePool,
    repo_id: i64,
) -> StoreResult<Vec<CommitMessage>> {
    let context = "cannot list commit messages";
    let mut trailers: std::collections::HashMap<String, Vec<(String, String)>> =
        std::collections::HashMap::new();
    crate::raw::each_row(
        pool,
        context,
        "SELECT sha, key, value FROM commit_trailers WHERE repo_id = $1 ORDER BY sha, position",
        &[crate::raw::Bind::Int(repo_id)],
        &mut |row| {
            trailers
                .entry(row.string(0)?)
                .or_default()
                .push((row.string(1)?, row.string(2)?));
            Ok(())
        },
    )
    .await?;
    let mut out = Vec::new();
    crate::raw::each_row(
        pool,
        context,
        "SELECT sha, author_name, author_email, committer_name, committer_email, \
         committed_at, is_merge, subject, body FROM commits WHERE repo_id = $1",
        &[crate::raw::Bind::Int(repo_id)],
        &mut |row| {
            let sha = row.string(0)?;
            out.push(CommitMessage {
                trailers: trailers.remove(&sha).unwrap_or_default(),
                sha,
                author: Identity {
                    name: row.string(1)?,
                    email: row.string(2)?,
                },
                committer: Identity {
                    name: row.string(3)?,
                    email: row.string(4)?,
                },
                committed_at: row.int(5).unwrap_or_default(),
                is_merge: row.int(6).is_some_and(|m| m != 0),
                subject: row.string(7)?,
                body: row.string(8)?,
            });
            Ok(())
        },
    )
    .await?;
    Ok(out)
}
