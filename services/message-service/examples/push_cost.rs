//! The CPU cost of one web push's cryptography, in one thread: encrypting a payload for a
//! browser (a fresh P-256 key pair, ECDH, HKDF, AES-128-GCM) and signing its VAPID token
//! (ES256; signed once per push service and reused, so the loop mostly measures the cache).
//! No servers. `scripts/bench.sh` does not run it; `docs/benchmarks.md` quotes it.
//!
//! ```text
//! cargo run --release -p message-service --example push_cost -- [pushes]
//! ```

use std::time::Instant;

use message_service::push::encrypt::{self, BrowserKeys};
use message_service::push::vapid::Vapid;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
use reqwest::Url;

fn main() -> anyhow::Result<()> {
    let pushes: u32 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(20_000);
    let mut rng = rand::rngs::OsRng;
    let browser = p256::SecretKey::random(&mut rng);
    let keys = BrowserKeys::parse(
        &encrypt::base64url(browser.public_key().to_encoded_point(false).as_bytes()),
        &encrypt::base64url(&[7u8; 16]),
    )?;
    let pem = p256::SecretKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF)?;
    let vapid = Vapid::from_pem(&pem, "mailto:bench@example.com")?;
    let endpoint = Url::parse("https://push.example.com/wpush/v2/abc")?;
    let payload = serde_json::to_vec(&serde_json::json!({
        "type": "message", "conversation_id": "a".repeat(24), "message_id": "b".repeat(24),
        "sender_uuid": uuid::Uuid::nil(), "title": "ann in Team", "preview": "x".repeat(140),
        "url": format!("/chat?c={}", "a".repeat(24)),
    }))?;

    let started = Instant::now();
    for _ in 0..pushes {
        std::hint::black_box(encrypt::encrypt(&keys, &payload)?);
    }
    let encrypting = started.elapsed();
    let started = Instant::now();
    for _ in 0..pushes {
        std::hint::black_box(vapid.authorization(&endpoint, chrono::Utc::now())?);
    }
    let signing = started.elapsed();
    let per = |total: std::time::Duration| total.as_secs_f64() * 1e6 / f64::from(pushes);
    println!(
        "{}",
        serde_json::json!({
            "pushes": pushes,
            "payload_bytes": payload.len(),
            "encrypt_us": (per(encrypting) * 10.0).round() / 10.0,
            "vapid_header_us": (per(signing) * 10.0).round() / 10.0,
        })
    );
    Ok(())
}
