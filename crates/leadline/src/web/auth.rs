//! Bearer tokens: random, shown once, stored as SHA-256 hashes and compared in constant time.
//!
//! Reads are open without a token only while the server listens on loopback and no token
//! exists; writes always need one. `serve` refuses a non-loopback address while no token
//! exists, so an exposed server is never open.

use axum::http::HeaderMap;
use leadline_core::events::{ApiToken, Scope};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::AppError;

/// Tokens are recognisable in logs and secret scanners by this prefix.
const PREFIX: &str = "llt_";

/// A new random token (256 bits) and the hash to store.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", hex::encode(bytes));
    let hash = hash(&token);
    (token, hash)
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The token whose hash equals `token`'s, comparing every stored hash in constant time.
fn find<'a>(tokens: &'a [ApiToken], token: &str) -> Option<&'a ApiToken> {
    let given = hash(token);
    let mut found = None;
    for t in tokens {
        if bool::from(t.hash.as_bytes().ct_eq(given.as_bytes())) {
            found = Some(t);
        }
    }
    found
}

/// Allows the request when its bearer token has at least `needed`, or when reads are open;
/// returns the scope granted (open reads are `read`).
/// The scope the request's token was granted, for handlers whose answer depends on it.
#[derive(Debug, Clone, Copy)]
pub struct Granted(pub Scope);

/// The guard of every route that is neither public (the dashboard, health probes, the OpenAPI
/// document) nor a webhook (which authenticate their senders themselves): reads need a read
/// token, anything else a write token. It is a layer on the whole authorised router, so a route
/// added there cannot forget it; the request's body is not read before it passes.
pub async fn authorize(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<AppState>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, AppError> {
    let needed = match *request.method() {
        axum::http::Method::GET | axum::http::Method::HEAD => Scope::Read,
        _ => Scope::Write,
    };
    let granted = require(&state, request.headers(), needed).await?;
    request.extensions_mut().insert(Granted(granted));
    Ok(next.run(request).await)
}

pub async fn require(
    state: &AppState,
    headers: &HeaderMap,
    needed: Scope,
) -> Result<Scope, AppError> {
    let tokens = state.store.tokens().await?;
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        if needed == Scope::Read && state.loopback && tokens.is_empty() {
            return Ok(Scope::Read);
        }
        return Err(AppError::unauthorized(
            "this needs `Authorization: Bearer <token>`; create one with `leadline token create`",
        ));
    };
    // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` is as good as `Bearer`.
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.trim_start().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| AppError::unauthorized("expected `Authorization: Bearer <token>`"))?;
    let found = find(&tokens, token).ok_or_else(|| AppError::unauthorized("unknown token"))?;
    if found.scope < needed {
        return Err(AppError::new(
            axum::http::StatusCode::FORBIDDEN,
            format!(
                "token {:?} has scope {}; this needs {}",
                found.name,
                found.scope.as_str(),
                needed.as_str()
            ),
        ));
    }
    Ok(found.scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_found_by_hash_only() {
        let (a, a_hash) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64);
        assert_eq!(a_hash, hash(&a));
        assert!(!a_hash.contains(&a[PREFIX.len()..]));
        let stored = [ApiToken {
            name: "ci".into(),
            scope: Scope::Write,
            hash: a_hash,
            created_at: 0,
        }];
        assert_eq!(find(&stored, &a).map(|t| t.name.as_str()), Some("ci"));
        assert!(find(&stored, &b).is_none());
        assert!(find(&stored, "").is_none());
    }
}
