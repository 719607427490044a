//! One error type for every handler: a status and a JSON body `{"error": …}`, with the items
//! and fields at fault when a request body was refused.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One problem with one item of a request body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// The item's index in the request (0 for a single object).
    pub item: usize,
    /// The field at fault; empty for the item as a whole.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Seconds a client should wait before retrying (`Retry-After`), for answers that may pass.
    pub retry_after: Option<u32>,
}

/// How long a sender is asked to wait when the store cannot write.
const STORE_RETRY_AFTER_SECS: u32 = 30;

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> AppError {
        AppError {
            status,
            body: ErrorBody {
                error: message.into(),
                problems: Vec::new(),
            },
            retry_after: None,
        }
    }

    /// 503 with `Retry-After`: nothing was done and the same request may succeed later.
    pub fn unavailable(message: impl Into<String>, retry_after: u32) -> AppError {
        AppError {
            retry_after: Some(retry_after),
            ..AppError::new(StatusCode::SERVICE_UNAVAILABLE, message)
        }
    }

    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn with_problems(mut self, problems: Vec<Problem>) -> AppError {
        self.body.problems = problems;
        self
    }
}

/// Failures of the store or the metric code: logged in full, answered without detail. A store
/// that cannot write for now is a 503 with `Retry-After` (webhook senders redeliver those), any
/// other failure a 500; neither ever claims that something was stored.
impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> AppError {
        if crate::failure::is_usage(&e) {
            return AppError::bad_request(e.to_string());
        }
        // A file on the server that does not validate: no request can fix it, so a 500 that
        // says so; its path, line and field go to the log only (the server's files are not the
        // caller's to read).
        if crate::failure::is_invalid_file(&e) {
            tracing::error!("a file does not validate: {e:#}");
            return AppError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "a file on the server does not validate; the server log names its line and field",
            );
        }
        let stored = crate::failure::store_error(&e);
        // A conflict with what is stored (a resolution dated before its incident opened) is
        // the sender's to fix; the message is leadline's own and names nothing secret.
        if let Some(leadline_core::store::StoreError::Conflict(message)) = stored {
            return AppError::new(StatusCode::CONFLICT, message.clone());
        }
        let unavailable = matches!(
            stored,
            Some(leadline_core::store::StoreError::Unavailable { .. })
        );
        if unavailable {
            tracing::error!("store unavailable: {e:#}");
            return AppError::unavailable(
                "the store cannot take this now; nothing was stored, retry later",
                STORE_RETRY_AFTER_SECS,
            );
        }
        tracing::error!("request failed: {e:#}");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the server log",
        )
    }
}

impl From<leadline_metrics::UsageError> for AppError {
    fn from(e: leadline_metrics::UsageError) -> AppError {
        AppError::bad_request(e.0)
    }
}

impl From<leadline_metrics::Error> for AppError {
    fn from(e: leadline_metrics::Error) -> AppError {
        AppError::from(anyhow::Error::new(e))
    }
}

impl From<leadline_core::store::StoreError> for AppError {
    fn from(e: leadline_core::store::StoreError) -> AppError {
        AppError::from(anyhow::Error::new(e))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// Errors answered before a handler ran (unknown path, wrong method, an unreadable query
/// string, a timeout) come from axum as plain text; they are rewritten into the documented
/// `{"error": …}` so every error a client sees has one shape.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = match text.is_empty() {
        true => status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase(),
        false => text,
    };
    let mut error = AppError::new(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            error.headers_mut().insert(name.clone(), value.clone());
        }
    }
    error
}
