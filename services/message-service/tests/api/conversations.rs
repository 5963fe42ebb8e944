use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use chat_testkit::{code, eventually, Service, Stack};

#[tokio::test]
async fn a_direct_conversation_is_one_per_pair_even_under_concurrent_opens() {
    let stack = Stack::messages().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;

    let opens = (0..8).map(|i| {
        let (me, other) = if i % 2 == 0 {
            (&ann, &bob)
        } else {
            (&bob, &ann)
        };
        stack.call(
            Method::POST,
            "/conversations/direct",
            me,
            Some(json!({ "user_uuid": other.id })),
        )
    });
    let responses = futures::future::join_all(opens).await;
    let mut created = 0;
    let mut ids = Vec::new();
    for response in responses {
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("unexpected {other}"),
        }
        let body: Value = response.json().await.unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(created, 1);
    ids.dedup();
    assert_eq!(ids.len(), 1, "every open returned the same conversation");
    let stored = stack
        .mongo
        .collection::<bson::Document>("conversations")
        .count_documents(bson::doc! {})
        .await
        .unwrap();
    assert_eq!(stored, 1);

    let view = stack.conversation(&ann, &ids[0]).await;
    assert_eq!(view["is_group"], false);
    let mut names: Vec<&str> = view["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["username"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["ann", "bob"]);
}

#[tokio::test]
async fn direct_conversations_need_a_friendship() {
    let stack = Stack::messages().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    let refused = stack
        .expect(
            Method::POST,
            "/conversations/direct",
            &ann,
            Some(json!({ "user_uuid": bob.id })),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&refused), "not_friends");
    let to_self = stack
        .expect(
            Method::POST,
            "/conversations/direct",
            &ann,
            Some(json!({ "user_uuid": ann.id })),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(code(&to_self), "cannot_target_self");

    stack.befriend(&ann, &bob).await;
    let conversation = stack.direct(&ann, &bob).await;
    stack.send(&ann, &conversation, "hi").await;
    stack.unfriend(&bob, &ann).await;
    // message-service remembers friendships, and forgets one as soon as `friendship.removed`
    // reaches it (well within the 30 s it would otherwise keep it).
    eventually("the ended friendship is forgotten", async || {
        stack.conversation(&ann, &conversation).await["can_send"] == false
    })
    .await;
    // History stays readable; new messages need the friendship back.
    let refused = stack
        .expect(
            Method::POST,
            &format!("/conversations/{conversation}/messages"),
            &ann,
            Some(json!({ "text": "still there?" })),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&refused), "not_friends");
    let history = stack
        .expect(
            Method::GET,
            &format!("/conversations/{conversation}/messages"),
            &ann,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);

    // Nor can old messages be rewritten.
    let first = history["messages"][0]["id"].as_str().unwrap();
    let edit = stack
        .expect(
            Method::PATCH,
            &format!("/conversations/{conversation}/messages/{first}"),
            &ann,
            Some(json!({ "text": "rewritten" })),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&edit), "not_friends");

    // Both members hear that the conversation became read-only, and writable again.
    assert_eq!(
        stack.conversation(&ann, &conversation).await["can_send"],
        false
    );
    let updates = |events: &[Value]| -> Vec<bool> {
        events
            .iter()
            .filter(|e| e["type"] == "conversation.updated")
            .map(|e| e["data"]["conversation"]["can_send"].as_bool().unwrap())
            .collect()
    };
    let events = stack
        .events_until(|events| updates(events).contains(&false))
        .await;
    let closed = events
        .iter()
        .find(|e| e["type"] == "conversation.updated")
        .unwrap();
    assert_eq!(closed["data"]["audience"].as_array().unwrap().len(), 2);
    stack.befriend(&ann, &bob).await;
    stack
        .events_until(|events| updates(events).ends_with(&[false, true]))
        .await;
    eventually("the new friendship is known", async || {
        stack.conversation(&bob, &conversation).await["can_send"] == true
    })
    .await;
    stack.send(&bob, &conversation, "welcome back").await;
}

