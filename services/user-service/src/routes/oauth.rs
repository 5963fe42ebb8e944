//! Sign-in with a provider: the providers list, starting a flow, the callback, the username
//! step of a new account; and the account's linked identities.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use axum_extra::extract::CookieJar;
use chat_models::api::oauth::{
    CompleteSignupRequest, OAuthIntent, PendingSignup, Provider, ProviderInfo, ProviderList,
    SignInMethods, StartOAuthRequest, StartOAuthResponse,
};
use chat_models::auth::AuthUser;
use chat_models::error::ResultExt as _;
use chat_models::http::AppJson;
use chat_models::{ApiError, ErrorCode, Result};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::{cookie, first_session, session_cookies, signed_in};
use super::{user_agent, ClientIp};
use crate::db::identities::{self, Identity, LinkRefusal};
use crate::db::users::{self, NewUser};
use crate::domain::Username;
use crate::oauth::{Failure, Flow, Signup, VouchedIdentity, FLOW_TTL, SIGNUP_TTL};
use crate::sessions;
use crate::state::AppState;

/// The browser-binding cookie of a started flow; only the callback sees it.
pub const FLOW_COOKIE: &str = "oauth_flow";
/// The pending sign-up's cookie; only the username step sees it.
pub const SIGNUP_COOKIE: &str = "oauth_signup";
const FLOW_PATH: &str = "/auth/oauth";
const SIGNUP_PATH: &str = "/auth/oauth/signup";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/providers", get(providers))
        .route("/auth/oauth/{provider}/start", post(start))
        .route("/auth/oauth/{provider}/callback", get(callback))
        .route(SIGNUP_PATH, get(pending_signup).post(complete_signup))
        .route("/users/me/sign-in-methods", get(sign_in_methods))
        .route("/users/me/identities/{provider}", delete(unlink))
}

fn enabled_provider(state: &AppState, id: &str) -> Result<Provider> {
    Provider::parse(id)
        .filter(|provider| state.oauth.is_enabled(*provider))
        .ok_or(ApiError::NotFound(ErrorCode::ProviderNotFound))
}

/// # `GET /auth/providers`
/// The providers people can sign in with here (none configured: an empty list).
#[utoipa::path(get, path = "/auth/providers", tag = "oauth",
    responses((status = 200, body = ProviderList)))]
pub async fn providers(State(state): State<AppState>) -> AppJson<ProviderList> {
    let providers = state
        .oauth
        .enabled()
        .into_iter()
        .map(|id| ProviderInfo {
            id,
            name: id.display_name().to_owned(),
        })
        .collect();
    AppJson(ProviderList { providers })
}

/// # `POST /auth/oauth/{provider}/start`
/// Starts signing in (or, signed in, linking) with a provider: answers the provider's
/// authorization URL for the browser to open, and sets the cookie that binds the flow to this
/// browser. Linking needs a session signed in within the last 10 minutes.
#[utoipa::path(post, path = "/auth/oauth/{provider}/start", tag = "oauth",
    params(("provider" = Provider, Path, description = "`google` or `github`")),
    request_body = StartOAuthRequest, responses(
    (status = 200, body = StartOAuthResponse, description = "Open `authorize_url`; cookie `oauth_flow` set"),
    (status = 401, body = chat_models::error::ErrorBody, description = "`link` without a session"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`reauthentication_required`: sign in again to link"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`provider_not_found`"),
    (status = 429, body = chat_models::error::ErrorBody, description = "`rate_limited`", headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
    (status = 503, body = chat_models::error::ErrorBody, description = "`service_unavailable`: the provider's discovery failed")))]
pub async fn start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(provider): Path<String>,
    auth: std::result::Result<AuthUser, ApiError>,
    AppJson(request): AppJson<StartOAuthRequest>,
) -> Result<Response> {
    let provider = enabled_provider(&state, &provider)?;
    state
        .limiter
        .hit("login_ip", &ip.to_string(), state.settings.limits.login_ip)
        .await?;
    let linking = match request.intent {
        OAuthIntent::SignIn => None,
        OAuthIntent::Link => {
            let auth = auth?;
            sessions::require_fresh(&state, &auth).await?;
            Some((auth.user_id, auth.session_id))
        }
    };
    let (authorize_url, binding) = state.oauth.start(provider, request.intent, linking).await?;
    let jar = CookieJar::new().add(cookie(
        &state,
        FLOW_COOKIE,
        binding,
        FLOW_PATH,
        FLOW_TTL.as_secs(),
    ));
    Ok((jar, AppJson(StartOAuthResponse { authorize_url })).into_response())
}

