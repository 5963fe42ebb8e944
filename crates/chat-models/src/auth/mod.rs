//! Access tokens: [`Claims`], published keys ([`Jwks`]) and the public-key-only
//! [`JwtVerifier`]; with feature `redis`, revoked-session checks ([`SessionRevocations`]) and the
//! [`Authenticator`] built on both; with feature `server`, the [`AuthUser`] extractor, which
//! reads `Authorization: Bearer` or the access cookie, and the service-token check.

#[cfg(feature = "server")]
mod extract;
#[cfg(feature = "redis")]
mod keys;
#[cfg(feature = "redis")]
mod revocations;

#[cfg(feature = "server")]
pub use extract::{access_token, ServiceCaller, ServiceToken};
#[cfg(feature = "redis")]
pub use keys::{FetchJwks, TrustedKeys, REFRESH_EVERY, UNKNOWN_KEY_COOLDOWN};
#[cfg(feature = "redis")]
pub use revocations::{Authenticator, SessionRevocations};

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
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

/// Most tokens a verifier remembers as verified.
const REMEMBERED_TOKENS: usize = 20_000;

/// Verifies access tokens with public keys only: EdDSA, known `kid`, issuer, audience, expiry.
///
/// A token is sent with every request of its life (minutes, many requests), and checking an
/// Ed25519 signature is most of what authenticating a request costs here (about 50 µs). So the
/// claims of tokens verified are remembered, by the whole token's text: only the same bytes,
/// signature included, skip the check, and their expiry is still checked at every use (the
/// only claim that changes with time). A verifier holds the keys it verified with, so a key
/// that is no longer trusted (a new verifier after a key refresh) takes its tokens with it.
pub struct JwtVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
    verified: std::sync::RwLock<HashMap<Box<str>, Claims>>,
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
            verified: std::sync::RwLock::default(),
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

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `token` names (`kid`) a key this verifier has.
    pub fn knows_key_of(&self, token: &str) -> bool {
        jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|header| header.kid)
            .is_some_and(|kid| self.keys.contains_key(&kid))
    }

    /// Checks signature, algorithm, key id, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims> {
        self.verify_at(token, jsonwebtoken::get_current_timestamp())
    }

    /// [`Self::verify`] with the time (seconds) remembered claims are checked at.
    fn verify_at(&self, token: &str, now: u64) -> Result<Claims> {
        let remembered = self
            .verified
            .read()
            .ok()
            .and_then(|verified| verified.get(token).cloned());
        if let Some(claims) = remembered {
            return if self.expired(&claims, now) {
                Err(ApiError::Unauthorized(ErrorCode::TokenExpired))
            } else {
                Ok(claims)
            };
        }
        let claims = self.check(token)?;
        if let Ok(mut verified) = self.verified.write() {
            if verified.len() >= REMEMBERED_TOKENS {
                verified.retain(|_, claims| !self.expired(claims, now));
                if verified.len() >= REMEMBERED_TOKENS {
                    verified.clear();
                }
            }
            verified.insert(token.into(), claims.clone());
        }
        Ok(claims)
    }

    /// Whether claims verified before have expired by `now` (seconds), with the same leeway as
    /// the check.
    fn expired(&self, claims: &Claims, now: u64) -> bool {
        let exp = u64::try_from(claims.exp).unwrap_or(0);
        exp.saturating_add(self.validation.leeway) < now
    }

    /// The signature and claims check itself.
    fn check(&self, token: &str) -> Result<Claims> {
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

/// The authenticated caller of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    /// The caller's uuid.
    pub user_id: Uuid,
    /// The session the access token belongs to.
    pub session_id: Uuid,
}

/// Header carrying the service token on `/internal/...` calls.
pub const SERVICE_TOKEN_HEADER: &str = "x-service-token";

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
    fn a_remembered_token_still_expires_and_only_its_exact_text_is_remembered() {
        let (key, public) = keypair();
        let mut verifier = JwtVerifier::new("iss", "aud");
        verifier.add_ed25519_key(&public);
        let claims = claims(60);
        let token = sign(&key, &public, &claims);
        let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
        assert_eq!(verifier.verify_at(&token, now).unwrap(), claims);
        assert_eq!(verifier.verified.read().unwrap().len(), 1);
        // The same token again, as its life goes on and once it is over (leeway included).
        let exp = u64::try_from(claims.exp).unwrap();
        assert_eq!(verifier.verify_at(&token, exp + 5).unwrap(), claims);
        assert_eq!(
            verifier.verify_at(&token, exp + 6).unwrap_err().code(),
            ErrorCode::TokenExpired
        );
        // Another signature on the same claims is checked, not taken for the remembered one.
        let at = token.len() - 20;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert_eq!(
            verifier.verify_at(&tampered, now).unwrap_err().code(),
            ErrorCode::InvalidToken
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
