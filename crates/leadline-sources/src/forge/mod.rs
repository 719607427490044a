//! Forge API connectors: a small HTTP client that follows `Link` pagination, sends
//! conditional requests (ETag / If-None-Match), waits out primary and secondary rate limits
//! (`x-ratelimit-*`, `retry-after`) and retries 5xx answers and timeouts with backoff, and the
//! syncs built on it. Nothing here stores anything: a sync hands each page of domain rows and
//! its cursor to a [`Sink`], which stores both together, so a killed sync resumes where the
//! last stored page left it.

pub mod github;
pub mod gitlab;

use std::time::Duration;

use leadline_core::events::Events;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// How a client talks to a forge.
#[derive(Debug, Clone)]
pub struct Options {
    /// API root, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    pub token: Option<String>,
    /// Retries of a request answered 5xx or not answered at all.
    pub max_retries: u32,
    /// The first retry waits this long; each next one twice as long.
    pub backoff: Duration,
    /// A rate limit asking to wait longer than this fails the sync instead.
    pub max_wait: Duration,
    pub timeout: Duration,
    /// Runs created this many days before the newest one seen are listed again on each sync:
    /// a re-run keeps its run's `created_at`, and a run still going at the last sync finishes.
    pub rerun_lookback_days: u32,
    /// The `Authorization` header when it is not `Bearer TOKEN` (PagerDuty's `Token
    /// token=…`, Opsgenie's `GenieKey …`); never logged.
    pub authorization: Option<String>,
    /// Headers every request sends (GitHub's media type and API version by default).
    pub headers: Vec<(&'static str, &'static str)>,
}

