//! The one error type of every route: [`ApiError`], rendered as
//! `{"error": {"code": "...", "message": "...", "details": [...]}}` with a stable [`ErrorCode`].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// `Result` with [`ApiError`] as the default error.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Stable, machine-readable error codes. Clients switch on these, never on the message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// One or more fields failed validation; see `details`.
    ValidationFailed,
    /// The body is not valid JSON or does not match the expected shape.
    MalformedJson,
    /// The request needs `Content-Type: application/json`.
    UnsupportedMediaType,
    /// The body is larger than the service accepts.
    PayloadTooLarge,
    /// A path parameter is malformed (e.g. not a UUID).
    InvalidPath,
    /// The query string is malformed.
    InvalidQuery,
    /// No route matches the path.
    RouteNotFound,
    /// The route exists but not for this method.
    MethodNotAllowed,
    /// No access token was sent.
    MissingToken,
    /// The access token is malformed, badly signed, for another audience or uses another algorithm.
    InvalidToken,
    /// The access token has expired; refresh it.
    TokenExpired,
    /// The session behind the token was revoked (logout, logout-all, reuse detection).
    SessionRevoked,
    /// Wrong login or password.
    InvalidCredentials,
    /// The refresh token is unknown, expired or revoked.
    InvalidRefreshToken,
    /// The caller may not do this.
    Forbidden,
    /// The internal route needs a valid service token.
    InvalidServiceToken,
    /// The user does not exist.
    UserNotFound,
    /// The session does not exist (or is not yours).
    SessionNotFound,
    /// The username is already in use (case-insensitively).
    UsernameTaken,
    /// The email is already in use.
    EmailTaken,
    /// A friend request to this user is already pending.
    RequestAlreadySent,
    /// You are already friends.
    AlreadyFriends,
    /// You blocked this user; unblock them first.
    UserBlocked,
    /// The other user does not accept this (deliberately unspecific).
    RequestNotAllowed,
    /// Too many outgoing requests are pending; wait for answers or cancel some.
    TooManyPendingRequests,
    /// No such pending friend request (or not yours to act on).
    RequestNotFound,
    /// You are not friends with this user.
    NotFriends,
    /// A request to yourself.
    CannotTargetSelf,
    /// No such conversation, or the caller is not in it.
    ConversationNotFound,
    /// No such message in this conversation.
    MessageNotFound,
    /// Only the group's admin may do this.
    NotGroupAdmin,
    /// This only applies to group conversations.
    NotAGroup,
    /// The group has reached its member cap.
    GroupFull,
    /// The user is not a member of this group.
    MemberNotFound,
    /// Only the author may change a message.
    NotMessageAuthor,
    /// The message was deleted.
    MessageDeleted,
    /// A browser page from this origin may not open sockets.
    OriginNotAllowed,
    /// A WebSocket frame is not JSON of the expected shape.
    MalformedFrame,
    /// A WebSocket frame of an unknown type.
    UnknownFrame,
    /// Too many requests; retry after `Retry-After` seconds.
    RateLimited,
    /// The service is saturated; retry after `Retry-After` seconds.
    ServerBusy,
    /// A dependency (database, cache) is unavailable.
    ServiceUnavailable,
    /// The request took too long.
    Timeout,
    /// Something failed on our side; the details are in the server log, not here.
    Internal,
}

