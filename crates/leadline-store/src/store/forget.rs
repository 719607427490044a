//! `leadline forget`: a person's identity erased everywhere the store keeps it, in one
//! transaction, while their work stays (commits, pull requests and reviews keep counting, under
//! a random name that leads back to no one).

use leadline_core::store::{Forget, Forgotten, StoreResult};
use serde_json::Value;

use super::INSERT_ROWS;
use crate::{Pool, SqlStore, backend, on_pool};

/// Replaces every occurrence of `needle` (compared in lower case) in `text`.
fn replace_ignoring_case(text: &str, needle: &str, with: &str) -> String {
    if needle.is_empty() {
        return text.to_owned();
    }
    let lower = text.to_lowercase();
    // Lower-casing may change byte lengths outside ASCII; then fall back to exact matches.
    if lower.len() != text.len() {
        return text.replace(needle, with);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in lower.match_indices(needle) {
        out.push_str(&text[rest..at]);
        out.push_str(with);
        rest = at + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// Scrubs a JSON value: strings holding an email are rewritten, strings equal to a login
/// replaced. Returns whether anything changed.
fn scrub(value: &mut Value, emails: &[String], logins: &[String], with: &str) -> bool {
    match value {
        Value::String(s) => {
            let lower = s.to_lowercase();
            if logins.contains(&lower) {
                *s = with.to_owned();
                return true;
            }
            let mut changed = false;
            for e in emails {
                if lower.contains(e.as_str()) {
                    *s = replace_ignoring_case(s, e, with);
                    changed = true;
                }
            }
            changed
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |c, v| scrub(v, emails, logins, with) | c),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |c, v| scrub(v, emails, logins, with) | c),
        _ => false,
    }
}

impl SqlStore {
    pub(super) async fn forget_person(&self, who: &Forget) -> StoreResult<Forgotten> {
        let context = "cannot forget the person";
        let contains = match self.pool {
            Pool::Sqlite(_) => "instr",
            Pool::Postgres(_) => "strpos",
        };
        let with = who.replacement.as_str();
        let logins: Vec<String> = who.logins.iter().map(|l| l.to_lowercase()).collect();
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            // The person's emails: the one given and those .mailmap mapped to it.
            let mut emails: Vec<String> = vec![who.email.to_lowercase()];
            let aliases: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT lower(email) FROM person_aliases WHERE lower(person_email) = $1",
            )
            .bind(&emails[0])
            .fetch_all(&mut *tx)
            .await
            .map_err(backend(context))?;
            emails.extend(aliases);
            emails.sort();
            emails.dedup();
            let mut report = Forgotten::default();
            for e in &emails {
                // Names written with the email ("Ann <ann@example.com>") go with it in messages.
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT author_name FROM commits WHERE lower(author_email) = $1 \
                     UNION SELECT DISTINCT committer_name FROM commits WHERE lower(committer_email) = $1",
                )
                .bind(e)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend(context))?;
                for role in ["author", "committer"] {
                    report.commits += sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE commits SET {role}_name = $1, {role}_email = $1 WHERE lower({role}_email) = $2"
                    )))
                    .bind(with)
                    .bind(e)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?
                    .rows_affected();
                }
                // Trailers and messages naming the email (Signed-off-by, Co-authored-by).
                report.trailers += sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE commit_trailers SET value = $1 WHERE {contains}(lower(value), $2) > 0"
                )))
                .bind(with)
                .bind(e)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?
                .rows_affected();
                let bodies: Vec<(i64, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT repo_id, sha, body FROM commits WHERE {contains}(lower(body), $1) > 0"
                )))
                .bind(e)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend(context))?;
                for (repo_id, sha, body) in bodies {
                    let mut body = body;
                    for name in &names {
                        body = body.replace(&format!("{name} <"), &format!("{with} <"));
                    }
                    sqlx::query("UPDATE commits SET body = $1 WHERE repo_id = $2 AND sha = $3")
                        .bind(replace_ignoring_case(&body, e, with))
                        .bind(repo_id)
                        .bind(&sha)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend(context))?;
                }
                report.pushed_commits += sqlx::query(
                    "UPDATE pushed_commits SET author_name = $1, author_email = $1 WHERE lower(author_email) = $2",
                )
                .bind(with)
                .bind(e)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?
                .rows_affected();
                for sql in [
                    "DELETE FROM people WHERE lower(email) = $1",
                    "DELETE FROM person_aliases WHERE lower(email) = $1 OR lower(person_email) = $1",
                ] {
                    sqlx::query(sql)
                        .bind(e)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend(context))?;
                }
            }
            // Review requests name people too (a JSON array of logins).
            let requested: Vec<(String, String, i64, String)> = sqlx::query_as(
                "SELECT forge, repo, number, review_requests FROM pull_requests WHERE review_requests <> '[]'",
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(backend(context))?;
            for (forge, repo, number, text) in requested {
                let Ok(mut value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if scrub(&mut value, &[], &logins, with) {
                    sqlx::query(
                        "UPDATE pull_requests SET review_requests = $1 WHERE forge = $2 AND repo = $3 AND number = $4",
                    )
                    .bind(value.to_string())
                    .bind(&forge)
                    .bind(&repo)
                    .bind(number)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
                }
            }
            for login in &logins {
                report.pull_requests +=
                    sqlx::query("UPDATE pull_requests SET author = $1 WHERE lower(author) = $2")
                        .bind(with)
                        .bind(login)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend(context))?
                        .rows_affected();
                report.reviews +=
                    sqlx::query("UPDATE reviews SET reviewer = $1 WHERE lower(reviewer) = $2")
                        .bind(with)
                        .bind(login)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend(context))?
                        .rows_affected();
            }
            // Raw webhook bodies name people too.
            let mut after: Option<(String, String)> = None;
            loop {
                let page: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
                    "SELECT source, delivery_id, body FROM webhook_deliveries \
                     WHERE $1 IS NULL OR (source, delivery_id) > ($1, $2) \
                     ORDER BY source, delivery_id LIMIT $3",
                )
                .bind(after.as_ref().map(|a| a.0.clone()))
                .bind(after.as_ref().map(|a| a.1.clone()).unwrap_or_default())
                .bind(INSERT_ROWS as i64)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend(context))?;
                let Some(last) = page.last() else { break };
                after = Some((last.0.clone(), last.1.clone()));
                for (source, id, body) in page {
                    let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
                        continue;
                    };
                    if scrub(&mut value, &emails, &logins, with) {
                        sqlx::query(
                            "UPDATE webhook_deliveries SET body = $1 WHERE source = $2 AND delivery_id = $3",
                        )
                        .bind(value.to_string().into_bytes())
                        .bind(&source)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend(context))?;
                        report.deliveries += 1;
                    }
                }
            }
            // Stored graphs hold author identities: they are rebuilt by the next ingest, and
            // the commits table serves until then.
            sqlx::query("DELETE FROM commit_graphs")
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
            tx.commit().await.map_err(backend(context))?;
            Ok(report)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_logins_are_scrubbed_from_json() {
        let mut v: Value = serde_json::json!({
            "commits": [{"author": {"name": "Ann", "email": "Ann@Example.com", "username": "ann"}}],
            "message": "Signed-off-by: Ann <ann@example.com>",
            "other": "annotated",
        });
        let emails = vec!["ann@example.com".to_owned()];
        let logins = vec!["ann".to_owned()];
        assert!(scrub(&mut v, &emails, &logins, "forgotten-1"));
        let text = v.to_string();
        assert!(!text.to_lowercase().contains("ann@example.com"), "{text}");
        assert!(text.contains(r#""username":"forgotten-1""#), "{text}");
        assert!(text.contains("Signed-off-by: Ann <forgotten-1>"), "{text}");
        // Only whole strings equal to a login are replaced.
        assert!(text.contains("annotated"));
        assert!(!scrub(&mut v, &emails, &logins, "forgotten-1"));
    }
}
