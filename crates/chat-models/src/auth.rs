//! Access-token verification shared by every service: [`Claims`], the public-key-only
//! [`JwtVerifier`], revoked-session checks in Redis ([`SessionRevocations`]) and the
//! [`AuthUser`] extractor, which reads `Authorization: Bearer` or the access cookie.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum_extra::extract::CookieJar;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode, Result};

/// Cookie holding the access JWT (httpOnly, path `/`).
pub const ACCESS_COOKIE: &str = "access_token";
/// Cookie holding the opaque refresh token (httpOnly, scoped to the refresh path).
pub const REFRESH_COOKIE: &str = "refresh_token";

/// Claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's uuid.
    pub sub: Uuid,
    /// The session (refresh-token family) this token belongs to.
    pub sid: Uuid,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// Issuer (user-service).
    pub iss: String,
    /// Audience (the chat platform).
    pub aud: String,
}

/// One public key as published at `/.well-known/jwks.json` (RFC 8037 OKP key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The raw public key, base64url without padding.
    pub x: String,
    /// Key id, matched against the token header's `kid`.
    pub kid: String,
    /// Always `EdDSA`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
}

impl Jwk {
    /// The JWK of an Ed25519 public key; the `kid` is derived from the key itself.
    pub fn ed25519(public_key: &[u8; 32]) -> Self {
        Self {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: URL_SAFE_NO_PAD.encode(public_key),
            kid: key_id(public_key),
            alg: "EdDSA".to_owned(),
            use_: "sig".to_owned(),
        }
    }
}

/// A JSON Web Key Set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Jwks {
    /// The keys that may have signed a live token.
    pub keys: Vec<Jwk>,
}

/// A short, stable id for a public key, derived from the key so that every service agrees on it
/// without configuration: the base64url of its first 12 bytes (plenty to tell keys apart).
pub fn key_id(public_key: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(&public_key[..12])
}

/// Verifies access tokens with public keys only: EdDSA, known `kid`, issuer, audience, expiry.
pub struct JwtVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for tokens from `issuer` to `audience`, with no keys yet.
    pub fn new(issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = 5;
        Self {
            keys: HashMap::new(),
            validation,
        }
    }

    /// Trusts one more Ed25519 public key (several during a key rotation).
    pub fn add_ed25519_key(&mut self, public_key: &[u8; 32]) {
        let jwk = Jwk::ed25519(public_key);
        self.keys
            .insert(jwk.kid, DecodingKey::from_ed_der(public_key));
    }

    /// Trusts every Ed25519 key of a JWKS; other key types are skipped.
    pub fn add_jwks(&mut self, jwks: &Jwks) -> anyhow::Result<()> {
        for jwk in jwks
            .keys
            .iter()
            .filter(|jwk| jwk.kty == "OKP" && jwk.crv == "Ed25519")
        {
            let key = DecodingKey::from_ed_components(&jwk.x)?;
            self.keys.insert(jwk.kid.clone(), key);
        }
        Ok(())
    }

    /// Checks signature, algorithm, key id, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims> {
        let invalid = || ApiError::Unauthorized(ErrorCode::InvalidToken);
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::EdDSA {
            return Err(invalid());
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or_else(invalid)?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                JwtErrorKind::ExpiredSignature => ApiError::Unauthorized(ErrorCode::TokenExpired),
                _ => invalid(),
            })
    }
}

/// Revoked sessions, kept in Redis until every access token of theirs has expired.
#[derive(Clone)]
pub struct SessionRevocations {
    redis: ConnectionManager,
    prefix: String,
    ttl: Duration,
}