/// What a provider sends back.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// # `GET /auth/oauth/{provider}/callback`
/// Where the provider sends the browser back. Always a redirect to the web app: `/chat`
/// signed in, `/signup/oauth` to choose a username, `/settings?linked=...` after linking, or
/// `/signin` (`/settings` when linking) with `oauth_error` set to a stable code.
#[utoipa::path(get, path = "/auth/oauth/{provider}/callback", tag = "oauth",
    params(("provider" = Provider, Path, description = "`google` or `github`"),
        ("code" = Option<String>, Query, description = "Authorization code"),
        ("state" = Option<String>, Query, description = "The flow's state"),
        ("error" = Option<String>, Query, description = "The provider's error")),
    responses(
    (status = 303, description = "To the web app; session cookies set on a sign-in"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`provider_not_found`")))]
pub async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(query): Query<CallbackQuery>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Result<Response> {
    let provider = enabled_provider(&state, &provider)?;
    // The binding cookie is spent whatever happens.
    let spent = CookieJar::new().add(cookie(&state, FLOW_COOKIE, String::new(), FLOW_PATH, 0));
    let flow = match take_bound_flow(&state, provider, &query, &jar).await? {
        Ok(flow) => flow,
        Err(failure) => {
            return Ok((
                spent,
                failed(&state, OAuthIntent::SignIn, provider, failure),
            )
                .into_response())
        }
    };
    let outcome = match (query.error.as_deref(), query.code) {
        (Some("access_denied"), _) => Err(Failure::AccessDenied),
        (Some(_), _) | (None, None) => Err(Failure::ProviderError),
        (None, Some(code)) => state.oauth.finish(&flow, code).await,
    };
    let response = match outcome {
        Err(failure) => failed(&state, flow.intent, provider, failure),
        Ok(vouched) => match flow.intent {
            OAuthIntent::SignIn => sign_in(&state, vouched, &headers).await?,
            OAuthIntent::Link => link(&state, &flow, vouched).await?,
        },
    };
    Ok((spent, response).into_response())
}

/// The flow the callback's `state` names, if this browser started it. The state is consumed
/// before the binding is checked, so a foreign state cannot be tried twice either.
async fn take_bound_flow(
    state: &AppState,
    provider: Provider,
    query: &CallbackQuery,
    jar: &CookieJar,
) -> Result<std::result::Result<Flow, Failure>> {
    let Some(flow_state) = query.state.as_deref().filter(|value| !value.is_empty()) else {
        return Ok(Err(Failure::InvalidState));
    };
    let Some(flow) = state.oauth.take_flow(flow_state).await? else {
        return Ok(Err(Failure::InvalidState));
    };
    let bound = jar
        .get(FLOW_COOKIE)
        .is_some_and(|cookie| flow.bound_to(cookie.value()));
    if !bound || flow.provider != provider {
        tracing::info!(
            provider = provider.as_str(),
            "OAuth callback with a state not bound to this browser"
        );
        return Ok(Err(Failure::InvalidState));
    }
    Ok(Ok(flow))
}

/// A known identity signs in; a new one (with a verified email nobody uses) goes on to the
/// username step; an email that belongs to an account is never taken over.
async fn sign_in(
    state: &AppState,
    vouched: VouchedIdentity,
    headers: &HeaderMap,
) -> Result<Response> {
    let identity = vouched.identity;
    let provider = identity.provider;
    if let Some(user_id) = identities::owner(&state.db, provider, &identity.subject).await? {
        let issued = sessions::start(
            state,
            user_id,
            user_agent(headers),
            provider.sign_in_method(),
        )
        .await?;
        tracing::info!(%user_id, provider = provider.as_str(), "signed in with a provider");
        let jar = session_cookies(state, issued.access_token, issued.refresh_token);
        return Ok((jar, to_web(state, "chat", &[])).into_response());
    }
    let Some(email) = identity.email.clone() else {
        return Ok(failed(
            state,
            OAuthIntent::SignIn,
            provider,
            Failure::EmailUnverified,
        ));
    };
    if users::email_exists(&state.db, &email).await? {
        return Ok(failed(
            state,
            OAuthIntent::SignIn,
            provider,
            Failure::EmailInUse,
        ));
    }
    let suggested_username = suggest_username(state, vouched.handle.as_deref(), &email).await?;
    let signup = Signup {
        provider,
        subject: identity.subject,
        email,
        suggested_username,
    };
    let token = state.oauth.save_signup(&signup).await?;
    let jar = CookieJar::new().add(cookie(
        state,
        SIGNUP_COOKIE,
        token,
        SIGNUP_PATH,
        SIGNUP_TTL.as_secs(),
    ));
    Ok((jar, to_web(state, "signup/oauth", &[])).into_response())
}

/// A free username from the provider's handle: as it is, else with a number.
async fn suggest_username(state: &AppState, handle: Option<&str>, email: &str) -> Result<String> {
    let base = crate::oauth::username_from(handle, Some(email));
    if !users::username_exists(&state.db, &base).await? {
        return Ok(base);
    }
    for _ in 0..5 {
        let number = rand::random::<u16>() % 10_000;
        let mut candidate: String = base.chars().take(27).collect();
        candidate.push_str(&format!("{number}"));
        if !users::username_exists(&state.db, &candidate).await? {
            return Ok(candidate);
        }
    }
    Ok(base)
}

async fn link(state: &AppState, flow: &Flow, vouched: VouchedIdentity) -> Result<Response> {
    let provider = vouched.identity.provider;
    let refused = || {
        Ok(failed(
            state,
            OAuthIntent::Link,
            provider,
            Failure::InvalidState,
        ))
    };
    let Some((user_id, session_id)) = flow.linking else {
        return refused();
    };
    // The session that asked must still be signed in (and so its account still exist).
    let live = state.tokens.session_started(user_id, session_id).await?;
    if live.is_none() || users::fetch_user(&state.db, user_id).await?.is_none() {
        return refused();
    }
    let failure = match identities::link(&state.db, user_id, &vouched.identity).await? {
        Ok(()) => {
            tracing::info!(%user_id, provider = provider.as_str(), "provider linked");
            return Ok(to_web(state, "settings", &[("linked", provider.as_str())]).into_response());
        }
        Err(LinkRefusal::IdentityInUse) => Failure::IdentityInUse,
        Err(LinkRefusal::ProviderAlreadyLinked) => Failure::ProviderAlreadyLinked,
    };
    Ok(failed(state, OAuthIntent::Link, provider, failure))
}

fn failed(state: &AppState, intent: OAuthIntent, provider: Provider, failure: Failure) -> Response {
    let page = match intent {
        OAuthIntent::SignIn => "signin",
        OAuthIntent::Link => "settings",
    };
    to_web(
        state,
        page,
        &[
            ("oauth_error", failure.code()),
            ("provider", provider.as_str()),
        ],
    )
    .into_response()
}

fn to_web(state: &AppState, page: &str, query: &[(&str, &str)]) -> Redirect {
    let mut url = state.oauth.web_app_url.clone();
    url.set_path(&format!("/{page}"));
    url.set_query(None);
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Redirect::to(url.as_str())
}

/// # `GET /auth/oauth/signup`
/// The sign-up waiting for a username in this browser (cookie `oauth_signup`).
#[utoipa::path(get, path = "/auth/oauth/signup", tag = "oauth", responses(
    (status = 200, body = PendingSignup),
    (status = 404, body = chat_models::error::ErrorBody, description = "`signup_not_found`")))]
