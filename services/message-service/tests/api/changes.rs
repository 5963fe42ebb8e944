//! Changes that reach members who were away, reactions, pins, mentions and replies, against
//! the real services and stores.

use chat_models::api::ws::{ClientMessage, ResumeFrame, ResumePoint, ServerFrame};
use chat_testkit::{code, next_frame, Service, Stack, TestUser, WsClient};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn pair(stack: &Stack) -> (TestUser, TestUser, String) {
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    (ann, bob, id)
}

fn reaction_path(conversation: &str, message: &Value, emoji: &str) -> String {
    let emoji: String = emoji.bytes().map(|byte| format!("%{byte:02X}")).collect();
    format!(
        "/conversations/{conversation}/messages/{}/reactions/{emoji}",
        message["id"].as_str().unwrap()
    )
}

fn pin_path(conversation: &str, message: &Value) -> String {
    format!(
        "/conversations/{conversation}/messages/{}/pin",
        message["id"].as_str().unwrap()
    )
}

#[tokio::test]
async fn changes_made_while_a_member_was_away_reach_it_by_resume_and_by_the_feed() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    let first = stack.send(&ann, &id, "first").await;
    let second = stack.send(&ann, &id, "second").await;
    let third = stack.send(&ann, &id, "third").await;
    let (ws, ready) = WsClient::open(&stack.messages, &bob).await;
    let seen = &ready.conversations[0].info;
    let (last_seq, version) = (seen.last_seq, seen.version);
    assert_eq!(last_seq, 3);
    drop(ws);

    // While bob is away: an edit, a deletion, a reaction and a pin of older messages.
    let path = |message: &Value| {
        format!(
            "/conversations/{id}/messages/{}",
            message["id"].as_str().unwrap()
        )
    };
    stack
        .expect(
            Method::PATCH,
            &path(&first),
            &ann,
            Some(json!({ "text": "first, edited" })),
            StatusCode::OK,
        )
        .await;
    stack
        .expect(
            Method::DELETE,
            &path(&second),
            &ann,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    stack
        .expect(
            Method::PUT,
            &reaction_path(&id, &third, "👍"),
            &ann,
            None,
            StatusCode::OK,
        )
        .await;
    stack
        .expect(
            Method::PUT,
            &pin_path(&id, &first),
            &ann,
            None,
            StatusCode::OK,
        )
        .await;

    // Resume: the changed messages, each in its current state, then the new version.
    let (mut ws, _) = WsClient::open(&stack.messages, &bob).await;
    ws.send_message(ClientMessage::Resume(ResumeFrame {
        conversations: vec![ResumePoint {
            conversation_id: id.clone(),
            last_seq,
            last_version: Some(version),
        }],
    }))
    .await;
    let mut updated = Vec::new();
    let done = loop {
        match ws.next().await.expect("the replay comes") {
            ServerFrame::MessageUpdated(message) => updated.push(message),
            ServerFrame::ResumeDone { conversations } => break conversations,
            ServerFrame::MessageCreated(message) => panic!("nothing new was sent: {message:?}"),
            _ => {}
        }
    };
    let by_text: Vec<(i64, &str)> = updated.iter().map(|m| (m.seq, m.text.as_str())).collect();
    assert_eq!(
        by_text,
        [(2, ""), (3, "third"), (1, "first, edited")],
        "oldest change first"
    );
    assert!(updated[0].deleted_at.is_some());
    assert_eq!(updated[1].reactions[0].emoji, "👍");
    assert_eq!(updated[1].reactions[0].count, 1);
    assert!(updated[2].pinned_at.is_some());
    assert_eq!(done[0].version, version + 4);
    assert!(!done[0].changes_truncated);

    // The feed says the same, and nothing after the version it reports.
    let feed = stack
        .get(
            &format!("/conversations/{id}/changes?since={version}"),
            &bob,
        )
        .await;
    let ids: Vec<&str> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [&second["id"], &third["id"], &first["id"]].map(|id| id.as_str().unwrap())
    );
    assert_eq!(feed["version"], version + 4);
    assert_eq!(feed["has_more"], false);
    let after = stack
        .get(
            &format!("/conversations/{id}/changes?since={}", version + 4),
            &bob,
        )
        .await;
    assert_eq!(after["changes"], json!([]));
    // Paging: one change at a time walks the same list.
    let page = stack
        .get(
            &format!("/conversations/{id}/changes?since={version}&limit=1"),
            &bob,
        )
        .await;
    assert_eq!(page["changes"][0]["id"], second["id"]);
    assert_eq!(page["has_more"], true);
    assert_eq!(page["version"], version + 2);
}

