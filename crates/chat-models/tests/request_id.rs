//! One request id follows a request across services: a handler's call to another service
//! (through `chat_models::clients`) carries the caller's `X-Request-Id`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use chat_models::clients::UserDirectory;
use chat_models::http::{with_common_layers, CommonLayers};
use serde_json::{json, Value};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

#[tokio::test]
async fn internal_calls_carry_the_callers_request_id() {
    // "user-service": records the request id of the batch call it receives.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let users = serve(
        Router::new()
            .route(
                "/internal/users/batch",
                post(
                    |State(seen): State<Arc<Mutex<Vec<String>>>>, headers: HeaderMap| async move {
                        let id = headers
                            .get("x-request-id")
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or("none")
                            .to_owned();
                        seen.lock().unwrap().push(id);
                        Json(json!({ "users": [] }))
                    },
                ),
            )
            .with_state(seen.clone()),
    )
    .await;

    // "another service": a route that asks user-service, behind the shared layers.
    let directory = UserDirectory::new(&users, "0123456789abcdef0123".to_owned().into()).unwrap();
    let app = Router::new()
        .route(
            "/lookup",
            get(|State(directory): State<UserDirectory>| async move {
                let found = directory
                    .batch(vec![uuid::Uuid::new_v4()], Vec::new())
                    .await
                    .map(|users| users.len())
                    .unwrap_or(usize::MAX);
                Json(json!({ "found": found }))
            }),
        )
        .with_state(directory);
    let layers = CommonLayers {
        allowed_origins: Vec::new(),
        body_limit_bytes: 1024,
        request_timeout: Duration::from_secs(5),
        long_routes: Vec::new(),
        long_request_timeout: Duration::from_secs(5),
        header_timeout: Duration::from_secs(5),
        metrics: chat_models::metrics::MetricsAccess::Open,
        service: "test-service",
    };
    let base = serve(with_common_layers(app, &layers)).await;

    let client = reqwest::Client::new();
    let answer: Value = client
        .get(format!("{base}/lookup"))
        .header("x-request-id", "trace-1234")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["found"], 0);
    // Without an id from the caller, the minted one travels on.
    let minted = client.get(format!("{base}/lookup")).send().await.unwrap();
    let minted = minted.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, vec!["trace-1234".to_owned(), minted]);
}
