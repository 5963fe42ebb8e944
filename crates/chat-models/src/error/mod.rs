//! The one error type of every route: [`ApiError`], rendered as
//! `{"error": {"code": "...", "message": "...", "details": [...]}}` with a stable [`ErrorCode`].
//!
//! Building an error never logs. Whoever turns it into an answer (the HTTP response, a
//! WebSocket error frame) calls [`ApiError::report`] once, which logs server-side failures with
//! their cause chain.

mod code;

use std::borrow::Cow;

use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use code::ErrorCode;

/// `Result` with [`ApiError`] as the default error.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// One field's validation failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The field, as named in the request (`username`, `email`, ...).
    #[schema(value_type = String)]
    pub field: Cow<'static, str>,
    /// A stable code for the failure (`too_short`, `invalid_characters`, ...).
    #[schema(value_type = String)]
    pub code: Cow<'static, str>,
    /// A human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// A failure of `field` with a stable `code` and a message for humans.
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: Cow::Borrowed(field),
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }
}

/// Every error a route can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed in a way described by the code.
    #[error("{1}")]
    BadRequest(ErrorCode, String),
    /// 422: fields failed validation.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 401: missing, invalid or expired credentials.
    #[error("unauthorized: {0:?}")]
    Unauthorized(ErrorCode),
    /// 403: authenticated but not allowed.
    #[error("forbidden: {0:?}")]
    Forbidden(ErrorCode),
    /// 404: the named thing does not exist.
    #[error("not found: {0:?}")]
    NotFound(ErrorCode),
    /// 405: the route exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the request conflicts with existing data.
    #[error("conflict: {0:?}")]
    Conflict(ErrorCode),
    /// 413: the body is too large.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 413 with a code of its own and a message saying the limit.
    #[error("{1}")]
    TooLarge(ErrorCode, String),
    /// 415: wrong content type.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 415 with a code of its own (a file of a type this upload does not take).
    #[error("unsupported: {0:?}")]
    Unsupported(ErrorCode),
    /// 429: rate limited; retry after the given seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// 429 with a code of its own: a cap on what one user may hold at once.
    #[error("over a limit: {0:?}")]
    OverLimit(ErrorCode),
    /// 503: saturated; retry after the given seconds.
    #[error("unavailable: {code:?}")]
    Unavailable {
        /// [`ErrorCode::ServerBusy`] or [`ErrorCode::ServiceUnavailable`].
        code: ErrorCode,
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// 503 `service_unavailable`: a dependency (MySQL, MongoDB, Redis, another service)
    /// failed in a way a retry may fix. Reported with its cause; retry after a second.
    #[error("dependency unavailable")]
    DependencyFailed(#[source] anyhow::Error),
    /// 408: the request timed out.
    #[error("request timed out")]
    Timeout,
    /// 500: an unexpected failure. Reported with its cause chain; the body stays generic.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A single-field validation failure.
    pub fn field(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    /// A dependency (MySQL, Mongo, Redis, a service) failed in a way a retry may fix.
    pub fn unavailable(error: impl Into<anyhow::Error>) -> Self {
        Self::DependencyFailed(error.into())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(..) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge | Self::TooLarge(..) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType | Self::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } | Self::OverLimit(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } | Self::DependencyFailed(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(code, _)
            | Self::TooLarge(code, _)
            | Self::Unsupported(code)
            | Self::Unauthorized(code)
            | Self::Forbidden(code)
            | Self::NotFound(code)
            | Self::Conflict(code)
            | Self::OverLimit(code)
            | Self::Unavailable { code, .. } => *code,
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::DependencyFailed(_) => ErrorCode::ServiceUnavailable,
            Self::Timeout => ErrorCode::Timeout,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Seconds a client should wait before retrying (`Retry-After`), for 429 and 503.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs }
            | Self::Unavailable {
                retry_after_secs, ..
            } => Some((*retry_after_secs).max(1)),
            Self::DependencyFailed(_) => Some(1),
            _ => None,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::BadRequest(_, message) | Self::TooLarge(_, message) => message.clone(),
            Self::RateLimited { retry_after_secs } => {
                format!("Too many attempts. Try again in {retry_after_secs} s.")
            }
            other => other.code().message().to_owned(),
        }
    }

    /// The JSON body (`{"error": {...}}`), also used for WebSocket error frames.
    pub fn body(&self) -> ErrorBody {
        let details = match self {
            Self::Validation(fields) => fields.clone(),
            _ => Vec::new(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.message(),
                details,
            },
        }
    }

    /// Logs a failure on our side (500, or a dependency down) with its cause chain; says
    /// nothing of the client's mistakes. Called once, where the error is answered.
    pub fn report(&self) {
        match self {
            Self::Internal(error) => tracing::error!(error = ?error, "request failed"),
            Self::DependencyFailed(error) => {
                tracing::error!(error = ?error, "dependency unavailable");
            }
            _ => {}
        }
    }
}