#[tokio::test]
async fn reactions_are_idempotent_validated_bounded_and_told_as_deltas() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    let message = stack.send(&ann, &id, "react to me").await;
    let (mut ws, _) = WsClient::open(&stack.messages, &ann).await;
    for _ in 0..2 {
        let view = stack
            .expect(
                Method::PUT,
                &reaction_path(&id, &message, "🎉"),
                &bob,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            view["reactions"],
            json!([{ "emoji": "🎉", "count": 1, "user_uuids": [bob.id] }])
        );
    }
    let added = next_frame!(ws, ServerFrame::ReactionAdded(change) => change);
    assert_eq!((added.emoji.as_str(), added.count), ("🎉", 1));
    assert_eq!(added.user_uuid.to_string(), bob.id);
    // The repeated PUT told nobody.
    assert!(ws
        .drain("once")
        .await
        .iter()
        .all(|f| !matches!(f, ServerFrame::ReactionAdded(_))));
    for _ in 0..2 {
        let view = stack
            .expect(
                Method::DELETE,
                &reaction_path(&id, &message, "🎉"),
                &bob,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(view["reactions"], json!([]));
    }
    let removed = next_frame!(ws, ServerFrame::ReactionRemoved(change) => change);
    assert_eq!(removed.count, 0);

    let invalid = stack
        .expect(
            Method::PUT,
            &reaction_path(&id, &message, "nope"),
            &bob,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(code(&invalid), "validation_failed");
    let emoji = [
        "😀", "😃", "😄", "😁", "😆", "😅", "😂", "🙂", "🙃", "😉", "😊", "😇", "🥰", "😍", "🤩",
        "😘", "😗", "😚", "😙", "😋", "😛",
    ];
    for emoji in &emoji[..20] {
        stack
            .expect(
                Method::PUT,
                &reaction_path(&id, &message, emoji),
                &ann,
                None,
                StatusCode::OK,
            )
            .await;
    }
    let full = stack
        .expect(
            Method::PUT,
            &reaction_path(&id, &message, emoji[20]),
            &ann,
            None,
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(code(&full), "too_many_reactions");
    // An emoji already there still takes another member.
    let view = stack
        .expect(
            Method::PUT,
            &reaction_path(&id, &message, emoji[0]),
            &bob,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(view["reactions"].as_array().unwrap().len(), 20);
    assert_eq!(view["reactions"][0]["count"], 2);
}

#[tokio::test]
async fn concurrent_reactions_by_many_members_lose_none() {
    let stack = Stack::messages().await;
    let admin = stack.register("admin").await;
    let mut members = Vec::new();
    for n in 0..8 {
        let member = stack.register(&format!("member{n}")).await;
        stack.befriend(&admin, &member).await;
        members.push(member);
    }
    let id = stack
        .group(&admin, "crowd", &members.iter().collect::<Vec<_>>())
        .await;
    let message = stack.send(&admin, &id, "everyone react").await;

    let stack = &stack;
    let reactions = members.iter().enumerate().map(|(n, member)| {
        let emoji = if n % 2 == 0 { "👍" } else { "❤️" };
        let path = reaction_path(&id, &message, emoji);
        async move { stack.call(Method::PUT, &path, member, None).await.status() }
    });
    let statuses = futures::future::join_all(reactions).await;
    assert!(
        statuses.iter().all(|status| *status == StatusCode::OK),
        "{statuses:?}"
    );

    let history = stack
        .get(&format!("/conversations/{id}/messages"), &admin)
        .await;
    let reactions = &history["messages"][0]["reactions"];
    let counts: Vec<(String, u64)> = reactions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["emoji"].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let total: u64 = counts.iter().map(|(_, count)| count).sum();
    assert_eq!(total, 8, "{counts:?}");
    assert_eq!(counts.len(), 2, "{counts:?}");
}

#[tokio::test]
async fn pins_are_listed_newest_first_admin_only_in_groups_and_capped() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    let first = stack.send(&ann, &id, "pin me").await;
    let second = stack.send(&bob, &id, "me too").await;
    // In a direct conversation either member pins; a repeat changes nothing.
    for _ in 0..2 {
        stack
            .expect(
                Method::PUT,
                &pin_path(&id, &first),
                &bob,
                None,
                StatusCode::OK,
            )
            .await;
    }
    stack
        .expect(
            Method::PUT,
            &pin_path(&id, &second),
            &ann,
            None,
            StatusCode::OK,
        )
        .await;
    let pins = stack.get(&format!("/conversations/{id}/pins"), &ann).await;
    let texts: Vec<&str> = pins["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["me too", "pin me"]);
    assert_eq!(pins["messages"][1]["pinned_by"], bob.id.as_str());
    let unpinned = stack
        .expect(
            Method::DELETE,
            &pin_path(&id, &first),
            &ann,
            None,
            StatusCode::OK,
        )
        .await;
    assert!(unpinned["pinned_at"].is_null());
    let pins = stack.get(&format!("/conversations/{id}/pins"), &ann).await;
    assert_eq!(pins["messages"].as_array().unwrap().len(), 1);

    // In a group: the admin only, and at most 50.
    let group = stack.group(&ann, "pins", &[&bob]).await;
    let mut sent = Vec::new();
    for n in 0..51 {
        sent.push(stack.send(&ann, &group, &format!("g{n}")).await);
    }
    let refused = stack
        .expect(
            Method::PUT,
            &pin_path(&group, &sent[0]),
            &bob,
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&refused), "not_group_admin");
    for message in &sent[..50] {
        stack
            .expect(
                Method::PUT,
                &pin_path(&group, message),
                &ann,
                None,
                StatusCode::OK,
            )
            .await;
    }
    let full = stack
        .expect(
            Method::PUT,
            &pin_path(&group, &sent[50]),
            &ann,
            None,
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(code(&full), "too_many_pins");
    stack
        .expect(
            Method::DELETE,
            &pin_path(&group, &sent[3]),
            &ann,
            None,
            StatusCode::OK,
        )
        .await;
    stack
        .expect(
            Method::PUT,
            &pin_path(&group, &sent[50]),
            &ann,
            None,
            StatusCode::OK,
        )
        .await;
    let pins = stack
        .get(&format!("/conversations/{group}/pins"), &bob)
        .await;
    assert_eq!(pins["messages"].as_array().unwrap().len(), 50);
    assert_eq!(pins["messages"][0]["text"], "g50");
}

#[tokio::test]
async fn non_members_are_refused_everywhere() {
    let stack = Stack::messages().await;
    let (ann, _bob, id) = pair(&stack).await;
    let message = stack.send(&ann, &id, "private").await;
    let eve = stack.register("eve").await;
    for (method, path) in [
        (Method::PUT, reaction_path(&id, &message, "👍")),
        (Method::DELETE, reaction_path(&id, &message, "👍")),
        (Method::PUT, pin_path(&id, &message)),
        (Method::DELETE, pin_path(&id, &message)),
        (Method::GET, format!("/conversations/{id}/pins")),
        (Method::GET, format!("/conversations/{id}/changes?since=0")),
    ] {
        let refused = stack
            .expect(method.clone(), &path, &eve, None, StatusCode::NOT_FOUND)
            .await;
        assert_eq!(code(&refused), "conversation_not_found", "{method} {path}");
    }
}

#[tokio::test]
async fn mentions_keep_members_only_and_count_until_read() {
    let stack = Stack::builder(Service::Messages).start().await;
    let (ann, bob, cat) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("cat").await,
    );
    stack.befriend(&ann, &bob).await;
    stack.befriend(&ann, &cat).await;
    let id = stack.group(&ann, "m", &[&bob, &cat]).await;
    let path = format!("/conversations/{id}/messages");
    let outsider = uuid::Uuid::new_v4();
    let mention = stack
        .expect(
            Method::POST,
            &path,
            &bob,
            Some(json!({ "text": "hi @ann", "mentions": [ann.id, outsider, bob.id] })),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(
        mention["mentions"],
        json!([ann.id]),
        "members only, never the sender"
    );
    stack.send(&cat, &id, "no mention").await;
    let view = stack.conversation(&ann, &id).await;
    assert_eq!(
        (
            view["unread_count"].as_u64(),
            view["mention_count"].as_u64()
        ),
        (Some(2), Some(1))
    );
    stack.read(&ann, &id, &mention["id"]).await;
    let view = stack.conversation(&ann, &id).await;
    assert_eq!(
        (
            view["unread_count"].as_u64(),
            view["mention_count"].as_u64()
        ),
        (Some(1), Some(0))
    );

    // @everyone: the admin's; a member's is refused.
    let refused = stack
        .expect(
            Method::POST,
            &path,
            &bob,
            Some(json!({ "text": "@everyone", "mention_everyone": true })),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&refused), "not_group_admin");
    let everyone = stack
        .expect(
            Method::POST,
            &path,
            &ann,
            Some(json!({ "text": "@everyone look", "mention_everyone": true })),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(everyone["mentions_everyone"], true);
    for member in [&bob, &cat] {
        assert_eq!(stack.conversation(member, &id).await["mention_count"], 1);
    }
    assert_eq!(stack.conversation(&ann, &id).await["mention_count"], 0);
}

#[tokio::test]
async fn a_reply_carries_a_quote_of_the_original() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    let original = stack
        .send(&ann, &id, &format!("a long original {}", "x".repeat(200)))
        .await;
    let path = format!("/conversations/{id}/messages");
    let reply = stack
        .expect(
            Method::POST,
            &path,
            &bob,
            Some(json!({ "text": "answer", "reply_to": original["id"] })),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(reply["reply"]["id"], original["id"]);
    assert_eq!(reply["reply"]["sender_uuid"], ann.id.as_str());
    assert_eq!(reply["reply"]["deleted"], false);
    assert!(reply["reply"]["preview"].as_str().unwrap().ends_with('…'));
    stack
        .expect(
            Method::DELETE,
            &format!("{path}/{}", original["id"].as_str().unwrap()),
            &ann,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let history = stack.get(&path, &bob).await;
    let quoted = &history["messages"][0]["reply"];
    assert_eq!(quoted["deleted"], true);
    assert_eq!(quoted["preview"], "");
}
