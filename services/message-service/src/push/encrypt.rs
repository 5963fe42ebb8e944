//! Message encryption for Web Push (RFC 8291) in the `aes128gcm` content coding (RFC 8188):
//! one record, a fresh key pair and salt per message, so only the subscribing browser can read
//! what the push service carries.

use aes_gcm::aead::{Aead as _, KeyInit as _};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::Engine as _;
use hkdf::Hkdf;
use p256::PublicKey;
use sha2::Sha256;

/// The record size announced in the header: the whole message fits in one record.
const RECORD_SIZE: u32 = 4096;
/// Bytes of the header: salt (16), record size (4), key id length (1), the key (65).
const HEADER_BYTES: usize = 16 + 4 + 1 + 65;
/// The largest plaintext: push services take at most 4096 bytes of body, and a record adds
/// its delimiter (1) and the AEAD tag (16).
pub const MAX_PLAINTEXT: usize = 4096 - HEADER_BYTES - 1 - 16;

/// base64url, with or without padding (browsers send it without).
const BASE64URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Encodes bytes as base64url without padding.
pub fn base64url(bytes: &[u8]) -> String {
    BASE64URL.encode(bytes)
}

/// What is wrong with a subscription's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadKey {
    /// `p256dh` is not an uncompressed P-256 point.
    #[error("p256dh is not a P-256 public key")]
    PublicKey,
    /// `auth` is not 16 bytes.
    #[error("auth is not a 16-byte secret")]
    AuthSecret,
}

/// A browser's keys: its public key and the authentication secret.
#[derive(Clone)]
pub struct BrowserKeys {
    /// The public key, uncompressed (checked to be on the curve).
    public: [u8; 65],
    auth: [u8; 16],
}

impl std::fmt::Debug for BrowserKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserKeys").finish_non_exhaustive()
    }
}

impl BrowserKeys {
    /// The keys of a subscription, base64url (padded or not).
    pub fn parse(p256dh: &str, auth: &str) -> Result<Self, BadKey> {
        let point = BASE64URL.decode(p256dh).map_err(|_| BadKey::PublicKey)?;
        // Uncompressed only, as the encryption context carries the 65 bytes.
        let public: [u8; 65] = point.try_into().map_err(|_| BadKey::PublicKey)?;
        if public[0] != 4 || PublicKey::from_sec1_bytes(&public).is_err() {
            return Err(BadKey::PublicKey);
        }
        let auth: [u8; 16] = BASE64URL
            .decode(auth)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(BadKey::AuthSecret)?;
        Ok(Self { public, auth })
    }
}

/// Why a payload was not encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unsealable {
    /// The plaintext is over [`MAX_PLAINTEXT`].
    #[error("a push payload is at most {MAX_PLAINTEXT} bytes")]
    TooLarge,
    /// A primitive refused its input (not expected with these sizes).
    #[error("encryption failed")]
    Crypto,
}

/// Encrypts `plaintext` for `keys` with a fresh key pair and salt. The key agreement is
/// ring's (its P-256 is several times faster than a portable one, and it is the cost of a push).
pub fn encrypt(keys: &BrowserKeys, plaintext: &[u8]) -> Result<Vec<u8>, Unsealable> {
    use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, ECDH_P256};
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(Unsealable::TooLarge);
    }
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
    let ephemeral = EphemeralPrivateKey::generate(&ECDH_P256, &ring::rand::SystemRandom::new())
        .map_err(|_| Unsealable::Crypto)?;
    let server_public: [u8; 65] = ephemeral
        .compute_public_key()
        .ok()
        .and_then(|public| public.as_ref().try_into().ok())
        .ok_or(Unsealable::Crypto)?;
    let browser = UnparsedPublicKey::new(&ECDH_P256, keys.public);
    agreement::agree_ephemeral(ephemeral, &browser, |shared| {
        seal(keys, plaintext, &server_public, shared, salt)
    })
    .map_err(|_| Unsealable::Crypto)?
}

/// The message body, given the ephemeral public key and the shared secret.
fn seal(
    keys: &BrowserKeys,
    plaintext: &[u8],
    server_public: &[u8; 65],
    shared: &[u8],
    salt: [u8; 16],
) -> Result<Vec<u8>, Unsealable> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(Unsealable::TooLarge);
    }
    // RFC 8291 §3.4: the input keying material from the shared secret and the auth secret.
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(&keys.public);
    key_info.extend_from_slice(server_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&keys.auth), shared)
        .expand(&key_info, &mut ikm)
        .map_err(|_| Unsealable::Crypto)?;

    // RFC 8188 §2.2-2.3: the content-encryption key and nonce from the salt.
    let content = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    content
        .expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .and_then(|()| content.expand(b"Content-Encoding: nonce\0", &mut nonce))
        .map_err(|_| Unsealable::Crypto)?;

    // One record, the last: the plaintext and the delimiter 2, no padding.
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(2);
    let sealed = Aes128Gcm::new(&cek.into())
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .map_err(|_| Unsealable::Crypto)?;

    let mut body = Vec::with_capacity(HEADER_BYTES + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(server_public);
    body.extend_from_slice(&sealed);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    use p256::SecretKey;

    /// The example of RFC 8291, Appendix A.
    #[test]
    fn the_rfc_8291_example_encrypts_to_its_published_body() {
        let keys = BrowserKeys::parse(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZMqHH6r4Tts7J_aSIgg",
        )
        .unwrap();
        let ephemeral = SecretKey::from_slice(
            &BASE64URL
                .decode("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
                .unwrap(),
        )
        .unwrap();
        let salt: [u8; 16] = BASE64URL
            .decode("DGv6ra1nlYgDCS1FRnbzlw")
            .unwrap()
            .try_into()
            .unwrap();
        // The example's fixed key pair, agreed through p256 (ring takes no given key).
        let server_public: [u8; 65] = ephemeral
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .try_into()
            .unwrap();
        let browser = PublicKey::from_sec1_bytes(&keys.public).unwrap();
        let shared = p256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), browser.as_affine());
        let plaintext = b"When I grow up, I want to be a watermelon";
        let body = seal(
            &keys,
            plaintext,
            &server_public,
            shared.raw_secret_bytes(),
            salt,
        )
        .unwrap();
        assert_eq!(
            base64url(&body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYW\
             AmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgS\
             xsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn keys_that_are_not_a_point_and_a_16_byte_secret_are_refused() {
        let point = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let off_curve = format!("{}A", &point[..86]);
        assert_eq!(
            BrowserKeys::parse(&off_curve, "BTBZMqHH6r4Tts7J_aSIgg").unwrap_err(),
            BadKey::PublicKey
        );
        assert_eq!(
            BrowserKeys::parse(point, "BTBZMqHH6r4Tts7J").unwrap_err(),
            BadKey::AuthSecret
        );
        assert_eq!(
            BrowserKeys::parse("not base64!", "BTBZMqHH6r4Tts7J_aSIgg").unwrap_err(),
            BadKey::PublicKey
        );
    }

    #[test]
    fn a_payload_over_the_limit_is_refused_and_one_at_it_fits_in_4096_bytes() {
        let keys = BrowserKeys::parse(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZMqHH6r4Tts7J_aSIgg",
        )
        .unwrap();
        assert_eq!(
            encrypt(&keys, &[b'x'; MAX_PLAINTEXT + 1]).unwrap_err(),
            Unsealable::TooLarge
        );
        assert_eq!(encrypt(&keys, &[b'x'; MAX_PLAINTEXT]).unwrap().len(), 4096);
    }
}