impl Options {
    pub fn new(api_url: &str, token: Option<String>) -> Options {
        Options {
            api_url: api_url.trim_end_matches('/').to_owned(),
            token,
            max_retries: 5,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(3600),
            timeout: Duration::from_secs(60),
            rerun_lookback_days: 30,
            authorization: None,
            headers: vec![
                ("Accept", "application/vnd.github+json"),
                ("X-GitHub-Api-Version", "2022-11-28"),
            ],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error(
        "{url}: the token was refused (401); check GITHUB_TOKEN, GITLAB_TOKEN, PAGERDUTY_TOKEN or OPSGENIE_API_KEY"
    )]
    Unauthorized { url: String },
    #[error("{url}: not found (404); check the name, and that the token can see it")]
    NotFound { url: String },
    #[error("{url}: {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url}: no answer after {attempts} attempts: {source}")]
    Network {
        url: String,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url}: the rate limit asks to wait {seconds} s, more than the {limit} s allowed")]
    WaitTooLong {
        url: String,
        seconds: u64,
        limit: u64,
    },
    #[error("{url}: unreadable answer: {message}")]
    Body { url: String, message: String },
    #[error("{0}")]
    Mapping(#[from] crate::webhook::MappingError),
    #[error("cannot store what was fetched: {0}")]
    Sink(String),
}

/// A page as fetched.
pub enum Fetched {
    /// 304: unchanged since the ETag given.
    NotModified,
    Page {
        body: Value,
        etag: Option<String>,
        /// The `rel="next"` link.
        next: Option<String>,
        /// How many items the whole listing holds, when the forge tells (GitLab's `X-Total`) or
        /// lets it be estimated (the page number of GitHub's `rel="last"` link × `per_page`).
        total: Option<u64>,
    },
}

/// Where a sync reports: pages to store with their cursor, progress and waits to show.
pub trait Sink {
    /// Stores `events` and the cursor that follows them, atomically.
    fn save(
        &mut self,
        events: Events,
        cursor: &str,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
    /// `what` moved on to `done` items.
    fn progress(&mut self, what: &str, done: u64);
    /// `what` will have `total` items (when the forge says so), for an ETA.
    fn total(&mut self, what: &str, total: u64);
    /// Something the user should know (a rate-limit wait, a retry).
    fn notice(&mut self, message: &str);
}

pub struct Client {
    http: reqwest::Client,
    pub options: Options,
}

impl Client {
    pub fn new(options: Options) -> Result<Client, ForgeError> {
        // rustls on ring (the aws-lc default is the slowest part of a clean build).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("leadline/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .build()
            .map_err(|e| ForgeError::Status {
                url: options.api_url.clone(),
                status: 0,
                message: format!("cannot build an HTTP client: {e}"),
            })?;
        Ok(Client { http, options })
    }

    /// `path` under the API root.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.options.api_url)
    }

    /// GETs `url`, waiting out rate limits and retrying failures as [`Options`] say.
    pub async fn get(
        &self,
        url: &str,
        etag: Option<&str>,
        sink: &mut impl Sink,
    ) -> Result<Fetched, ForgeError> {
        let mut attempt = 0;
        let mut throttled = 0;
        loop {
            attempt += 1;
            let mut request = self.http.get(url);
            for (name, value) in &self.options.headers {
                request = request.header(*name, *value);
            }
            if let Some(authorization) = &self.options.authorization {
                request = request.header("Authorization", authorization);
            } else if let Some(token) = &self.options.token {
                request = request.bearer_auth(token);
            }
            if let Some(etag) = etag {
                request = request.header("If-None-Match", etag);
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if attempt <= self.options.max_retries => {
                    let wait = self.backoff(attempt);
                    sink.notice(&format!(
                        "{url}: {e}; retrying in {:.1} s",
                        wait.as_secs_f64()
                    ));
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(e) => {
                    return Err(ForgeError::Network {
                        url: url.to_owned(),
                        attempts: attempt,
                        source: e,
                    });
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let header = |name: &str| header(&headers, name);
            match status {
                304 => return Ok(Fetched::NotModified),
                200..=299 => {
                    let text = response.text().await.map_err(|e| ForgeError::Body {
                        url: url.to_owned(),
                        message: e.to_string(),
                    })?;
                    let body = serde_json::from_str(&text).map_err(|e| ForgeError::Body {
                        url: url.to_owned(),
                        message: e.to_string(),
                    })?;
                    let total = header("x-total")
                        .and_then(|t| t.trim().parse().ok())
                        .or_else(|| header("link").and_then(|l| estimated_total(l, url)));
                    return Ok(Fetched::Page {
                        body,
                        etag: header("etag").map(str::to_owned),
                        next: header("link").and_then(next_link),
                        total,
                    });
                }
                401 => {
                    return Err(ForgeError::Unauthorized {
                        url: url.to_owned(),
                    });
                }
                404 => {
                    return Err(ForgeError::NotFound {
                        url: url.to_owned(),
                    });
                }
                403 | 429 if rate_limited(status, &headers) => {
                    throttled += 1;
                    // Without a header saying how long: GitHub's advice (a minute) for its
                    // secondary limits, backoff for a bare 429 (Opsgenie's THROTTLED).
                    let wait = rate_limit_wait(&headers).unwrap_or_else(|| match status {
                        429 => self.backoff(throttled),
                        _ => Duration::from_secs(60),
                    });
                    if wait > self.options.max_wait {
                        return Err(ForgeError::WaitTooLong {
                            url: url.to_owned(),
                            seconds: wait.as_secs(),
                            limit: self.options.max_wait.as_secs(),
                        });
                    }
                    sink.notice(&format!(
                        "rate limited ({status}); waiting {} s, then resuming",
                        wait.as_secs().max(1)
                    ));
                    tokio::time::sleep(wait).await;
                    // A rate-limit wait is not a failed attempt.
                    attempt -= 1;
                }
                500..=599 if attempt <= self.options.max_retries => {
                    let wait = self.backoff(attempt);
                    sink.notice(&format!(
                        "{url}: {status}; retrying in {:.1} s",
                        wait.as_secs_f64()
                    ));
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    let text = response.text().await.unwrap_or_default();
                    // GitHub and GitLab say `message`, PagerDuty `error.message`, Prometheus
                    // `error`.
                    let message = serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|v| {
                            let error = v.get("error");
                            v.get("message")
                                .or_else(|| error?.get("message"))
                                .or(error)?
                                .as_str()
                                .map(str::to_owned)
                        })
                        .unwrap_or(text);
                    return Err(ForgeError::Status {
                        url: url.to_owned(),
                        status,
                        message,
                    });
                }
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.options.backoff * 2u32.saturating_pow(attempt.saturating_sub(1).min(10))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The CODEOWNERS rules in the first of `urls` that exists (a contents object with base64
/// `content`, as both forges answer), or none when none does.
pub(crate) async fn code_owners(
    client: &Client,
    urls: &[String],
    sink: &mut impl Sink,
    synced: &mut github::Synced,
) -> Result<Vec<(String, Vec<String>)>, ForgeError> {
    use base64::Engine;
    for url in urls {
        synced.requests += 1;
        let body = match client.get(url, None, sink).await {
            Ok(Fetched::Page { body, .. }) => body,
            Ok(Fetched::NotModified) | Err(ForgeError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let encoded: String = body
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| ForgeError::Body {
                url: url.clone(),
                message: format!("CODEOWNERS content is not base64: {e}"),
            })?;
        return Ok(
            leadline_core::codeowners::parse(&String::from_utf8_lossy(&bytes))
                .into_iter()
                .map(|r| (r.pattern, r.owners))
                .collect(),
        );
    }
    Ok(Vec::new())
}

/// Rework of a pull request: how many of its commits (their times read by `time_of`) were
/// written after `first_review`; unknown without a review.
pub(crate) fn rework(
    first_review: Option<leadline_core::model::Millis>,
    commits: &[Value],
    time_of: impl Fn(&Value) -> Option<&str>,
) -> Option<i64> {
    let reviewed = first_review?;
    Some(
        commits
            .iter()
            .filter_map(|c| crate::webhook::parse_time(time_of(c)?))
            .filter(|at| *at > reviewed)
            .count() as i64,
    )
}

/// A 429, or a 403 that says it is a rate limit (remaining 0, or a retry-after).
fn rate_limited(status: u16, headers: &HeaderMap) -> bool {
    status == 429
        || header(headers, "retry-after").is_some()
        || header(headers, "x-ratelimit-remaining") == Some("0")
}

/// How long a rate limit asks to wait: `retry-after` seconds (secondary limits), else until
/// `x-ratelimit-reset` (an epoch second: GitHub, GitLab), else `ratelimit-reset` seconds (the
/// IETF draft PagerDuty follows); `None` when no header says.
fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| header(headers, name).and_then(|v| v.trim().parse::<i64>().ok());
    if let Some(seconds) = number("retry-after") {
        return Some(Duration::from_secs(seconds.max(0) as u64));
    }
    if let Some(reset) = number("x-ratelimit-reset") {
        let now = jiff::Timestamp::now().as_second();
        return Some(Duration::from_secs((reset - now).max(0) as u64 + 1));
    }
    number("ratelimit-reset").map(|seconds| Duration::from_secs(seconds.max(0) as u64))
}

/// The target of the `rel` link in a `Link` header.
fn link_rel(link: &str, rel: &str) -> Option<String> {
    let wanted = format!("rel=\"{rel}\"");
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params.split(';').any(|p| p.trim() == wanted).then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

fn next_link(link: &str) -> Option<String> {
    link_rel(link, "next")
}

/// Items in a listing whose last page the `Link` header names: pages × `per_page` (an upper
/// bound, good enough for an ETA).
fn estimated_total(link: &str, url: &str) -> Option<u64> {
    let param = |u: &str, name: &str| -> Option<u64> {
        let query = u.split_once('?')?.1;
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))?
            .parse()
            .ok()
    };
    let last = link_rel(link, "last")?;
    let pages = param(&last, "page")?;
    let per_page = param(&last, "per_page")
        .or_else(|| param(url, "per_page"))
        .unwrap_or(30);
    Some(pages * per_page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_from_headers() {
        let link = r#"<https://api.github.com/repositories/1/pulls?state=all&per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/pulls?state=all&per_page=100&page=7>; rel="last""#;
        assert_eq!(
            estimated_total(link, "https://x/pulls?per_page=100"),
            Some(700)
        );
        assert_eq!(
            estimated_total(r#"<https://x/y?page=2>; rel="next""#, "https://x/y"),
            None
        );
    }

    #[test]
    fn next_links() {
        let link = r#"<https://api.github.com/repositories/1/pulls?page=2>; rel="next", <https://api.github.com/repositories/1/pulls?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/pulls?page=2")
        );
        assert_eq!(
            next_link(r#"<https://x/y?page=1>; rel="prev", <https://x/y?page=1>; rel="first""#),
            None
        );
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn rate_limit_waits() {
        let retry = headers(&[("retry-after", "7".into())]);
        assert_eq!(rate_limit_wait(&retry), Some(Duration::from_secs(7)));
        assert!(rate_limited(403, &retry));
        let none = HeaderMap::new();
        assert!(!rate_limited(403, &none));
        assert!(rate_limited(429, &none));
        assert_eq!(rate_limit_wait(&none), None);
        let ietf = headers(&[("ratelimit-reset", "3".into())]);
        assert_eq!(rate_limit_wait(&ietf), Some(Duration::from_secs(3)));
        let primary = headers(&[
            ("x-ratelimit-remaining", "0".into()),
            (
                "x-ratelimit-reset",
                (jiff::Timestamp::now().as_second() + 30).to_string(),
            ),
        ]);
        assert!(rate_limited(403, &primary));
        let wait = rate_limit_wait(&primary).unwrap().as_secs();
        assert!((29..=32).contains(&wait), "{wait}");
    }
}
