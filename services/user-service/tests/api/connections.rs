//! What one client can hold or grow: connections that send nothing or half a request are
//! closed, metric labels stay within fixed sets, and `/metrics` is guarded.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use secrecy::SecretString;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use chat_testkit::{Service, Stack};

/// Reads `stream` until the server closes it, and returns how long that took; fails if it
/// stays open past `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buffer = [0_u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closes the connection");
    started.elapsed()
}

fn address(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn silent_half_sent_and_idle_connections_are_closed() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| config.common.http_header_timeout_secs = 1)
        .start()
        .await;
    let address = address(&app.users);

    // Connects and never sends a byte.
    let mut silent = TcpStream::connect(&address).await.unwrap();
    // Sends half a request head, then stalls.
    let mut half = TcpStream::connect(&address).await.unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Makes one request, then keeps the connection alive without another.
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0_u8; 12];
    idle.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");

    for stream in [&mut silent, &mut half, &mut idle] {
        let took = closed_within(stream, Duration::from_secs(5)).await;
        assert!(took < Duration::from_secs(5), "closed after {took:?}");
    }
    // The service still serves.
    let live = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
}

#[tokio::test]
async fn arbitrary_methods_do_not_add_metric_series() {
    let app = Stack::users().await;
    for index in 0..50 {
        let method = reqwest::Method::from_bytes(format!("FUZZ{index}").as_bytes()).unwrap();
        let response = app
            .client
            .request(method, app.url("/auth/login"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("FUZZ"), "a method became a label");
    assert!(
        metrics.contains(
            r#"http_requests_total{service="user-service",method="other",route="/auth/login",status="405"} "#
        ),
        "the refused methods are counted as `other`"
    );
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let token = "metrics-token-0123456789abcdef";
    let app = Stack::builder(Service::Users)
        .users_config(move |config| {
            config.common.metrics_token = Some(SecretString::from(token.to_owned()));
        })
        .start()
        .await;
    let anonymous = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-0123456789abcdeX")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let scraper = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(scraper.status(), StatusCode::OK);
    assert!(scraper
        .text()
        .await
        .unwrap()
        .contains("http_requests_total"));
}

#[tokio::test]
async fn production_without_a_token_does_not_serve_metrics() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| {
            config.common.app_env = chat_models::config::AppEnv::Production;
            config.cookie_secure = true;
        })
        .start()
        .await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
