//! Access tokens that must be refused: expired, tampered, wrong algorithm, wrong key or claims.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chat_models::auth::{key_id, Claims};
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use uuid::Uuid;

use chat_testkit::{error_code, Stack};

fn claims(user: &str, session: &str, exp_offset: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: Uuid::parse_str(user).unwrap(),
        sid: Uuid::parse_str(session).unwrap(),
        iat: now - 10,
        exp: now + exp_offset,
        iss: "chat-user-service".to_owned(),
        aud: "chat".to_owned(),
    }
}

/// Signs with the app's own key (as user-service would), so only the claim under test differs.
fn sign_with_app_key(app: &Stack, claims: &Claims) -> String {
    let key = SigningKey::from_pkcs8_pem(&app.jwt_pem).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key_id(&key.verifying_key().to_bytes()));
    let encoding = EncodingKey::from_ed_der(key.to_pkcs8_der().unwrap().as_bytes());
    jsonwebtoken::encode(&header, claims, &encoding).unwrap()
}

async fn refused_with(app: &Stack, token: &str) -> String {
    let response = app.get_as("/users/me", token).await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "token accepted: {token}"
    );
    error_code(response).await
}

#[tokio::test]
async fn a_token_forged_with_the_app_key_is_accepted_so_the_refusals_below_are_meaningful() {
    let app = Stack::users().await;
    let session = app.register("tia").await;
    let token = sign_with_app_key(&app, &claims(&session.id, &session.session_id, 300));
    assert_eq!(
        app.get_as("/users/me", &token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let app = Stack::users().await;
    let session = app.register("uma").await;
    let token = sign_with_app_key(&app, &claims(&session.id, &session.session_id, -60));
    assert_eq!(refused_with(&app, &token).await, "token_expired");
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = Stack::users().await;
    let session = app.register("vic").await;
    let other = app.register("wes").await;
    let mut parts: Vec<String> = session.access.split('.').map(str::to_owned).collect();
    // Swap in another user's subject, keep the signature.
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["sub"] = other.id.clone().into();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
    assert_eq!(refused_with(&app, &parts.join(".")).await, "invalid_token");
    // A flipped signature byte.
    let mut flipped = session.access.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        refused_with(&app, &String::from_utf8(flipped).unwrap()).await,
        "invalid_token"
    );
}

#[tokio::test]
async fn tokens_with_another_algorithm_are_refused() {
    let app = Stack::users().await;
    let session = app.register("xia").await;
    let claims = claims(&session.id, &session.session_id, 300);
    let kid = Some(
        session
            .access
            .split('.')
            .next()
            .map(|h| {
                let header: serde_json::Value =
                    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
                header["kid"].as_str().unwrap().to_owned()
            })
            .unwrap(),
    );

    // HS256 keyed with something public (the classic algorithm-confusion attack).
    let mut header = Header::new(Algorithm::HS256);
    header.kid.clone_from(&kid);
    let hs256 = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(app.jwt_pem.as_bytes()),
    )
    .unwrap();
    assert_eq!(refused_with(&app, &hs256).await, "invalid_token");

    // alg "none", no signature.
    let none_header = serde_json::json!({ "alg": "none", "typ": "JWT", "kid": kid });
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&none_header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
    );
    assert_eq!(refused_with(&app, &unsigned).await, "invalid_token");
}

#[tokio::test]
async fn tokens_for_another_audience_or_issuer_or_from_another_key_are_refused() {
    let app = Stack::users().await;
    let session = app.register("yan").await;

    let mut wrong_audience = claims(&session.id, &session.session_id, 300);
    wrong_audience.aud = "another-app".to_owned();
    assert_eq!(
        refused_with(&app, &sign_with_app_key(&app, &wrong_audience)).await,
        "invalid_token"
    );

    let mut wrong_issuer = claims(&session.id, &session.session_id, 300);
    wrong_issuer.iss = "someone-else".to_owned();
    assert_eq!(
        refused_with(&app, &sign_with_app_key(&app, &wrong_issuer)).await,
        "invalid_token"
    );

    let stranger = SigningKey::generate(&mut rand::rngs::OsRng);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key_id(&stranger.verifying_key().to_bytes()));
    let encoding = EncodingKey::from_ed_der(stranger.to_pkcs8_der().unwrap().as_bytes());
    let foreign = jsonwebtoken::encode(
        &header,
        &claims(&session.id, &session.session_id, 300),
        &encoding,
    )
    .unwrap();
    assert_eq!(refused_with(&app, &foreign).await, "invalid_token");
}

#[tokio::test]
async fn missing_and_malformed_credentials_are_told_apart() {
    let app = Stack::users().await;

    let none = app.client.get(app.url("/users/me")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(none).await, "missing_token");

    let basic = app
        .client
        .get(app.url("/users/me"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(basic).await, "invalid_token");

    assert_eq!(refused_with(&app, "not-a-jwt").await, "invalid_token");
}
