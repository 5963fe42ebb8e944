//! Sign-up, sign-in, refresh and sign-out.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use chat_models::api::user::{
    AuthResponse, LoginRequest, RefreshRequest, RegisterRequest, SignInMethod, TokenDelivery,
    TokenPair,
};
use chat_models::auth::{AuthUser, ACCESS_COOKIE, REFRESH_COOKIE};
use chat_models::http::AppJson;
use chat_models::{ApiError, ErrorCode, FieldError, Result};
use secrecy::SecretString;
use uuid::Uuid;

use super::{user_agent, ClientIp};
use crate::db::users::{self, NewUser};
use crate::domain::{Bio, Email, Fields, Password, Username};
use crate::sessions::{self, Issued};
use crate::state::AppState;

/// Path the refresh cookie is scoped to: browsers send it nowhere else.
pub const REFRESH_PATH: &str = "/auth/refresh";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route(REFRESH_PATH, post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/logout-all", post(logout_all))
}

/// # `POST /auth/register`
/// Creates an account and signs it in.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterRequest, responses(
    (status = 429, body = chat_models::error::ErrorBody, description = "`rate_limited`", headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
    (status = 201, body = AuthResponse, description = "Signed in; cookies set unless `token_delivery` is `body`"),
    (status = 409, body = chat_models::error::ErrorBody, description = "`username_taken` or `email_taken`"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`")))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AppJson(request): AppJson<RegisterRequest>,
) -> Result<Response> {
    state
        .limiter
        .hit(
            "register_ip",
            &ip.to_string(),
            state.settings.limits.register_ip,
        )
        .await?;
    let mut fields = Fields::default();
    let username = fields.check(Username::parse(&request.username));
    let email = fields.check(Email::parse(&request.email));
    let password = fields.check(Password::parse(request.password, "password"));
    let bio = fields.check(Bio::parse(request.bio.as_deref()));
    fields.finish()?;
    let (Some(username), Some(email), Some(password), Some(bio)) = (username, email, password, bio)
    else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "validated fields missing"
        )));
    };

    let password_hash = state.passwords.hash(password.into_secret()).await?;
    let uuid = Uuid::new_v4();
    let bio = bio.into_inner();
    let new_user = NewUser {
        uuid,
        username: username.as_str(),
        email: email.as_str(),
        bio: bio.as_deref(),
        password_hash: Some(&password_hash),
    };
    users::insert_user(&state.db, &new_user).await?;
    tracing::info!(user_id = %uuid, "account created");

    let issued = first_session(&state, uuid, user_agent(&headers), SignInMethod::Password).await?;
    signed_in(&state, issued, request.token_delivery, StatusCode::CREATED).await
}

/// # `POST /auth/login`
/// Signs in with an email or a username and the password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 429, body = chat_models::error::ErrorBody, description = "`rate_limited`", headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
    (status = 200, body = AuthResponse),
    (status = 401, body = chat_models::error::ErrorBody, description = "`invalid_credentials`"),
    (status = 503, body = chat_models::error::ErrorBody, description = "`server_busy`, with `Retry-After`")))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AppJson(request): AppJson<LoginRequest>,
) -> Result<Response> {
    let limits = &state.settings.limits;
    state
        .limiter
        .hit("login_ip", &ip.to_string(), limits.login_ip)
        .await?;
    let mut missing = Vec::new();
    if request.login.is_empty() {
        missing.push(FieldError::new(
            "login",
            "required",
            "Enter your email or username.",
        ));
    }
    if request.password.is_empty() {
        missing.push(FieldError::new(
            "password",
            "required",
            "Enter your password.",
        ));
    }
    if !missing.is_empty() {
        return Err(ApiError::Validation(missing));
    }
    let login = request.login.trim().to_lowercase();
    let user = if login.contains('@') {
        users::fetch_user_by_email(&state.db, &login).await?
    } else {
        users::fetch_user_by_username(&state.db, &login).await?
    };
    // Attempts count per login as typed (case aside), existing or not, and before the hash, so
    // parallel guesses cannot all slip under the limit; a success resets the count. Not per
    // account: a lock-out reached through the username would show on the email too, telling
    // anyone which username and email belong together.
    let account_key = login.clone();
    state
        .limiter
        .hit("login_account", &account_key, limits.login_account)
        .await?;
    let stored_hash = user.as_ref().and_then(|user| user.password_hash.clone());
    let matched = state
        .passwords
        .verify(SecretString::from(request.password), stored_hash)
        .await?;
    let Some(user) = user.filter(|_| matched) else {
        return Err(ApiError::Unauthorized(ErrorCode::InvalidCredentials));
    };
    state.limiter.reset("login_account", &account_key).await?;

    let issued = sessions::start(
        &state,
        user.id()?,
        user_agent(&headers),
        SignInMethod::Password,
    )
    .await?;
    signed_in(&state, issued, request.token_delivery, StatusCode::OK).await
}

/// # `POST /auth/refresh`
/// Exchanges the refresh token (body field, else cookie) for a new pair. The old token stops
/// working; presenting it again revokes the whole session.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 429, body = chat_models::error::ErrorBody, description = "`rate_limited`", headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
    (status = 200, body = AuthResponse),
    (status = 401, body = chat_models::error::ErrorBody, description = "`invalid_refresh_token`")))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::BadRequest(ErrorCode::MalformedJson, rejection.body_text()),
    })?;
    let limits = &state.settings.limits;
    state
        .limiter
        .hit("refresh_ip", &ip.to_string(), limits.refresh_ip)
        .await?;
    // The body is optional: browsers send none and rely on the cookie.
    let request: RefreshRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RefreshRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            ApiError::BadRequest(
                ErrorCode::MalformedJson,
                format!("Invalid JSON body: {error}"),
            )
        })?
    };
    let from_body = request.refresh_token.filter(|token| !token.is_empty());
    let (presented, delivery) = match from_body {
        Some(token) => (token, TokenDelivery::Body),
        None => {
            let cookie = jar
                .get(REFRESH_COOKIE)
                .map(|cookie| cookie.value().to_owned());
            (
                cookie.ok_or(ApiError::Unauthorized(ErrorCode::InvalidRefreshToken))?,
                TokenDelivery::Cookie,
            )
        }
    };
    let old = state
        .tokens
        .find_by_hash(&crate::tokens::hash_refresh_token(&presented))
        .await?
        .ok_or(ApiError::Unauthorized(ErrorCode::InvalidRefreshToken))?;
    // Limited before rotating, so a limited refresh never spends the token.
    state
        .limiter
        .hit("refresh_account", &old.user_uuid, limits.refresh_account)
        .await?;
    let issued = sessions::refresh(&state, &old).await?;
    signed_in(&state, issued, delivery, StatusCode::OK).await
}

/// # `POST /auth/logout`
/// Signs this session out: its refresh token and access tokens stop working at once.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Signed out; cookies cleared")))]
pub async fn logout(State(state): State<AppState>, auth: AuthUser) -> Result<Response> {
    state
        .tokens
        .revoke_session(&auth.user_id.to_string(), &auth.session_id.to_string())
        .await?;
    sessions::announce_revoked(&state, auth.user_id, vec![auth.session_id]).await?;
    Ok((clear_cookies(&state), StatusCode::NO_CONTENT).into_response())
}

/// # `POST /auth/logout-all`
/// Signs every session of the account out, this one included.
#[utoipa::path(post, path = "/auth/logout-all", tag = "auth", security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Every session signed out; cookies cleared")))]
pub async fn logout_all(State(state): State<AppState>, auth: AuthUser) -> Result<Response> {
    sessions::revoke_all(&state, auth.user_id, None, Some(auth.session_id)).await?;
    Ok((clear_cookies(&state), StatusCode::NO_CONTENT).into_response())
}

/// Signs a just-created account in; if that fails, the account is removed again: without a
/// session the client will retry, so it should find its username free to retry with.
pub async fn first_session(
    state: &AppState,
    uuid: Uuid,
    user_agent: Option<String>,
    method: SignInMethod,
) -> Result<Issued> {
    match sessions::start(state, uuid, user_agent, method).await {
        Ok(issued) => Ok(issued),
        Err(error) => {
            if let Err(cleanup) = users::delete_user(&state.db, uuid).await {
                tracing::error!(error = ?cleanup, user_id = %uuid, "could not undo a half-made account");
            }
            Err(error)
        }
    }
}

/// The answer to a successful sign-in or refresh: the user, and the tokens either as cookies or
/// in the body.
pub async fn signed_in(
    state: &AppState,
    issued: Issued,
    delivery: TokenDelivery,
    status: StatusCode,
) -> Result<Response> {
    let user = users::fetch_user(&state.db, issued.user_id)
        .await?
        .ok_or(ApiError::Unauthorized(ErrorCode::InvalidCredentials))?
        .into_current()?;
    let access_ttl = state.signer.ttl().as_secs();
    let refresh_ttl = state.settings.refresh_ttl.as_secs();
    let mut body = AuthResponse {
        user,
        session_id: issued.session_id,
        access_expires_at: issued.access_expires_at,
        tokens: None,
    };
    let mut jar = CookieJar::new();
    match delivery {
        TokenDelivery::Cookie => {
            jar = session_cookies(state, issued.access_token, issued.refresh_token)
        }
        TokenDelivery::Body => {
            body.tokens = Some(TokenPair {
                access_token: issued.access_token,
                token_type: "Bearer".to_owned(),
                expires_in: access_ttl,
                refresh_token: issued.refresh_token,
                refresh_expires_in: refresh_ttl,
            });
        }
    }
    Ok((status, jar, AppJson(body)).into_response())
}

/// The access and refresh cookies of a browser session.
pub fn session_cookies(state: &AppState, access_token: String, refresh_token: String) -> CookieJar {
    CookieJar::new()
        .add(cookie(
            state,
            ACCESS_COOKIE,
            access_token,
            "/",
            state.signer.ttl().as_secs(),
        ))
        .add(cookie(
            state,
            REFRESH_COOKIE,
            refresh_token,
            REFRESH_PATH,
            state.settings.refresh_ttl.as_secs(),
        ))
}

/// An httpOnly, `SameSite=Lax` cookie of this service.
pub fn cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    path: &'static str,
    max_age_secs: u64,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.cookie_secure)
        .path(path)
        .max_age(time::Duration::seconds(
            i64::try_from(max_age_secs).unwrap_or(i64::MAX),
        ))
        .build()
}

/// Expires both auth cookies in the browser.
pub fn clear_cookies(state: &AppState) -> CookieJar {
    CookieJar::new()
        .add(cookie(state, ACCESS_COOKIE, String::new(), "/", 0))
        .add(cookie(
            state,
            REFRESH_COOKIE,
            String::new(),
            REFRESH_PATH,
            0,
        ))
}
