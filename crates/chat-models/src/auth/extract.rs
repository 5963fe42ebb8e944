//! Extractors: the [`AuthUser`] of a request (bearer header or access cookie, checked by the
//! state's [`Authenticator`]) and [`ServiceCaller`], proof of the shared service token.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum_extra::extract::CookieJar;

use super::{AuthUser, Authenticator, ACCESS_COOKIE, SERVICE_TOKEN_HEADER};
use crate::error::{ApiError, ErrorCode, Result};

/// The access token of a request: `Authorization: Bearer` first, else the access cookie.
pub fn access_token(headers: &HeaderMap) -> Result<Option<String>> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::Unauthorized(ErrorCode::InvalidToken))?;
        return match value.strip_prefix("Bearer ").map(str::trim) {
            Some(token) if !token.is_empty() => Ok(Some(token.to_owned())),
            _ => Err(ApiError::Unauthorized(ErrorCode::InvalidToken)),
        };
    }
    Ok(CookieJar::from_headers(headers)
        .get(ACCESS_COOKIE)
        .map(|cookie| cookie.value().to_owned()))
}

impl<S> FromRequestParts<S> for AuthUser
where
    Authenticator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let token =
            access_token(&parts.headers)?.ok_or(ApiError::Unauthorized(ErrorCode::MissingToken))?;
        let user = Authenticator::from_ref(state).authenticate(&token).await?;
        // Fills the `user_id` field the request span declares (see `http::with_common_layers`).
        tracing::Span::current().record("user_id", tracing::field::display(user.user_id));
        Ok(user)
    }
}

/// The shared secret services send each other in [`SERVICE_TOKEN_HEADER`].
#[derive(Clone)]
pub struct ServiceToken(pub std::sync::Arc<secrecy::SecretString>);

impl std::fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceToken(..)")
    }
}

/// Proof that the caller holds the service token (compared in constant time).
#[derive(Debug, Clone, Copy)]
pub struct ServiceCaller;

impl<S> FromRequestParts<S> for ServiceCaller
where
    ServiceToken: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        use secrecy::ExposeSecret as _;
        use subtle::ConstantTimeEq as _;
        let presented = parts
            .headers
            .get(SERVICE_TOKEN_HEADER)
            .map(|value| value.as_bytes())
            .unwrap_or_default();
        let expected = ServiceToken::from_ref(state);
        if presented
            .ct_eq(expected.0.expose_secret().as_bytes())
            .into()
        {
            Ok(Self)
        } else {
            Err(ApiError::Unauthorized(ErrorCode::InvalidServiceToken))
        }
    }
}
