//! Sending, answering and withdrawing friend requests; the friends list; the rules.

use reqwest::{Method, StatusCode};
use serde_json::json;

use chat_testkit::{error_code, Service, Stack};

#[tokio::test]
async fn a_request_by_username_accepted_makes_friends_on_both_sides() {
    let stack = Stack::friends().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);

    let sent = stack.send_request(&ann, &bob).await;
    assert_eq!(sent.status(), StatusCode::CREATED);
    let sent: serde_json::Value = sent.json().await.unwrap();
    assert_eq!(sent["relationship"]["status"], "outgoing");
    assert_eq!(sent["user"]["username"], "bob");
    let request_id = sent["relationship"]["request_id"].as_u64().unwrap();

    assert_eq!(
        stack.names("/friends/requests/incoming", &bob).await,
        ["ann"]
    );
    assert_eq!(
        stack.names("/friends/requests/outgoing", &ann).await,
        ["bob"]
    );
    assert_eq!(stack.relationship(&bob, &ann).await, "incoming");

    let accepted = stack
        .call(
            Method::POST,
            &format!("/friends/requests/{request_id}/accept"),
            &bob,
            None,
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    assert_eq!(
        accepted.json::<serde_json::Value>().await.unwrap()["relationship"]["status"],
        "friends"
    );

    assert_eq!(stack.names("/friends", &ann).await, ["bob"]);
    assert_eq!(stack.names("/friends", &bob).await, ["ann"]);
    assert_eq!(stack.relationship(&ann, &bob).await, "friends");
    assert!(stack
        .names("/friends/requests/incoming", &bob)
        .await
        .is_empty());

    let events = stack
        .wait_for_events(&["friend_request.received", "friend_request.accepted"])
        .await;
    let received = events
        .iter()
        .find(|e| e["type"] == "friend_request.received")
        .unwrap();
    assert_eq!(received["data"]["sender_uuid"], ann.id.as_str());
    assert_eq!(received["data"]["receiver_uuid"], bob.id.as_str());
    assert_eq!(received["data"]["request_id"], request_id);
}

