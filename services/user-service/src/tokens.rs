//! Token minting: EdDSA access JWTs (only user-service holds the private key) and opaque
//! refresh tokens, of which only a SHA-256 hash is ever stored.

use std::time::Duration;

use anyhow::Context as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chat_models::auth::{key_id, Claims, Jwk, Jwks, JwtVerifier};
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// Signs access tokens with the service's Ed25519 key.
pub struct JwtSigner {
    key: EncodingKey,
    public_key: [u8; 32],
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl std::fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSigner")
            .field("kid", &key_id(&self.public_key))
            .finish_non_exhaustive()
    }
}

impl JwtSigner {
    /// A signer from a PKCS#8 PEM Ed25519 private key (`openssl genpkey -algorithm ed25519`).
    pub fn from_pem(
        pem: &str,
        issuer: &str,
        audience: &str,
        ttl: Duration,
    ) -> anyhow::Result<Self> {
        let signing = SigningKey::from_pkcs8_pem(pem.trim())
            .map_err(|_| anyhow::anyhow!("the JWT private key is not a PKCS#8 PEM Ed25519 key"))?;
        let der = signing
            .to_pkcs8_der()
            .context("cannot re-encode the JWT private key")?;
        Ok(Self {
            key: EncodingKey::from_ed_der(der.as_bytes()),
            public_key: signing.verifying_key().to_bytes(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        })
    }

    /// Access-token lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Mints an access token for a session; returns it with its expiry.
    pub fn issue(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let expires_at = now + self.ttl;
        let claims = Claims {
            sub: user_id,
            sid: session_id,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key_id(&self.public_key));
        let token = jsonwebtoken::encode(&header, &claims, &self.key)
            .context("signing the access token")?;
        Ok((token, expires_at))
    }

    /// The public keys to publish (the current one; more during a rotation).
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![Jwk::ed25519(&self.public_key)],
        }
    }

    /// A verifier trusting this signer's key, for user-service's own routes.
    pub fn verifier(&self) -> JwtVerifier {
        let mut verifier = JwtVerifier::new(&self.issuer, &self.audience);
        verifier.add_ed25519_key(&self.public_key);
        verifier
    }
}

/// A new refresh token: 32 random bytes, base64url.
pub fn new_refresh_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a refresh token (hex SHA-256). The token itself has 256 bits of entropy,
/// so a fast hash is enough: there is nothing to brute-force.
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;

    fn pem() -> String {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    }

    #[test]
    fn issued_tokens_verify_with_the_published_key() {
        let signer = JwtSigner::from_pem(&pem(), "iss", "aud", Duration::from_secs(60)).unwrap();
        let user = Uuid::new_v4();
        let session = Uuid::new_v4();
        let (token, _) = signer.issue(user, session).unwrap();
        let mut verifier = JwtVerifier::new("iss", "aud");
        verifier.add_jwks(&signer.jwks()).unwrap();
        let claims = verifier.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, session));
    }

    #[test]
    fn garbage_keys_are_refused() {
        assert!(JwtSigner::from_pem("not a key", "iss", "aud", Duration::from_secs(60)).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_eq!(hash_refresh_token(&a), hash_refresh_token(&a));
    }
}
