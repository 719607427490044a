//! Request bodies, read only after everything the headers can settle is settled: the caller
//! authenticates first (token, scope, signature header present), then [`read`] refuses a
//! declared length over the limit without reading a byte, and bounds how many large bodies
//! are held in memory at once, so unauthenticated floods of large posts cannot take the
//! server's memory.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use tokio::sync::Semaphore;

use super::error::AppError;

/// Bodies up to this size are read without waiting: ordinary deliveries are never queued
/// behind a flood of large ones.
const SMALL: usize = 64 << 10;

/// How long a large body waits for room before the sender is asked to retry.
const WAIT: Duration = Duration::from_secs(10);

/// The memory that large bodies may hold at once, in KiB permits.
pub struct Budget {
    limit: usize,
    kib: Semaphore,
}

impl Budget {
    /// Room for two bodies of `limit` bytes (at least 8 MiB) at once.
    pub fn new(limit: usize) -> Budget {
        let total = (limit.saturating_mul(2)).max(8 << 20) >> 10;
        Budget {
            limit,
            kib: Semaphore::new(total.min(Semaphore::MAX_PERMITS)),
        }
    }
}

/// The body, refused with 413 beyond the limit (before reading when the length is declared),
/// or 503 with `Retry-After` when large bodies already fill the budget.
pub async fn read(budget: &Budget, headers: &HeaderMap, body: Body) -> Result<Bytes, AppError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is larger than the {} MiB limit (server.body_limit_mb)",
                budget.limit >> 20
            ),
        )
    };
    if declared.is_some_and(|n| n > budget.limit as u64) {
        return Err(too_large());
    }
    // An undeclared length may be anything up to the limit.
    let size = declared.map_or(budget.limit, |n| n as usize);
    let _permit = if size > SMALL {
        let kib = u32::try_from(size.div_ceil(1024)).unwrap_or(u32::MAX);
        let permit = tokio::time::timeout(WAIT, budget.kib.acquire_many(kib))
            .await
            .ok()
            .and_then(Result::ok);
        match permit {
            Some(p) => Some(p),
            None => {
                return Err(AppError::unavailable(
                    "too many large request bodies at once; retry shortly",
                    5,
                ));
            }
        }
    } else {
        None
    };
    axum::body::to_bytes(body, budget.limit).await.map_err(|e| {
        let over = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        match over {
            true => too_large(),
            false => AppError::bad_request(format!("cannot read the request body: {e}")),
        }
    })
}