impl std::fmt::Debug for SessionRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRevocations")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl SessionRevocations {
    /// `ttl` must outlive the longest access token (its lifetime plus clock leeway).
    pub fn new(redis: ConnectionManager, prefix: &str, ttl: Duration) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            ttl,
        }
    }

    fn key(&self, session_id: Uuid) -> String {
        format!("{}revoked:sid:{session_id}", self.prefix)
    }

    /// Marks sessions revoked: their access tokens are refused from now on, on every service.
    pub async fn revoke(&self, session_ids: &[Uuid]) -> Result<()> {
        if session_ids.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for session_id in session_ids {
            pipe.set_ex(self.key(*session_id), 1, self.ttl.as_secs().max(1))
                .ignore();
        }
        pipe.query_async::<()>(&mut self.redis.clone()).await?;
        Ok(())
    }

    /// Whether the session was revoked.
    pub async fn is_revoked(&self, session_id: Uuid) -> Result<bool> {
        let revoked: bool = redis::cmd("EXISTS")
            .arg(self.key(session_id))
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(revoked)
    }
}

/// Everything needed to authenticate a request; put it in each service's state.
#[derive(Clone, Debug)]
pub struct Authenticator {
    /// Signature and claim checks.
    pub verifier: Arc<JwtVerifier>,
    /// Revoked-session lookups.
    pub revocations: SessionRevocations,
}

impl Authenticator {
    /// Verifies a token and refuses it when its session was revoked.
    pub async fn authenticate(&self, token: &str) -> Result<AuthUser> {
        let claims = self.verifier.verify(token)?;
        if self.revocations.is_revoked(claims.sid).await? {
            return Err(ApiError::Unauthorized(ErrorCode::SessionRevoked));
        }
        Ok(AuthUser {
            user_id: claims.sub,
            session_id: claims.sid,
        })
    }
}

/// The authenticated caller of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    /// The caller's uuid.
    pub user_id: Uuid,
    /// The session the access token belongs to.
    pub session_id: Uuid,
}

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

/// Header carrying the service token on `/internal/...` calls.
pub const SERVICE_TOKEN_HEADER: &str = "x-service-token";

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

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use ed25519_dalek::SigningKey;
    use jsonwebtoken::{EncodingKey, Header};

    fn keypair() -> (EncodingKey, [u8; 32]) {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        let der = signing.to_pkcs8_der().unwrap();
        (
            EncodingKey::from_ed_der(der.as_bytes()),
            signing.verifying_key().to_bytes(),
        )
    }

    fn claims(exp_offset: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            iat: now,
            exp: now + exp_offset,
            iss: "iss".to_owned(),
            aud: "aud".to_owned(),
        }
    }

    fn sign(key: &EncodingKey, public: &[u8; 32], claims: &Claims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key_id(public));
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }

    #[test]
    fn a_valid_token_verifies_and_a_foreign_key_does_not() {
        let (key, public) = keypair();
        let (other_key, _) = keypair();
        let mut verifier = JwtVerifier::new("iss", "aud");
        verifier.add_ed25519_key(&public);
        let claims = claims(60);
        assert_eq!(
            verifier.verify(&sign(&key, &public, &claims)).unwrap(),
            claims
        );
        // Signed by another key but claiming our kid.
        let forged = sign(&other_key, &public, &claims);
        assert_eq!(
            verifier.verify(&forged).unwrap_err().code(),
            ErrorCode::InvalidToken
        );
    }

    #[test]
    fn expired_tokens_say_so() {
        let (key, public) = keypair();
        let mut verifier = JwtVerifier::new("iss", "aud");
        verifier.add_ed25519_key(&public);
        let token = sign(&key, &public, &claims(-120));
        assert_eq!(
            verifier.verify(&token).unwrap_err().code(),
            ErrorCode::TokenExpired
        );
    }

    #[test]
    fn jwks_round_trip_trusts_the_same_key() {
        let (key, public) = keypair();
        let mut verifier = JwtVerifier::new("iss", "aud");
        verifier
            .add_jwks(&Jwks {
                keys: vec![Jwk::ed25519(&public)],
            })
            .unwrap();
        assert!(verifier.verify(&sign(&key, &public, &claims(60))).is_ok());
    }
}
