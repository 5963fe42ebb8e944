//! Listing and revoking signed-in devices.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use chat_testkit::{error_code, Stack, PASSWORD};

#[tokio::test]
async fn sessions_list_every_device_and_marks_the_current_one() {
    let app = Stack::users().await;
    let first = app.register("zoe").await;
    // The second device says what it is; the first sent no User-Agent.
    let agent = "Mozilla/5.0 (X11; Linux x86_64) ChatTest/1.0";
    let signed_in: Value = app
        .client
        .post(app.url("/auth/login"))
        .header("user-agent", agent)
        .json(&json!({ "login": "zoe", "password": PASSWORD, "token_delivery": "body" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second_session = signed_in["session_id"].as_str().unwrap();
    let second_access = signed_in["tokens"]["access_token"].as_str().unwrap();

    let response = app.get_as("/auth/sessions", second_access).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["session_id"], second_session, "newest first");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[1]["session_id"], first.session_id.as_str());
    assert_eq!(sessions[1]["current"], false);
    assert_eq!(sessions[0]["user_agent"], agent);
    assert!(sessions[1]["user_agent"].is_null(), "{sessions:?}");
    assert!(
        sessions[0]["expires_at"].as_str().unwrap() > sessions[0]["last_used_at"].as_str().unwrap()
    );
}

#[tokio::test]
async fn revoking_another_session_ends_it_and_keeps_mine() {
    let app = Stack::users().await;
    let mine = app.register("abe").await;
    let other = app.login("abe", PASSWORD).await;

    let path = format!("/auth/sessions/{}", other.session_id);
    let response = app
        .send_as(Method::DELETE, &path, &mine.access, json!({}))
        .await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_as("/users/me", &other.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(&other.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_as("/users/me", &mine.access).await.status(),
        StatusCode::OK
    );
    let remaining: Value = app
        .get_as("/auth/sessions", &mine.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(remaining["sessions"].as_array().unwrap().len(), 1);

    // Revoking it again, or someone else's session, is a 404.
    let again = app
        .send_as(Method::DELETE, &path, &mine.access, json!({}))
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(again).await, "session_not_found");
    let stranger = app.register("bea").await;
    let foreign = format!("/auth/sessions/{}", stranger.session_id);
    assert_eq!(
        app.send_as(Method::DELETE, &foreign, &mine.access, json!({}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_as("/users/me", &stranger.access).await.status(),
        StatusCode::OK
    );

    let malformed = app
        .send_as(
            Method::DELETE,
            "/auth/sessions/not-a-uuid",
            &mine.access,
            json!({}),
        )
        .await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(malformed).await, "invalid_path");
}

#[tokio::test]
async fn a_signed_out_session_stays_out_when_redis_loses_its_keys() {
    let app = Stack::users().await;
    let kept = app.register("ida").await;
    let gone = app.login("ida", PASSWORD).await;
    let logout = app
        .client
        .post(app.url("/auth/logout"))
        .bearer_auth(&gone.access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    // Redis loses this stack's keys (as a restart without persistence would).
    chat_models::testing::delete_redis_keys(&std::env::var("REDIS_URL").unwrap(), &app.prefix)
        .await;
    // Never accepted meanwhile; refused again once user-service rebuilt the list.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status = app.get_as("/users/me", &gone.access).await.status();
        assert_ne!(status, StatusCode::OK, "a signed-out session came back");
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            std::time::Instant::now() < deadline,
            "the list was not rebuilt"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let response = app.get_as("/users/me", &gone.access).await;
    assert_eq!(error_code(response).await, "session_revoked");
    assert_eq!(
        app.get_as("/users/me", &kept.access).await.status(),
        StatusCode::OK
    );
}
