//! The HTTP surface: error shapes for bad input, health, docs, CORS, request ids, start-up.

use reqwest::StatusCode;
use serde_json::{json, Value};

use chat_testkit::{error_code, user_config, Service, Stack};

#[tokio::test]
async fn malformed_bodies_get_json_errors_not_500s() {
    let app = Stack::users().await;
    let url = app.url("/auth/login");

    let broken = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"login\":")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(broken).await, "malformed_json");

    let wrong_type = app
        .client
        .post(&url)
        .json(&json!({ "login": 5, "password": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(wrong_type).await, "malformed_json");

    // The fields of a body in order, as an array, are not an object.
    let register = app.url("/auth/register");
    let array = app
        .client
        .post(&register)
        .json(&json!(["arr", "arr@example.com", "correct horse battery"]))
        .send()
        .await
        .unwrap();
    assert_eq!(array.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(array).await, "malformed_json");

    let not_json = app
        .client
        .post(&url)
        .body("login=a&password=b")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(not_json).await, "unsupported_media_type");
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| config.common.body_limit_bytes = 1024)
        .start()
        .await;
    let response = app
        .post(
            "/auth/register",
            &json!({ "username": "big", "email": "b@example.com", "password": "x".repeat(4096) }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(response).await, "payload_too_large");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = Stack::users().await;
    let missing = app
        .client
        .get(app.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(missing).await, "route_not_found");

    let wrong_method = app
        .client
        .delete(app.url("/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(wrong_method).await, "method_not_allowed");
}

#[tokio::test]
async fn health_readiness_jwks_and_docs_are_served() {
    let app = Stack::users().await;

    let health = app.get_json("/health").await;
    assert_eq!(health["status"], "ok");

    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(
        ready["checks"],
        json!({ "mysql": "ok", "mongodb": "ok", "redis": "ok", "storage": "ok" })
    );

    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );

    // Tokens issued by the app verify with the published JWKS alone.
    let session = app.register("pia").await;
    let mut verifier = chat_models::auth::JwtVerifier::new("chat-user-service", "chat");
    verifier
        .add_jwks(&serde_json::from_value(jwks).unwrap())
        .unwrap();
    assert_eq!(
        verifier.verify(&session.access).unwrap().sub.to_string(),
        session.id
    );

    let openapi: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/auth/register",
        "/auth/login",
        "/auth/refresh",
        "/users/me",
        "/users/search",
        "/internal/users/batch",
    ] {
        assert!(
            openapi["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn cors_allows_only_listed_origins_with_credentials() {
    let app = Stack::users().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };

    let allowed = preflight("http://localhost:3000").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );

    let denied = preflight("https://evil.example").await.unwrap();
    assert!(denied
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn request_ids_are_echoed_or_minted() {
    let app = Stack::users().await;
    let echoed = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let minted = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(minted.headers()["x-request-id"].len(), 36);
}

#[tokio::test]
async fn start_up_fails_clearly_without_a_signing_key_or_with_a_weak_service_token() {
    let url = |name: &str| std::env::var(name).unwrap_or_default();
    let config = user_config(
        "mysql://unused:1/x",
        &url("MONGODB_URI"),
        "unused",
        &url("REDIS_URL"),
        "unused:",
    );
    let error = user_service::startup::build(config)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("JWT_PRIVATE_KEY_FILE"), "{error}");

    let mut weak = user_config(
        "mysql://unused:1/x",
        &url("MONGODB_URI"),
        "unused",
        &url("REDIS_URL"),
        "unused:",
    );
    weak.common.service_token = "short".to_owned().into();
    let error = user_service::startup::build(weak)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("SERVICE_TOKEN"), "{error}");
}

#[tokio::test]
async fn only_the_proxy_appended_forwarded_address_keys_rate_limits() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| {
            config.trust_forwarded_for = true;
            config.rate_limit_login_ip = "2/60".parse().unwrap();
        })
        .start()
        .await;
    // A client rotating a fake leftmost address is still counted by the real (rightmost) one.
    for fake in ["1.1.1.1", "2.2.2.2"] {
        let response = app
            .client
            .post(app.url("/auth/login"))
            .header("x-forwarded-for", format!("{fake}, 10.0.0.7"))
            .json(&json!({ "login": "nobody", "password": "whatever1" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let third = app
        .client
        .post(app.url("/auth/login"))
        .header("x-forwarded-for", "3.3.3.3, 10.0.0.7")
        .json(&json!({ "login": "nobody", "password": "whatever1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight_and_takes_no_new_ones() {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut app = Stack::builder(Service::Users)
        // A login that takes a while: many argon2 passes.
        .users_config(|config| config.argon2_iterations = 12)
        .stop_users_when(async move {
            let _ = stopped.await;
        })
        .start()
        .await;
    let serving = app.users_serving.take().unwrap();
    app.register("slowpoke").await;
    let login = {
        let app_client = app.client.clone();
        let url = app.url("/auth/login");
        tokio::spawn(async move {
            app_client
                .post(url)
                .json(&serde_json::json!({ "login": "slowpoke", "password": "correct horse battery", "token_delivery": "body" }))
                .send()
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    let _ = stop.send(());
    let response = login
        .await
        .unwrap()
        .expect("the in-flight login is answered");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    tokio::time::timeout(std::time::Duration::from_secs(10), serving)
        .await
        .expect("the server stops once idle")
        .unwrap()
        .unwrap();
    let after = chat_testkit::new_client()
        .get(app.url("/health"))
        .send()
        .await;
    assert!(after.is_err(), "nothing listens after shutdown");
}

#[tokio::test]
async fn production_refuses_placeholder_secrets_and_insecure_cookies() {
    let url = |name: &str| std::env::var(name).unwrap_or_default();
    let production = || {
        let mut config = user_config(
            "mysql://unused:1/x",
            &url("MONGODB_URI"),
            "unused",
            &url("REDIS_URL"),
            "unused:",
        );
        config.common.app_env = chat_models::config::AppEnv::Production;
        config.cookie_secure = true;
        config
    };
    let mut placeholder = production();
    placeholder.common.service_token = "change-me-to-a-long-random-secret".to_owned().into();
    let error = user_service::startup::build(placeholder)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("SERVICE_TOKEN looks like a placeholder"),
        "{error}"
    );

    let mut insecure = production();
    insecure.cookie_secure = false;
    let error = user_service::startup::build(insecure)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("COOKIE_SECURE"), "{error}");
}
