//! Blocks, the internal relationship route, and clean-up after an account is deleted.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use chat_testkit::{error_code, Stack, SERVICE_TOKEN};

#[tokio::test]
async fn blocking_ends_the_friendship_and_pending_requests_and_refuses_new_ones() {
    let stack = Stack::friends().await;
    let (ann, bob, cat) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("cat").await,
    );
    stack.send_request(&ann, &bob).await;
    stack.send_request(&bob, &ann).await;
    stack.send_request(&cat, &ann).await;

    for target in [&bob, &cat] {
        let blocked = stack
            .call(Method::PUT, &format!("/blocks/{}", target.id), &ann, None)
            .await;
        assert_eq!(blocked.status(), StatusCode::NO_CONTENT);
    }

    assert!(stack.names("/friends", &ann).await.is_empty());
    assert!(stack
        .names("/friends/requests/outgoing", &cat)
        .await
        .is_empty());
    assert_eq!(stack.relationship(&ann, &bob).await, "blocked");
    assert_eq!(stack.relationship(&bob, &ann).await, "blocked_by");
    let mut blocked = stack.names("/blocks", &ann).await;
    blocked.sort();
    assert_eq!(blocked, ["bob", "cat"]);

    // The blocked user gets a generic refusal; the blocker is told to unblock first.
    let from_blocked = stack.send_request(&bob, &ann).await;
    assert_eq!(from_blocked.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(from_blocked).await, "request_not_allowed");
    let from_blocker = stack.send_request(&ann, &bob).await;
    assert_eq!(from_blocker.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(from_blocker).await, "user_blocked");

    stack
        .wait_for_events(&[
            "friendship.removed",
            "friend_request.cancelled",
            "user.blocked",
        ])
        .await;

    // Blocking twice is fine; unblocking restores nothing but the possibility to ask.
    assert_eq!(
        stack
            .call(Method::PUT, &format!("/blocks/{}", bob.id), &ann, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let unblocked = stack
        .call(Method::DELETE, &format!("/blocks/{}", bob.id), &ann, None)
        .await;
    assert_eq!(unblocked.status(), StatusCode::NO_CONTENT);
    assert_eq!(stack.relationship(&ann, &bob).await, "none");
    assert_eq!(
        stack.send_request(&bob, &ann).await.status(),
        StatusCode::CREATED
    );

    let self_block = stack
        .call(Method::PUT, &format!("/blocks/{}", ann.id), &ann, None)
        .await;
    assert_eq!(self_block.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn other_services_ask_about_a_pair_with_the_service_token() {
    let stack = Stack::friends().await;
    let (ann, bob, cat) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("cat").await,
    );
    stack.send_request(&ann, &bob).await;
    stack.send_request(&bob, &ann).await;
    stack
        .call(Method::PUT, &format!("/blocks/{}", ann.id), &cat, None)
        .await;
    let ask = |a: &str, b: &str| {
        stack
            .client
            .get(format!(
                "{}/internal/relationships?a={a}&b={b}",
                stack.friends
            ))
            .header("x-service-token", SERVICE_TOKEN)
            .send()
    };

    let friends: serde_json::Value = ask(&ann.id, &bob.id).await.unwrap().json().await.unwrap();
    let blocked: serde_json::Value = ask(&ann.id, &cat.id).await.unwrap().json().await.unwrap();

    assert_eq!(friends, json!({ "friends": true, "blocked": false }));
    assert_eq!(blocked, json!({ "friends": false, "blocked": true }));
    let without_token = stack
        .client
        .get(format!(
            "{}/internal/relationships?a={}&b={}",
            stack.friends, ann.id, bob.id
        ))
        .bearer_auth(&ann.access)
        .send()
        .await
        .unwrap();
    assert_eq!(without_token.status(), StatusCode::UNAUTHORIZED);

    // Several at once: only friends come back (cat blocked ann; a stranger is no friend).
    let check = |token: &'static str, others: Vec<&str>| {
        stack
            .client
            .post(format!("{}/internal/friends/check", stack.friends))
            .header("x-service-token", token)
            .json(&json!({ "user_uuid": ann.id, "others": others }))
            .send()
    };
    let stranger = uuid::Uuid::new_v4().to_string();
    let answer: serde_json::Value = check(SERVICE_TOKEN, vec![&bob.id, &cat.id, &stranger])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({ "friends": [bob.id] }));
    let wrong = check("not-the-service-token-at-all", vec![&bob.id])
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let too_many: Vec<String> = (0..501).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let refused = check(SERVICE_TOKEN, too_many.iter().map(String::as_str).collect())
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_deleted_account_leaves_no_rows_behind() {
    let stack = Stack::friends().await;
    let (ann, bob, cat) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("cat").await,
    );
    stack.send_request(&ann, &bob).await;
    stack.send_request(&bob, &ann).await;
    stack.send_request(&bob, &cat).await;
    stack
        .call(Method::PUT, &format!("/blocks/{}", ann.id), &bob, None)
        .await;

    stack.delete_account(&bob).await;

    let mut remaining = -1;
    for _ in 0..50 {
        remaining = sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT COUNT(*) FROM friendships WHERE user_uuid = ? OR friend_uuid = ?) \
                  + (SELECT COUNT(*) FROM friend_requests WHERE sender_uuid = ? OR receiver_uuid = ?) \
                  + (SELECT COUNT(*) FROM blocks WHERE blocker_uuid = ? OR blocked_uuid = ?)",
        )
        .bind(&bob.id).bind(&bob.id).bind(&bob.id).bind(&bob.id).bind(&bob.id).bind(&bob.id)
        .fetch_one(stack.friends_db())
        .await
        .unwrap();
        if remaining == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(remaining, 0, "rows of the deleted user remain");
    assert_eq!(stack.relationship(&ann, &cat).await, "none");
}

#[tokio::test]
async fn health_readiness_and_docs_are_served() {
    let stack = Stack::friends().await;
    let ready = stack.get_json("/ready").await;
    assert_eq!(ready["checks"], json!({ "mysql": "ok", "redis": "ok" }));
    let openapi = stack.get_json("/openapi.json").await;
    for path in [
        "/friends/requests",
        "/friends",
        "/blocks/{user_uuid}",
        "/relationships/{user_uuid}",
        "/internal/relationships",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path} missing");
    }
}