pub async fn pending_signup(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<AppJson<PendingSignup>> {
    let (_, signup) = current_signup(&state, &jar).await?;
    Ok(AppJson(PendingSignup {
        provider: signup.provider,
        email: signup.email,
        suggested_username: signup.suggested_username,
    }))
}

async fn current_signup(state: &AppState, jar: &CookieJar) -> Result<(String, Signup)> {
    let token = jar
        .get(SIGNUP_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|token| !token.is_empty())
        .ok_or(ApiError::NotFound(ErrorCode::SignupNotFound))?;
    let signup = state
        .oauth
        .signup(&token)
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::SignupNotFound))?;
    Ok((token, signup))
}

/// # `POST /auth/oauth/signup`
/// Creates the account of a pending sign-up with the chosen username (no password: it signs in
/// with the provider until it sets one) and signs it in, like `POST /auth/register`.
#[utoipa::path(post, path = "/auth/oauth/signup", tag = "oauth", request_body = CompleteSignupRequest, responses(
    (status = 201, body = chat_models::api::user::AuthResponse, description = "Signed in; cookies set unless `token_delivery` is `body`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`signup_not_found`: expired, or already used"),
    (status = 409, body = chat_models::error::ErrorBody, description = "`username_taken` or `email_taken`"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`"),
    (status = 429, body = chat_models::error::ErrorBody, description = "`rate_limited`", headers(("Retry-After" = u64, description = "Seconds until a retry can succeed")))))]
pub async fn complete_signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    AppJson(request): AppJson<CompleteSignupRequest>,
) -> Result<Response> {
    state
        .limiter
        .hit(
            "register_ip",
            &ip.to_string(),
            state.settings.limits.register_ip,
        )
        .await?;
    let username =
        Username::parse(&request.username).map_err(|error| ApiError::Validation(vec![error]))?;
    let (token, signup) = current_signup(&state, &jar).await?;
    let uuid = Uuid::new_v4();
    let identity = Identity {
        provider: signup.provider,
        subject: signup.subject,
        email: Some(signup.email.clone()),
    };
    // The account and its identity commit together: never an account nobody can sign in to.
    let mut tx = state.db.begin().await?;
    users::insert_user(
        &mut *tx,
        &NewUser {
            uuid,
            username: username.as_str(),
            email: &signup.email,
            bio: None,
            password_hash: None,
        },
    )
    .await?;
    // Two tabs finishing one sign-up: the identity's key lets one through.
    identities::insert(&mut *tx, uuid, &identity)
        .await
        .on_unique_violation(|_| ApiError::NotFound(ErrorCode::SignupNotFound))?;
    tx.commit().await?;
    state.oauth.drop_signup(&token).await?;
    tracing::info!(user_id = %uuid, provider = identity.provider.as_str(), "account created with a provider");

    let method = identity.provider.sign_in_method();
    let issued = first_session(&state, uuid, user_agent(&headers), method).await?;
    let spent = CookieJar::new().add(cookie(&state, SIGNUP_COOKIE, String::new(), SIGNUP_PATH, 0));
    let response = signed_in(&state, issued, request.token_delivery, StatusCode::CREATED).await?;
    Ok((spent, response).into_response())
}

/// # `GET /users/me/sign-in-methods`
/// Whether the account has a password, and the providers linked to it.
#[utoipa::path(get, path = "/users/me/sign-in-methods", tag = "me", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SignInMethods)))]
pub async fn sign_in_methods(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<AppJson<SignInMethods>> {
    let user = users::fetch_user(&state.db, auth.user_id)
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::UserNotFound))?;
    let identities = identities::list(&state.db, auth.user_id).await?;
    Ok(AppJson(SignInMethods {
        has_password: user.password_hash.is_some(),
        identities,
    }))
}

/// # `DELETE /users/me/identities/{provider}`
/// Unlinks a provider, unless it is the account's only way to sign in.
#[utoipa::path(delete, path = "/users/me/identities/{provider}", tag = "me", security(("bearer" = []), ("cookie" = [])),
    params(("provider" = Provider, Path, description = "`google` or `github`")),
    responses(
    (status = 204, description = "Unlinked"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`identity_not_found`"),
    (status = 409, body = chat_models::error::ErrorBody, description = "`last_sign_in_method`")))]
pub async fn unlink(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(provider): Path<String>,
) -> Result<StatusCode> {
    let provider =
        Provider::parse(&provider).ok_or(ApiError::NotFound(ErrorCode::IdentityNotFound))?;
    identities::unlink(&state.db, auth.user_id, provider).await?;
    tracing::info!(user_id = %auth.user_id, provider = provider.as_str(), "provider unlinked");
    Ok(StatusCode::NO_CONTENT)
}
