//! `/internal/users/batch`, for the other services.

use reqwest::StatusCode;
use serde_json::{json, Value};

use chat_testkit::{error_code, Stack, SERVICE_TOKEN};

#[tokio::test]
async fn batch_returns_each_known_user_once_by_uuid_or_username() {
    let app = Stack::users().await;
    let lia = app.register("lia").await;
    let max = app.register("Max").await;
    app.register("ned").await;

    let response = app
        .client
        .post(app.url("/internal/users/batch"))
        .header("x-service-token", SERVICE_TOKEN)
        .json(&json!({
            "uuids": [lia.id, max.id, uuid::Uuid::new_v4()],
            "usernames": ["MAX", "ghost"],
        }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let names: Vec<&str> = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lia", "Max"]);
    assert!(body["users"][0].get("email").is_none());
}

#[tokio::test]
async fn batch_needs_the_service_token_and_a_bounded_request() {
    let app = Stack::users().await;
    let session = app.register("olga").await;
    let body = json!({ "uuids": [session.id] });

    let missing = app
        .client
        .post(app.url("/internal/users/batch"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(missing).await, "invalid_service_token");
    let wrong = app
        .client
        .post(app.url("/internal/users/batch"))
        .header("x-service-token", "guess")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // A user's access token is not a service token.
    let user = app
        .client
        .post(app.url("/internal/users/batch"))
        .bearer_auth(&session.access)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::UNAUTHORIZED);

    let too_many: Vec<String> = (0..501).map(|i| format!("user{i}")).collect();
    let response = app
        .client
        .post(app.url("/internal/users/batch"))
        .header("x-service-token", SERVICE_TOKEN)
        .json(&json!({ "usernames": too_many }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let empty: Value = app
        .client
        .post(app.url("/internal/users/batch"))
        .header("x-service-token", SERVICE_TOKEN)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(empty["users"], json!([]));
}
