//! Key rotation without restarts: a key user-service starts publishing is trusted as soon as
//! a token signed with it arrives (the JWKS is fetched again, at most every few seconds).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chat_models::auth::{Claims, Jwk, Jwks, UNKNOWN_KEY_COOLDOWN};
use chat_testkit::{Service, Stack};
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;

/// A JWKS endpoint publishing user-service's keys and the test's `extra` ones.
#[derive(Clone, Default)]
struct Published {
    upstream: Arc<Mutex<Option<String>>>,
    extra: Arc<Mutex<Vec<Jwk>>>,
}

async fn jwks(State(published): State<Published>) -> Json<Jwks> {
    let upstream = published.upstream.lock().unwrap().clone().unwrap();
    let mut jwks: Jwks = reqwest::get(format!("{upstream}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks.keys
        .extend(published.extra.lock().unwrap().iter().cloned());
    Json(jwks)
}

fn sign(key: &SigningKey, claims: &Claims) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(Jwk::ed25519(&key.verifying_key().to_bytes()).kid);
    let der = key.to_pkcs8_der().unwrap();
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()
}

#[tokio::test]
async fn a_key_published_after_start_is_trusted_without_a_restart() {
    let published = Published::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/jwks.json", get(jwks))
        .with_state(published.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let upstream = published.upstream.clone();
    let stack = Stack::builder(Service::Friends)
        .friends_config(move |config| {
            *upstream.lock().unwrap() = Some(config.users.user_service_url.clone());
            config.users.jwt_jwks_url = Some(jwks_url);
        })
        .start()
        .await;
    let ann = stack.register("ann").await;
    let friends = |token: String| {
        let request = stack.client.get(stack.url("/friends")).bearer_auth(token);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(friends(ann.access.clone()).await, StatusCode::OK);

    // The same session, signed with a key nobody published yet: refused.
    let rotated = SigningKey::generate(&mut rand::rngs::OsRng);
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: ann.id.parse().unwrap(),
        sid: ann.session_id.parse().unwrap(),
        iat: now,
        exp: now + 600,
        iss: "chat-user-service".to_owned(),
        aud: "chat".to_owned(),
    };
    let token = sign(&rotated, &claims);
    assert_eq!(friends(token.clone()).await, StatusCode::UNAUTHORIZED);

    // Published: trusted once the keys may be fetched again, with no restart.
    published
        .extra
        .lock()
        .unwrap()
        .push(Jwk::ed25519(&rotated.verifying_key().to_bytes()));
    tokio::time::sleep(UNKNOWN_KEY_COOLDOWN + Duration::from_millis(500)).await;
    assert_eq!(friends(token).await, StatusCode::OK);
    // The old key is still published, so its tokens still work.
    assert_eq!(friends(ann.access.clone()).await, StatusCode::OK);
}
