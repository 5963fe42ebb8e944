//! VAPID (RFC 8292): the server identifies itself to push services with a short-lived ES256
//! JWT for the endpoint's origin, signed by the key pair whose public half browsers were given
//! as `applicationServerKey`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use p256::SecretKey;
use reqwest::Url;
use serde::Serialize;

use super::encrypt::base64url;

/// How long a VAPID token is valid (RFC 8292 allows at most 24 hours).
pub const TOKEN_LIFETIME: chrono::Duration = chrono::Duration::hours(12);

/// A token is reused for its audience until less than this much of its lifetime is left.
const REUSE_UNTIL: chrono::Duration = chrono::Duration::hours(6);
/// Audiences whose token is kept (push services are few; past this the cache starts over).
const MAX_CACHED: usize = 1024;

/// Audience → (`Authorization` header, its token's expiry).
type Signed = HashMap<String, (String, chrono::DateTime<chrono::Utc>)>;

/// The server's VAPID key pair and contact, and the tokens signed so far per audience.
#[derive(Clone)]
pub struct Vapid {
    signing: EncodingKey,
    public_key: String,
    subject: String,
    /// The tokens signed so far, per audience.
    signed: Arc<Mutex<Signed>>,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

impl Vapid {
    /// The key pair of a P-256 private key in PEM (PKCS#8, or SEC1 `EC PRIVATE KEY`), and the
    /// contact push services may write to (`mailto:` or `https:`).
    pub fn from_pem(pem: &str, subject: &str) -> anyhow::Result<Self> {
        let secret = SecretKey::from_pkcs8_pem(pem)
            .or_else(|_| SecretKey::from_sec1_pem(pem))
            .context("the VAPID key is not a P-256 private key in PEM")?;
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            anyhow::bail!("VAPID_SUBJECT must be a mailto: or https: URL");
        }
        let der = secret.to_pkcs8_der().context("re-encoding the VAPID key")?;
        Ok(Self {
            signing: EncodingKey::from_ec_der(der.as_bytes()),
            public_key: base64url(secret.public_key().to_encoded_point(false).as_bytes()),
            subject: subject.to_owned(),
            signed: Arc::default(),
        })
    }

    /// The public key, uncompressed and base64url: what browsers subscribe with.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header for a request to `endpoint`: a token per push service
    /// (the endpoint's origin), signed once and reused while most of its lifetime is left.
    pub fn authorization(
        &self,
        endpoint: &Url,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<String> {
        let audience = endpoint.origin().ascii_serialization();
        if let Ok(signed) = self.signed.lock() {
            if let Some((header, expires)) = signed.get(&audience) {
                if *expires - now > REUSE_UNTIL {
                    return Ok(header.clone());
                }
            }
        }
        let expires = now + TOKEN_LIFETIME;
        let claims = Claims {
            aud: &audience,
            exp: expires.timestamp(),
            sub: &self.subject,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.signing)
            .context("signing a VAPID token")?;
        let header = format!("vapid t={token}, k={}", self.public_key);
        if let Ok(mut signed) = self.signed.lock() {
            if signed.len() >= MAX_CACHED {
                signed.clear();
            }
            signed.insert(audience, (header.clone(), expires));
        }
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use jsonwebtoken::{DecodingKey, Validation};

    const PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgg4TrN4SI/EYUkO36
gEXtVX5swoV9qq5kw7jdSmvGacKhRANCAAT5gBtG0Qfe46duQBHBfOLwsQX3M7C0
Fp2ZmCjFju1P66HiHi7PMJarRC9B1meFMO7x52dESyQVxBXmT3C0y955
-----END PRIVATE KEY-----
";

    #[test]
    fn the_token_is_es256_for_the_endpoint_origin_and_expires_within_a_day() {
        let vapid = Vapid::from_pem(PEM, "mailto:ops@example.com").unwrap();
        let endpoint = Url::parse("https://push.example.net:8443/wpush/v2/abc?x=1").unwrap();
        let now = chrono::Utc::now();
        let header = vapid.authorization(&endpoint, now).unwrap();
        let (token, key) = header
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .unwrap();
        assert_eq!(key, vapid.public_key());
        let point = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(key)
            .unwrap();
        assert_eq!((point.len(), point[0]), (65, 4));
        let decoding =
            DecodingKey::from_ec_components(&base64url(&point[1..33]), &base64url(&point[33..]))
                .unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&["https://push.example.net:8443"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, &decoding, &validation)
            .unwrap()
            .claims;
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        let exp = claims["exp"].as_i64().unwrap();
        assert!(exp > now.timestamp() && exp <= now.timestamp() + 24 * 3600);
    }

    #[test]
    fn a_token_is_reused_per_push_service_until_half_its_lifetime_is_gone() {
        let vapid = Vapid::from_pem(PEM, "mailto:ops@example.com").unwrap();
        let fcm = Url::parse("https://fcm.googleapis.com/fcm/send/a").unwrap();
        let fcm_other = Url::parse("https://fcm.googleapis.com/fcm/send/b").unwrap();
        let mozilla = Url::parse("https://updates.push.services.mozilla.com/wpush/v2/c").unwrap();
        let now = chrono::Utc::now();
        let first = vapid.authorization(&fcm, now).unwrap();
        assert_eq!(
            vapid
                .authorization(&fcm_other, now + chrono::Duration::hours(5))
                .unwrap(),
            first
        );
        assert_ne!(vapid.authorization(&mozilla, now).unwrap(), first);
        let later = vapid
            .authorization(&fcm, now + chrono::Duration::hours(7))
            .unwrap();
        assert_ne!(later, first, "signed again with 5 hours left");
    }

    #[test]
    fn a_key_that_is_not_p256_or_a_subject_that_is_no_contact_is_refused() {
        assert!(Vapid::from_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "mailto:a@b"
        )
        .is_err());
        assert!(Vapid::from_pem(PEM, "ops@example.com").is_err());
    }
}
