//! Sending notifications: a generic JSON webhook (the payload as is, signed with an HMAC-SHA256
//! of the body when the target has a secret) or a Slack-compatible incoming webhook (`{"text"}`).
//! Delivery is at least once: receivers deduplicate on the `Idempotency-Key` header (the
//! notification's id).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Webhook,
    Slack,
}

/// A configured target (`[[notify]]`).
#[derive(Clone)]
pub struct Target {
    pub name: String,
    pub kind: Kind,
    pub url: String,
    /// Signs webhook bodies; never logged.
    pub secret: Option<String>,
    /// The first retry waits this long, each next one twice as long (at most 10 minutes).
    pub retry: Duration,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Target {
    /// How long to wait after the `attempts`-th failure.
    pub fn backoff(&self, attempts: u32) -> Duration {
        (self.retry * 2u32.saturating_pow(attempts.saturating_sub(1).min(16)))
            .min(Duration::from_secs(600))
    }
}

/// `sha256=HEX` of `body` under `secret`: the `X-Leadline-Signature` header.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// An HTTP client for deliveries.
pub fn client() -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("leadline/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))
}

/// Sends `payload` (a JSON object with a `text`) to `target`; `Ok` once it answered 2xx.
pub async fn send(
    client: &reqwest::Client,
    target: &Target,
    id: i64,
    payload: &str,
) -> Result<(), String> {
    let body = match target.kind {
        Kind::Webhook => payload.to_owned(),
        Kind::Slack => {
            let value: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
            let text = value
                .get("text")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(payload);
            serde_json::json!({ "text": text }).to_string()
        }
    };
    let mut request = client
        .post(&target.url)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", id.to_string());
    if let (Kind::Webhook, Some(secret)) = (target.kind, &target.secret) {
        request = request.header("X-Leadline-Signature", signature(secret, body.as_bytes()));
    }
    match request.body(body).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("{} answered {}", target.name, r.status())),
        Err(e) => Err(format!("{}: {e}", target.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_backoff() {
        // `printf %s '{"a":1}' | openssl dgst -sha256 -hmac s3cret`
        assert_eq!(
            signature("s3cret", br#"{"a":1}"#),
            "sha256=5910e62016ef5034272c926c27071992a465c2335cecf41851bda071577f4f6d"
        );
        let t = Target {
            name: "ops".into(),
            kind: Kind::Webhook,
            url: "http://127.0.0.1:1/".into(),
            secret: None,
            retry: Duration::from_secs(5),
        };
        assert_eq!(t.backoff(1), Duration::from_secs(5));
        assert_eq!(t.backoff(3), Duration::from_secs(20));
        assert_eq!(t.backoff(30), Duration::from_secs(600));
    }
}