#[tokio::test]
async fn the_list_is_ordered_by_activity_paginated_and_empty_for_newcomers() {
    let stack = Stack::messages().await;
    let ann = stack.register("ann").await;
    let empty = stack
        .expect(Method::GET, "/conversations", &ann, None, StatusCode::OK)
        .await;
    assert_eq!(empty["conversations"], json!([]));
    assert!(empty["next_cursor"].is_null());

    let mut conversations = Vec::new();
    for name in ["bob", "cat", "dan", "eve", "fay"] {
        let friend = stack.register(name).await;
        stack.befriend(&ann, &friend).await;
        let id = stack.direct(&ann, &friend).await;
        stack
            .send(&friend, &id, &format!("hello from {name}"))
            .await;
        conversations.push(id);
    }
    // The oldest conversation becomes the most recent.
    stack.send(&ann, &conversations[0], "back to bob").await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/conversations?limit=2&cursor={cursor}"),
            None => "/conversations?limit=2".to_owned(),
        };
        let page = stack
            .expect(Method::GET, &path, &ann, None, StatusCode::OK)
            .await;
        for conversation in page["conversations"].as_array().unwrap() {
            seen.push(conversation.clone());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let ids: Vec<&str> = seen.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = conversations.iter().rev().map(String::as_str).collect();
    expected.retain(|id| *id != conversations[0]);
    expected.insert(0, &conversations[0]);
    assert_eq!(ids, expected);
    assert_eq!(seen[0]["last_message"]["preview"], "back to bob");
    assert_eq!(seen[0]["unread_count"], 0, "my own reply read everything");
    assert_eq!(seen[1]["last_message"]["preview"], "hello from fay");
    assert_eq!(seen[1]["unread_count"], 1);
    assert_eq!(seen[1]["participants"].as_array().unwrap().len(), 2);

    let bad = stack
        .expect(
            Method::GET,
            "/conversations?cursor=garbage",
            &ann,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(code(&bad), "validation_failed");
    stack
        .expect(
            Method::GET,
            "/conversations?limit=0",
            &ann,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
}

#[tokio::test]
async fn outsiders_cannot_see_or_touch_a_conversation() {
    let stack = Stack::messages().await;
    let (ann, bob, eve) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("eve").await,
    );
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    let message = stack.send(&ann, &id, "private").await;
    let message_id = message["id"].as_str().unwrap();

    for (method, path, body) in [
        (Method::GET, format!("/conversations/{id}"), None),
        (Method::GET, format!("/conversations/{id}/messages"), None),
        (
            Method::POST,
            format!("/conversations/{id}/messages"),
            Some(json!({ "text": "let me in" })),
        ),
        (
            Method::POST,
            format!("/conversations/{id}/read"),
            Some(json!({ "message_id": message_id })),
        ),
        (
            Method::PATCH,
            format!("/conversations/{id}/messages/{message_id}"),
            Some(json!({ "text": "edited" })),
        ),
        (Method::DELETE, format!("/conversations/{id}"), None),
    ] {
        let body = stack
            .expect(method, &path, &eve, body, StatusCode::NOT_FOUND)
            .await;
        assert_eq!(code(&body), "conversation_not_found", "{path}");
    }
    // Malformed ids are simply not found; no token is 401.
    let body = stack
        .expect(
            Method::GET,
            "/conversations/not-an-id",
            &ann,
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(code(&body), "conversation_not_found");
    let anonymous = stack
        .client
        .get(format!("{}/conversations", stack.messages))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn group_admins_manage_members_and_details() {
    let stack = Stack::builder(Service::Messages)
        .messages_config(|config| config.max_group_members = 4)
        .start()
        .await;
    let (ann, bob, cat, dan, eve) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("cat").await,
        stack.register("dan").await,
        stack.register("eve").await,
    );
    for friend in [&bob, &cat, &dan] {
        stack.befriend(&ann, friend).await;
    }

    // Members must be the creator's friends; a name is required.
    let stranger = stack
        .expect(
            Method::POST,
            "/conversations/groups",
            &ann,
            Some(json!({ "name": "Trip", "member_uuids": [bob.id, eve.id] })),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&stranger), "not_friends");
    let nameless = stack
        .expect(
            Method::POST,
            "/conversations/groups",
            &ann,
            Some(json!({ "name": "  ", "member_uuids": [bob.id] })),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(nameless["error"]["details"][0]["field"], "name");

    let group = stack
        .expect(
            Method::POST,
            "/conversations/groups",
            &ann,
            Some(json!({ "name": "Trip", "description": "Summer", "member_uuids": [bob.id, cat.id] })),
            StatusCode::CREATED,
        )
        .await;
    let id = group["id"].as_str().unwrap().to_owned();
    assert_eq!(group["admin"], ann.id.as_str());
    assert_eq!(group["participant_uuids"].as_array().unwrap().len(), 3);

    // Only the admin edits, adds, removes.
    let path = format!("/conversations/{id}");
    let not_admin = stack
        .expect(
            Method::PATCH,
            &path,
            &bob,
            Some(json!({ "name": "Mine" })),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&not_admin), "not_group_admin");
    let renamed = stack
        .expect(
            Method::PATCH,
            &path,
            &ann,
            Some(json!({ "name": "Trip 2026", "description": null, "picture": "https://img.test/p.png" })),
            StatusCode::OK,
        )
        .await;
    assert_eq!(renamed["name"], "Trip 2026");
    assert!(renamed["description"].is_null());
    assert_eq!(renamed["picture"], "https://img.test/p.png");
    // An array is not an edit (serde would read it as the fields in order).
    let array = stack
        .expect(
            Method::PATCH,
            &path,
            &ann,
            Some(json!(["renamed"])),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(code(&array), "malformed_json");
    assert_eq!(stack.conversation(&ann, &id).await["name"], "Trip 2026");

    let members = format!("/conversations/{id}/members");
    stack
        .expect(
            Method::POST,
            &members,
            &bob,
            Some(json!({ "user_uuids": [dan.id] })),
            StatusCode::FORBIDDEN,
        )
        .await;
    let added = stack
        .expect(
            Method::POST,
            &members,
            &ann,
            Some(json!({ "user_uuids": [dan.id] })),
            StatusCode::OK,
        )
        .await;
    assert_eq!(added["participant_uuids"].as_array().unwrap().len(), 4);
    stack.befriend(&ann, &eve).await;
    let full = stack
        .expect(
            Method::POST,
            &members,
            &ann,
            Some(json!({ "user_uuids": [eve.id] })),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(code(&full), "group_full");

    let kick_dan = format!("/conversations/{id}/members/{}", dan.id);
    stack
        .expect(Method::DELETE, &kick_dan, &bob, None, StatusCode::FORBIDDEN)
        .await;
    stack
        .expect(
            Method::DELETE,
            &kick_dan,
            &ann,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    stack
        .expect(Method::GET, &path, &dan, None, StatusCode::NOT_FOUND)
        .await;

    // Admin transfer, then the new admin leaving hands admin to the longest-standing member.
    let transfer = format!("/conversations/{id}/admin");
    stack
        .expect(
            Method::PUT,
            &transfer,
            &bob,
            Some(json!({ "user_uuid": bob.id })),
            StatusCode::FORBIDDEN,
        )
        .await;
    let moved = stack
        .expect(
            Method::PUT,
            &transfer,
            &ann,
            Some(json!({ "user_uuid": cat.id })),
            StatusCode::OK,
        )
        .await;
    assert_eq!(moved["admin"], cat.id.as_str());
    stack
        .expect(
            Method::DELETE,
            &format!("/conversations/{id}/members/{}", cat.id),
            &cat,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let after = stack.conversation(&ann, &id).await;
    assert_eq!(after["admin"], ann.id.as_str());
    assert_eq!(after["participant_uuids"], json!([ann.id, bob.id]));

    // Deleting a group is the admin's; the last member leaving deletes it too.
    stack
        .expect(Method::DELETE, &path, &bob, None, StatusCode::FORBIDDEN)
        .await;
    stack
        .expect(
            Method::DELETE,
            &format!("/conversations/{id}/members/{}", ann.id),
            &ann,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let bob_alone = stack.conversation(&bob, &id).await;
    assert_eq!(bob_alone["admin"], bob.id.as_str());
    stack
        .expect(
            Method::DELETE,
            &format!("/conversations/{id}/members/{}", bob.id),
            &bob,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let left = stack
        .mongo
        .collection::<bson::Document>("conversations")
        .count_documents(bson::doc! {})
        .await
        .unwrap();
    assert_eq!(left, 0);

    let events = stack
        .events_until(|events| {
            let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
            [
                "conversation.created",
                "conversation.updated",
                "conversation.members_added",
                "conversation.member_removed",
                "conversation.deleted",
            ]
            .iter()
            .all(|kind| types.contains(kind))
        })
        .await;
    let kicked = events
        .iter()
        .find(|e| e["type"] == "conversation.member_removed")
        .unwrap();
    assert_eq!(kicked["data"]["user_uuids"], json!([dan.id]));
    assert!(kicked["data"]["audience"]
        .as_array()
        .unwrap()
        .contains(&json!(dan.id)));
}

#[tokio::test]
async fn deleting_a_direct_conversation_hides_it_until_the_next_message() {
    let stack = Stack::messages().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    stack.send(&bob, &id, "one").await;
    stack
        .expect(
            Method::DELETE,
            &format!("/conversations/{id}"),
            &ann,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let list = stack
        .expect(Method::GET, "/conversations", &ann, None, StatusCode::OK)
        .await;
    assert_eq!(list["conversations"], json!([]));
    let bobs = stack
        .expect(Method::GET, "/conversations", &bob, None, StatusCode::OK)
        .await;
    assert_eq!(bobs["conversations"].as_array().unwrap().len(), 1);

    stack.send(&bob, &id, "two").await;
    let list = stack
        .expect(Method::GET, "/conversations", &ann, None, StatusCode::OK)
        .await;
    assert_eq!(list["conversations"][0]["id"], id.as_str());
    assert_eq!(list["conversations"][0]["unread_count"], 2);
}

#[tokio::test]
async fn a_deleted_account_leaves_its_conversations() {
    let stack = Stack::messages().await;
    let (ann, bob, cat) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("cat").await,
    );
    stack.befriend(&ann, &bob).await;
    stack.befriend(&ann, &cat).await;
    let direct = stack.direct(&bob, &ann).await;
    stack.send(&bob, &direct, "bye").await;
    let group = stack.group(&ann, "G", &[&bob, &cat]).await;
    stack
        .expect(
            Method::PUT,
            &format!("/conversations/{group}/admin"),
            &ann,
            Some(json!({ "user_uuid": bob.id })),
            StatusCode::OK,
        )
        .await;
    stack.send(&bob, &group, "from bob").await;

    stack.delete_account(&bob).await;

    // The consumer runs asynchronously: wait for the group to lose bob and the direct
    // conversation to go (in whichever order it handles them).
    let mut view = Value::Null;
    for _ in 0..50 {
        view = stack.conversation(&ann, &group).await;
        let direct_gone = stack
            .call(Method::GET, &format!("/conversations/{direct}"), &ann, None)
            .await
            .status()
            == StatusCode::NOT_FOUND;
        if view["participant_uuids"].as_array().unwrap().len() == 2 && direct_gone {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(view["participant_uuids"], json!([ann.id, cat.id]));
    assert_eq!(view["admin"], ann.id.as_str(), "admin passed on");
    stack
        .expect(
            Method::GET,
            &format!("/conversations/{direct}"),
            &ann,
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    let history = stack
        .expect(
            Method::GET,
            &format!("/conversations/{group}/messages"),
            &ann,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(history["messages"][0]["text"], "");
    assert!(history["messages"][0]["deleted_at"].is_string());
}

#[tokio::test]
async fn concurrent_additions_never_pass_the_member_cap() {
    let stack = Stack::builder(Service::Messages)
        .messages_config(|config| config.max_group_members = 4)
        .start()
        .await;
    let ann = stack.register("ann").await;
    let mut friends = Vec::new();
    for name in ["bob", "cat", "dan", "eve", "fay"] {
        let friend = stack.register(name).await;
        stack.befriend(&ann, &friend).await;
        friends.push(friend);
    }
    let id = stack.group(&ann, "Cap", &[&friends[0]]).await;
    let path = format!("/conversations/{id}/members");
    // Each addition fits alone (2 + 2 = 4); both together would not.
    let (first, second) = tokio::join!(
        stack.call(
            Method::POST,
            &path,
            &ann,
            Some(json!({ "user_uuids": [friends[1].id, friends[2].id] }))
        ),
        stack.call(
            Method::POST,
            &path,
            &ann,
            Some(json!({ "user_uuids": [friends[3].id, friends[4].id] }))
        ),
    );
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let view = stack.conversation(&ann, &id).await;
    assert_eq!(view["participant_uuids"].as_array().unwrap().len(), 4);
}

/// Profiles are remembered, and forgotten when user-service announces a change
/// (`user.updated`): the new name shows well within the 30 s a profile is kept.
#[tokio::test]
async fn a_changed_profile_shows_in_conversations_once_announced() {
    let stack = Stack::messages().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    let names = async || -> Vec<String> {
        let mut names: Vec<String> = stack.conversation(&ann, &id).await["participants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["username"].as_str().unwrap().to_owned())
            .collect();
        names.sort_unstable();
        names
    };
    assert_eq!(names().await, ["ann", "bob"]);
    let renamed = reqwest::Client::new()
        .patch(format!("{}/users/me", stack.users))
        .bearer_auth(&bob.access)
        .json(&json!({ "username": "robert" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    eventually("the new name shows", async || {
        names().await == ["ann", "robert"]
    })
    .await;
}