/// One field's validation failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as named in the request (`username`, `email`, ...).
    pub field: &'static str,
    /// A stable code for the failure (`too_short`, `invalid_characters`, ...).
    pub code: &'static str,
    /// A human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// A failure of `field` with a stable `code` and a message for humans.
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
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
    /// 415: wrong content type.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 429: rate limited; retry after the given seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// 503: saturated or a dependency is down; retry after the given seconds.
    #[error("unavailable: {code:?}")]
    Unavailable {
        /// [`ErrorCode::ServerBusy`] or [`ErrorCode::ServiceUnavailable`].
        code: ErrorCode,
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// 408: the request timed out.
    #[error("request timed out")]
    Timeout,
    /// 500: an unexpected failure. Logged with its cause chain; the body stays generic.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A single-field validation failure.
    pub fn field(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    /// A dependency (MySQL, Mongo, Redis) failed in a way a retry may fix.
    pub fn unavailable(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        tracing::error!(error = ?error, "dependency unavailable");
        Self::Unavailable {
            code: ErrorCode::ServiceUnavailable,
            retry_after_secs: 1,
        }
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
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(code, _)
            | Self::Unauthorized(code)
            | Self::Forbidden(code)
            | Self::NotFound(code)
            | Self::Conflict(code)
            | Self::Unavailable { code, .. } => *code,
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Timeout => ErrorCode::Timeout,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::BadRequest(_, message) => message.clone(),
            Self::Validation(_) => "Some fields are invalid.".to_owned(),
            Self::Unauthorized(code)
            | Self::Forbidden(code)
            | Self::NotFound(code)
            | Self::Conflict(code) => describe(*code).to_owned(),
            Self::MethodNotAllowed => "This method is not allowed on this route.".to_owned(),
            Self::PayloadTooLarge => "The request body is too large.".to_owned(),
            Self::UnsupportedMediaType => "Send the body as application/json.".to_owned(),
            Self::RateLimited { retry_after_secs } => {
                format!("Too many attempts. Try again in {retry_after_secs} s.")
            }
            Self::Unavailable { code, .. } => describe(*code).to_owned(),
            Self::Timeout => "The request took too long.".to_owned(),
            Self::Internal(_) => "Something went wrong on our side.".to_owned(),
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
}

fn describe(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::MissingToken => "Sign in first: no access token was sent.",
        ErrorCode::InvalidToken => "The access token is not valid.",
        ErrorCode::TokenExpired => "The access token has expired; refresh it.",
        ErrorCode::SessionRevoked => "This session has been signed out.",
        ErrorCode::InvalidCredentials => "Wrong login or password.",
        ErrorCode::InvalidRefreshToken => "The refresh token is not valid; sign in again.",
        ErrorCode::Forbidden => "You may not do this.",
        ErrorCode::InvalidServiceToken => "A valid service token is required.",
        ErrorCode::UserNotFound => "No such user.",
        ErrorCode::SessionNotFound => "No such session.",
        ErrorCode::UsernameTaken => "This username is already taken.",
        ErrorCode::EmailTaken => "This email is already registered.",
        ErrorCode::RouteNotFound => "No such route.",
        ErrorCode::RequestAlreadySent => "A friend request to this user is already pending.",
        ErrorCode::AlreadyFriends => "You are already friends.",
        ErrorCode::UserBlocked => "You blocked this user; unblock them first.",
        ErrorCode::RequestNotAllowed => "This request is not possible.",
        ErrorCode::TooManyPendingRequests => "Too many requests are waiting for an answer.",
        ErrorCode::RequestNotFound => "No such friend request.",
        ErrorCode::NotFriends => "You are not friends with this user.",
        ErrorCode::CannotTargetSelf => "You cannot do this to yourself.",
        ErrorCode::ConversationNotFound => "No such conversation.",
        ErrorCode::MessageNotFound => "No such message.",
        ErrorCode::NotGroupAdmin => "Only the group's admin may do this.",
        ErrorCode::NotAGroup => "This only applies to group conversations.",
        ErrorCode::GroupFull => "The group is full.",
        ErrorCode::MemberNotFound => "This user is not a member of the group.",
        ErrorCode::NotMessageAuthor => "Only the author may change this message.",
        ErrorCode::MessageDeleted => "This message was deleted.",
        ErrorCode::OriginNotAllowed => "This origin may not open sockets.",
        ErrorCode::MalformedFrame => "The frame is not valid.",
        ErrorCode::UnknownFrame => "Unknown frame type.",
        ErrorCode::ServerBusy => "The server is busy; try again shortly.",
        ErrorCode::ServiceUnavailable => "A backing service is unavailable; try again shortly.",
        _ => "The request failed.",
    }
}

/// The error body on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code to switch on.
    pub code: ErrorCode,
    /// Human-readable text; may change between versions.
    pub message: String,
    /// Per-field failures for `validation_failed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(error) = &self {
            tracing::error!(error = ?error, "request failed");
        }
        let retry_after = match &self {
            Self::RateLimited { retry_after_secs }
            | Self::Unavailable {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
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
    }

    #[test]
    fn rate_limited_sets_retry_after() {
        let response = ApiError::RateLimited {
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }
}
