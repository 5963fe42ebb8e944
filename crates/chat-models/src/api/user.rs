//! Bodies of user-service: accounts, sessions, profiles and lookups.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{double_option, present};

/// How a sign-in hands over its tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenDelivery {
    /// httpOnly cookies only; the body carries no token (browsers).
    #[default]
    Cookie,
    /// Tokens in the JSON body and no cookies (apps, scripts; send `Authorization: Bearer`).
    Body,
}

/// `POST /auth/register`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// 3-32 characters of `A-Z a-z 0-9 _ . -`, unique regardless of case.
    #[schema(pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    pub username: String,
    /// An email address, unique regardless of case (stored lower-cased).
    #[schema(
        pattern = r"^[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$",
        max_length = 254
    )]
    pub email: String,
    /// 8-128 characters.
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// Up to 500 characters; blank means none.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub bio: Option<String>,
    /// Cookies (default) or body.
    #[serde(default)]
    pub token_delivery: TokenDelivery,
}

/// `POST /auth/login`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Email address or username.
    #[schema(min_length = 1)]
    pub login: String,
    /// The password.
    #[schema(min_length = 1)]
    pub password: String,
    /// Cookies (default) or body.
    #[serde(default)]
    pub token_delivery: TokenDelivery,
}

/// `POST /auth/refresh`. Without `refresh_token`, the refresh cookie is used.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token, for clients that do not use cookies.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// Tokens handed to non-browser clients (`token_delivery: body`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// Short-lived EdDSA JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque, single-use refresh token.
    pub refresh_token: String,
    /// Seconds until the refresh token expires if unused.
    pub refresh_expires_in: u64,
}

/// Answer of register, login and refresh.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuthResponse {
    /// The signed-in user.
    pub user: CurrentUser,
    /// The session id (also the `sid` claim).
    pub session_id: Uuid,
    /// When the access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// The tokens, only with `token_delivery: body`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenPair>,
}

/// The caller's own account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CurrentUser {
    /// Stable id.
    pub uuid: Uuid,
    /// Display handle.
    pub username: String,
    /// Email address (private).
    pub email: String,
    /// Free text, if any.
    pub bio: Option<String>,
    /// Avatar URL, if any.
    pub profile_picture: Option<String>,
    /// Sign-up time.
    pub created_at: DateTime<Utc>,
    /// Last profile change.
    pub updated_at: DateTime<Utc>,
}

/// What anyone signed in may see of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicUser {
    /// Stable id.
    pub uuid: Uuid,
    /// Display handle.
    pub username: String,
    /// Free text, if any.
    pub bio: Option<String>,
    /// Avatar URL, if any.
    pub profile_picture: Option<String>,
    /// Sign-up time.
    pub created_at: DateTime<Utc>,
}

/// `PATCH /users/me`: omitted fields stay, `null` clears an optional field; at least one
/// field, and no others.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// New username.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    pub username: Option<String>,
    /// New email.
    #[serde(default, deserialize_with = "present")]
    #[schema(
        nullable = false,
        pattern = r"^[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$",
        max_length = 254
    )]
    pub email: Option<String>,
    /// New bio, up to 500 characters; `null` or blank clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub bio: Option<Option<String>>,
    /// New avatar URL (`http(s)://`, printable ASCII); `null` or blank clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^([ \t\n\r]*|https?://[!-~]+)$", max_length = 2048)]
    pub profile_picture: Option<Option<String>>,
}

/// `PUT /users/me/password`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    /// The password in use now; left out by an account that has none yet (made through a
    /// provider), which then needs a session signed in within the last 10 minutes.
    #[serde(default)]
    pub current_password: Option<String>,
    /// The new password, 8-128 characters.
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// `DELETE /users/me`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DeleteAccountRequest {
    /// The account's password, to confirm; left out by an account without one, which then
    /// needs a session signed in within the last 10 minutes.
    #[serde(default)]
    pub password: Option<String>,
}

/// One signed-in device.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    /// Session id (`sid` claim).
    pub session_id: Uuid,
    /// When the session signed in.
    pub created_at: DateTime<Utc>,
    /// Last refresh (or sign-in).
    pub last_used_at: DateTime<Utc>,
    /// When it ends unless refreshed.
    pub expires_at: DateTime<Utc>,
    /// The client's `User-Agent` at sign-in, cut to 256 characters.
    pub user_agent: Option<String>,
    /// How the session signed in.
    pub sign_in_method: SignInMethod,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// How a session signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// Username or email and password (also every session from before providers existed).
    #[default]
    Password,
    /// Google (OpenID Connect).
    Google,
    /// GitHub (OAuth 2).
    Github,
}

/// `GET /auth/sessions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    /// Active sessions, newest first.
    pub sessions: Vec<SessionInfo>,
}

/// Availability check answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Availability {
    /// Whether the value can be used for a new account.
    pub available: bool,
}

/// `GET /auth/check-email`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailQuery {
    /// Address to check.
    #[param(
        pattern = r"^[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$",
        max_length = 254
    )]
    pub email: String,
}

/// `GET /auth/check-username`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsernameQuery {
    /// Username to check.
    #[param(pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    pub username: String,
}

/// `GET /users/search`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserSearchQuery {
    /// Username prefix, 1-32 characters, case-insensitive.
    #[param(min_length = 1, max_length = 32)]
    pub q: String,
    /// Page size, 1-50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
    /// Cursor: `next_cursor` of the previous page.
    pub after: Option<String>,
}

/// A page of users.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserPage {
    /// Users ordered by username.
    pub users: Vec<PublicUser>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `POST /internal/users/batch`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct BatchUsersRequest {
    /// Users to fetch by uuid (with `usernames`, at most 500 in all).
    #[serde(default)]
    #[schema(max_items = 500)]
    pub uuids: Vec<Uuid>,
    /// Users to fetch by username (case-insensitive).
    #[serde(default)]
    #[schema(max_items = 500)]
    pub usernames: Vec<String>,
}

/// Answer of the batch lookup: the users found, each once; unknown ones are left out.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchUsersResponse {
    /// Found users.
    pub users: Vec<PublicUser>,
}
