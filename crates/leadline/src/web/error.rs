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
}

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> AppError {
        AppError {
            status,
            body: ErrorBody {
                error: message.into(),
                problems: Vec::new(),
            },
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

/// Failures of the store or the metric code: logged in full, answered without detail.
impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> AppError {
        if let Some(invalid) = e.downcast_ref::<crate::dora::InvalidArgs>() {
            return AppError::bad_request(invalid.to_string());
        }
        tracing::error!("request failed: {e:#}");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the server log",
        )
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
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