#[tokio::test]
async fn requests_can_be_rejected_by_the_receiver_and_cancelled_by_the_sender_only() {
    let stack = Stack::friends().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);

    let first: serde_json::Value = stack.send_request(&ann, &bob).await.json().await.unwrap();
    let first = first["relationship"]["request_id"].as_u64().unwrap();
    // The sender cannot accept or reject their own request; the receiver cannot cancel it.
    for (who, path) in [
        (&ann, format!("/friends/requests/{first}/accept")),
        (&ann, format!("/friends/requests/{first}/reject")),
    ] {
        let response = stack.call(Method::POST, &path, who, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(error_code(response).await, "request_not_found");
    }
    let path = format!("/friends/requests/{first}");
    assert_eq!(
        stack.call(Method::DELETE, &path, &bob, None).await.status(),
        StatusCode::NOT_FOUND
    );

    let reject_path = format!("/friends/requests/{first}/reject");
    let rejected = stack.call(Method::POST, &reject_path, &bob, None).await;
    assert_eq!(rejected.status(), StatusCode::NO_CONTENT);
    assert_eq!(stack.relationship(&ann, &bob).await, "none");
    // Settled requests cannot be settled again.
    assert_eq!(
        stack
            .call(Method::POST, &reject_path, &bob, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Asking again after a rejection is allowed; then the sender withdraws.
    let second: serde_json::Value = stack.send_request(&ann, &bob).await.json().await.unwrap();
    let second = second["relationship"]["request_id"].as_u64().unwrap();
    let cancelled = stack
        .call(
            Method::DELETE,
            &format!("/friends/requests/{second}"),
            &ann,
            None,
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    assert!(stack
        .names("/friends/requests/incoming", &bob)
        .await
        .is_empty());
    stack
        .wait_for_events(&["friend_request.rejected", "friend_request.cancelled"])
        .await;
}

#[tokio::test]
async fn asking_someone_who_already_asked_you_accepts_their_request() {
    let stack = Stack::friends().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.send_request(&ann, &bob).await;

    let crossing = stack.send_request(&bob, &ann).await;

    assert_eq!(crossing.status(), StatusCode::OK);
    assert_eq!(
        crossing.json::<serde_json::Value>().await.unwrap()["relationship"]["status"],
        "friends"
    );
    assert_eq!(stack.names("/friends", &ann).await, ["bob"]);
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM friend_requests WHERE status = 'pending'")
            .fetch_one(stack.friends_db())
            .await
            .unwrap();
    assert_eq!(pending, 0);
}

#[tokio::test]
async fn the_rules_refuse_self_unknown_duplicate_and_existing_friends() {
    let stack = Stack::friends().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);

    let to_self = stack.send_request(&ann, &ann).await;
    assert_eq!(to_self.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(to_self).await, "cannot_target_self");

    let unknown = stack
        .call(
            Method::POST,
            "/friends/requests",
            &ann,
            Some(json!({ "username": "ghost" })),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(unknown).await, "user_not_found");
    let unknown_uuid = stack
        .call(
            Method::POST,
            "/friends/requests",
            &ann,
            Some(json!({ "user_uuid": uuid::Uuid::new_v4() })),
        )
        .await;
    assert_eq!(unknown_uuid.status(), StatusCode::NOT_FOUND);

    for body in [json!({}), json!({ "username": "bob", "user_uuid": bob.id })] {
        let response = stack
            .call(Method::POST, "/friends/requests", &ann, Some(body))
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    // By uuid this time.
    let sent = stack
        .call(
            Method::POST,
            "/friends/requests",
            &ann,
            Some(json!({ "user_uuid": bob.id })),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::CREATED);
    let again = stack.send_request(&ann, &bob).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(again).await, "request_already_sent");

    stack.send_request(&bob, &ann).await;
    let friends_already = stack.send_request(&ann, &bob).await;
    assert_eq!(friends_already.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(friends_already).await, "already_friends");

    let anonymous = stack
        .client
        .get(format!("{}/friends", stack.friends))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn concurrent_requests_between_two_users_never_leave_two_pending() {
    let stack = Stack::friends().await;
    for round in 0..5 {
        let (ann, bob) = (
            stack.register(&format!("ann{round}")).await,
            stack.register(&format!("bob{round}")).await,
        );

        let (a1, b1, a2, b2) = tokio::join!(
            stack.send_request(&ann, &bob),
            stack.send_request(&bob, &ann),
            stack.send_request(&ann, &bob),
            stack.send_request(&bob, &ann),
        );

        for response in [a1, b1, a2, b2] {
            let status = response.status();
            assert!(
                [StatusCode::OK, StatusCode::CREATED, StatusCode::CONFLICT].contains(&status),
                "{status}"
            );
        }
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM friend_requests WHERE status = 'pending' AND sender_uuid IN (?, ?)",
        )
        .bind(&ann.id)
        .bind(&bob.id)
        .fetch_one(stack.friends_db())
        .await
        .unwrap();
        let friends = stack.relationship(&ann, &bob).await == "friends";
        // Either one request waits, or a crossing request turned it into a friendship.
        assert!(
            pending == 1 && !friends || pending == 0 && friends,
            "pending {pending}, friends {friends}"
        );
    }
}

#[tokio::test]
async fn outgoing_requests_are_capped() {
    let stack = Stack::builder(Service::Friends)
        .friends_config(|config| config.max_outgoing_requests = 2)
        .start()
        .await;
    let ann = stack.register("ann").await;
    let (bob, cat, dan) = (
        stack.register("bob").await,
        stack.register("cat").await,
        stack.register("dan").await,
    );
    assert_eq!(
        stack.send_request(&ann, &bob).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        stack.send_request(&ann, &cat).await.status(),
        StatusCode::CREATED
    );

    let third = stack.send_request(&ann, &dan).await;

    assert_eq!(third.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(third).await, "too_many_pending_requests");
    // Accepting someone else's request is not capped.
    stack.send_request(&dan, &ann).await;
    assert_eq!(stack.relationship(&ann, &dan).await, "incoming");
}

#[tokio::test]
async fn removing_a_friend_ends_it_for_both_and_is_announced() {
    let stack = Stack::friends().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.send_request(&ann, &bob).await;
    stack.send_request(&bob, &ann).await;

    let removed = stack
        .call(Method::DELETE, &format!("/friends/{}", bob.id), &ann, None)
        .await;

    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert!(stack.names("/friends", &bob).await.is_empty());
    let again = stack
        .call(Method::DELETE, &format!("/friends/{}", bob.id), &ann, None)
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(again).await, "not_friends");
    let events = stack.wait_for_events(&["friendship.removed"]).await;
    let event = events
        .iter()
        .find(|e| e["type"] == "friendship.removed")
        .unwrap();
    assert_eq!(event["data"]["user_uuid"], ann.id.as_str());
    assert_eq!(event["data"]["friend_uuid"], bob.id.as_str());
}

#[tokio::test]
async fn the_friends_list_pages_without_repeats() {
    let stack = Stack::friends().await;
    let ann = stack.register("ann").await;
    for name in ["bob", "cat", "dan"] {
        let friend = stack.register(name).await;
        stack.send_request(&friend, &ann).await;
        stack.send_request(&ann, &friend).await;
    }

    let first = stack.get("/friends?limit=2", &ann).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = stack
        .get(&format!("/friends?limit=2&after={cursor}"), &ann)
        .await;

    let mut names: Vec<String> = first["users"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["users"].as_array().unwrap())
        .map(|entry| entry["user"]["username"].as_str().unwrap().to_owned())
        .collect();
    assert!(second["next_cursor"].is_null());
    names.sort();
    assert_eq!(names, ["bob", "cat", "dan"]);
    let bad = stack
        .call(Method::GET, "/friends?limit=0", &ann, None)
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