/// The error body on the wire.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code to switch on.
    pub code: ErrorCode,
    /// Human-readable text; may change between versions.
    pub message: String,
    /// Per-field failures for `validation_failed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
}

#[cfg(feature = "server")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        self.report();
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(feature = "mysql")]
impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::unavailable(error)
            }
            other => Self::Internal(anyhow::Error::new(other).context("database query failed")),
        }
    }
}

#[cfg(feature = "mongo")]
impl From<mongodb::error::Error> for ApiError {
    fn from(error: mongodb::error::Error) -> Self {
        use mongodb::error::ErrorKind;
        match *error.kind {
            ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. } => Self::unavailable(error),
            _ => Self::Internal(anyhow::Error::new(error).context("mongo operation failed")),
        }
    }
}

#[cfg(feature = "redis")]
impl From<redis::RedisError> for ApiError {
    fn from(error: redis::RedisError) -> Self {
        Self::unavailable(error)
    }
}

/// Helpers to map database unique violations to a 409 at the call site.
pub trait ResultExt<T> {
    /// Turns a unique-key violation into `f()`'s error; other errors pass through.
    fn on_unique_violation(self, f: impl FnOnce(&str) -> ApiError) -> Result<T>;
}

#[cfg(feature = "mysql")]
impl<T> ResultExt<T> for std::result::Result<T, sqlx::Error> {
    fn on_unique_violation(self, f: impl FnOnce(&str) -> ApiError) -> Result<T> {
        self.map_err(|error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => f(db.message()),
            _ => ApiError::from(error),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_render_their_fields() {
        let error = ApiError::field("username", "too_short", "at least 3");
        let body = serde_json::to_value(error.body()).unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["details"][0]["field"], "username");
        assert_eq!(body["error"]["details"][0]["code"], "too_short");
    }

    #[test]
    fn internal_errors_never_leak_their_cause() {
        let error = ApiError::Internal(anyhow::anyhow!("password=hunter2 in SQL"));
        let body = serde_json::to_string(&error.body()).unwrap();
        assert!(!body.contains("hunter2"));
        assert!(body.contains("\"internal\""));
        let down = ApiError::unavailable(anyhow::anyhow!("redis at 10.0.0.7 refused"));
        let body = serde_json::to_string(&down.body()).unwrap();
        assert!(!body.contains("10.0.0.7"), "{body}");
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.retry_after_secs(), Some(1));
    }

    #[test]
    fn bodies_read_back_as_they_were_written() {
        let error = ApiError::field("limit", "out_of_range", "Use a limit from 1 to 50.");
        let json = serde_json::to_string(&error.body()).unwrap();
        let back: ErrorBody = serde_json::from_str(&json).unwrap();
        assert_eq!(back.error, error.body().error);
    }

    #[cfg(feature = "server")]
    #[test]
    fn rate_limited_sets_retry_after() {
        use axum::response::IntoResponse as _;
        let response = ApiError::RateLimited {
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[http::header::RETRY_AFTER], "7");
    }
}
