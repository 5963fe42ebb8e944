use std::collections::HashSet;

use bson::oid::ObjectId;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use chat_testkit::{code, error_code, json_with, Stack, TestUser};

/// An admin and five friends of theirs in a group: the admin, the members, the group.
async fn busy_group(stack: &Stack) -> (TestUser, Vec<TestUser>, String) {
    let admin = stack.register("admin").await;
    let mut members = Vec::new();
    for i in 0..5 {
        let member = stack.register(&format!("member{i}")).await;
        stack.befriend(&admin, &member).await;
        members.push(member);
    }
    let id = stack
        .group(&admin, "busy", &members.iter().collect::<Vec<_>>())
        .await;
    (admin, members, id)
}

async fn pair(stack: &Stack) -> (TestUser, TestUser, String) {
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    (ann, bob, id)
}

#[tokio::test]
async fn concurrent_retries_with_one_nonce_store_one_message() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    let path = format!("/conversations/{id}/messages");
    let retries = (0..6).map(|_| {
        stack.call(
            Method::POST,
            &path,
            &ann,
            Some(json!({ "text": "only once", "nonce": "n-1" })),
        )
    });
    let responses = futures::future::join_all(retries).await;
    let mut created = 0;
    let mut ids = HashSet::new();
    for response in responses {
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("unexpected {other}"),
        }
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["nonce"], "n-1");
        ids.insert(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1);
    let stored = stack
        .mongo
        .collection::<bson::Document>("messages")
        .count_documents(bson::doc! {})
        .await
        .unwrap();
    assert_eq!(stored, 1);

    // Another nonce is another message; so is the same nonce from someone else.
    let again = stack
        .expect(
            Method::POST,
            &path,
            &ann,
            Some(json!({ "text": "twice", "nonce": "n-2" })),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(again["seq"], 2);
    let bobs = stack
        .expect(
            Method::POST,
            &path,
            &bob,
            Some(json!({ "text": "mine", "nonce": "n-1" })),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(bobs["seq"], 3);
}

#[tokio::test]
async fn concurrent_first_reads_keep_the_furthest_position() {
    let stack = Stack::messages().await;
    let ann = stack.register("ann").await;
    for round in 0..4 {
        let reader = stack.register(&format!("reader{round}")).await;
        stack.befriend(&ann, &reader).await;
        let id = stack.direct(&ann, &reader).await;
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(stack.send(&ann, &id, &format!("m{i}")).await["id"].clone());
        }
        let path = format!("/conversations/{id}/read");
        let (near, far) = tokio::join!(
            stack.call(
                Method::POST,
                &path,
                &reader,
                Some(json!({ "message_id": ids[0] }))
            ),
            stack.call(
                Method::POST,
                &path,
                &reader,
                Some(json!({ "message_id": ids[4] }))
            ),
        );
        assert_eq!(near.status(), StatusCode::NO_CONTENT);
        assert_eq!(far.status(), StatusCode::NO_CONTENT);
        let view = stack.conversation(&reader, &id).await;
        assert_eq!(view["last_read_seq"], 5, "round {round}");
        assert_eq!(view["unread_count"], 0);
    }
}

#[tokio::test]
async fn paging_after_a_message_misses_nothing_while_others_write() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    let first = stack.send(&ann, &id, "m0").await;
    const WRITES: usize = 40;

    let writers = async {
        let half = WRITES / 2;
        let ann_sends = async {
            for i in 0..half {
                stack.send(&ann, &id, &format!("a{i}")).await;
            }
        };
        let bob_sends = async {
            for i in 0..half {
                stack.send(&bob, &id, &format!("b{i}")).await;
            }
        };
        tokio::join!(ann_sends, bob_sends);
    };
    let reader = async {
        let mut seen: Vec<Value> = Vec::new();
        let mut last = first["id"].as_str().unwrap().to_owned();
        let mut idle = 0;
        while seen.len() < WRITES && idle < 200 {
            let page = stack
                .expect(
                    Method::GET,
                    &format!("/conversations/{id}/messages?after={last}&limit=3"),
                    &bob,
                    None,
                    StatusCode::OK,
                )
                .await;
            let messages = page["messages"].as_array().unwrap();
            if messages.is_empty() {
                idle += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
            for message in messages {
                seen.push(message.clone());
            }
            last = messages.last().unwrap()["id"].as_str().unwrap().to_owned();
        }
        seen
    };
    let ((), seen) = tokio::join!(writers, reader);
    let seqs: Vec<i64> = seen.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    let expected: Vec<i64> = (2..=i64::try_from(WRITES).unwrap() + 1).collect();
    assert_eq!(seqs, expected, "every message once, in order");

    // Paging back with `before` also visits each exactly once.
    let mut back = Vec::new();
    let mut path = format!("/conversations/{id}/messages?limit=7");
    loop {
        let page = stack
            .expect(Method::GET, &path, &ann, None, StatusCode::OK)
            .await;
        let messages = page["messages"].as_array().unwrap();
        back.extend(messages.iter().map(|m| m["seq"].as_i64().unwrap()));
        if page["has_more"] == false {
            break;
        }
        let oldest = messages.last().unwrap()["id"].as_str().unwrap();
        path = format!("/conversations/{id}/messages?limit=7&before={oldest}");
    }
    let all: Vec<i64> = (1..=i64::try_from(WRITES).unwrap() + 1).rev().collect();
    assert_eq!(back, all);
}

#[tokio::test]
async fn unread_counts_follow_reads_and_receipts_show_in_direct_conversations() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    let mut sent = Vec::new();
    for text in ["one", "two", "three"] {
        sent.push(stack.send(&ann, &id, text).await);
    }
    let bobs = stack.conversation(&bob, &id).await;
    assert_eq!(bobs["unread_count"], 3);
    assert_eq!(stack.conversation(&ann, &id).await["unread_count"], 0);

    let read = format!("/conversations/{id}/read");
    stack
        .expect(
            Method::POST,
            &read,
            &bob,
            Some(json!({ "message_id": sent[1]["id"] })),
            StatusCode::NO_CONTENT,
        )
        .await;
    assert_eq!(stack.conversation(&bob, &id).await["unread_count"], 1);
    // Reading an older message does not move the position back.
    stack
        .expect(
            Method::POST,
            &read,
            &bob,
            Some(json!({ "message_id": sent[0]["id"] })),
            StatusCode::NO_CONTENT,
        )
        .await;
    let bobs = stack.conversation(&bob, &id).await;
    assert_eq!(bobs["unread_count"], 1);
    assert_eq!(bobs["last_read_seq"], 2);

    // Ann sees Bob's receipt.
    let anns = stack.conversation(&ann, &id).await;
    let receipt = anns["read_states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|state| state["user_uuid"] == bob.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(receipt["last_read_message_id"], sent[1]["id"]);

    // A deleted message no longer counts as unread.
    stack
        .expect(
            Method::DELETE,
            &format!(
                "/conversations/{id}/messages/{}",
                sent[2]["id"].as_str().unwrap()
            ),
            &ann,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    assert_eq!(stack.conversation(&bob, &id).await["unread_count"], 0);

    let unknown = stack
        .expect(
            Method::POST,
            &read,
            &bob,
            Some(json!({ "message_id": ObjectId::new().to_hex() })),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(code(&unknown), "message_not_found");

    let events = stack
        .events_until(|events| events.iter().any(|e| e["type"] == "read.updated"))
        .await;
    let receipt = events.iter().find(|e| e["type"] == "read.updated").unwrap();
    assert_eq!(receipt["data"]["read"]["user_uuid"], bob.id.as_str());
    let audience = receipt["data"]["audience"].as_array().unwrap();
    assert!(audience.contains(&json!(ann.id)) && audience.contains(&json!(bob.id)));
}

#[tokio::test]
async fn authors_edit_and_delete_their_own_messages_which_keep_their_place() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    let first = stack.send(&ann, &id, "frist").await;
    let reply = stack
        .expect(
            Method::POST,
            &format!("/conversations/{id}/messages"),
            &bob,
            Some(json!({ "text": "typo?", "reply_to": first["id"] })),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(reply["reply_to"], first["id"]);
    let first_path = format!(
        "/conversations/{id}/messages/{}",
        first["id"].as_str().unwrap()
    );

    let not_mine = stack
        .expect(
            Method::PATCH,
            &first_path,
            &bob,
            Some(json!({ "text": "mine now" })),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&not_mine), "not_message_author");
    let edited = stack
        .expect(
            Method::PATCH,
            &first_path,
            &ann,
            Some(json!({ "text": "  first  " })),
            StatusCode::OK,
        )
        .await;
    assert_eq!(edited["text"], "first");
    assert!(edited["edited_at"].is_string());

    let reply_path = format!(
        "/conversations/{id}/messages/{}",
        reply["id"].as_str().unwrap()
    );
    stack
        .expect(
            Method::DELETE,
            &reply_path,
            &ann,
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    stack
        .expect(
            Method::DELETE,
            &reply_path,
            &bob,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let gone = stack
        .expect(
            Method::PATCH,
            &reply_path,
            &bob,
            Some(json!({ "text": "back" })),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(code(&gone), "message_deleted");

    let history = stack
        .expect(
            Method::GET,
            &format!("/conversations/{id}/messages"),
            &ann,
            None,
            StatusCode::OK,
        )
        .await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["seq"], 2);
    assert_eq!(messages[0]["text"], "");
    assert!(messages[0]["deleted_at"].is_string());
    assert_eq!(messages[1]["text"], "first");
    let conversation = stack.conversation(&ann, &id).await;
    assert_eq!(
        conversation["last_message"]["preview"], "",
        "the preview follows the deletion"
    );

    let events = stack
        .events_until(|events| {
            ["message.created", "message.updated", "message.deleted"]
                .iter()
                .all(|kind| events.iter().any(|e| e["type"] == *kind))
        })
        .await;
    let created = events
        .iter()
        .find(|e| e["type"] == "message.created")
        .unwrap();
    assert_eq!(created["data"]["message"]["text"], "frist");
    assert_eq!(created["data"]["audience"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_messages_get_clear_errors() {
    let stack = Stack::messages().await;
    let (ann, _bob, id) = pair(&stack).await;
    let path = format!("/conversations/{id}/messages");
    for (body, field, problem) in [
        (json!({ "text": "   " }), "text", "empty"),
        // Text may be left out only with attachments.
        (json!({}), "text", "empty"),
        (json!({ "text": "x".repeat(4001) }), "text", "too_long"),
        (json!({ "text": "ok", "nonce": "" }), "nonce", "invalid"),
        (
            json!({ "text": "ok", "reply_to": "nope" }),
            "reply_to",
            "invalid_id",
        ),
    ] {
        let error = stack
            .expect(
                Method::POST,
                &path,
                &ann,
                Some(body),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        assert_eq!(error["error"]["details"][0]["field"], field);
        assert_eq!(error["error"]["details"][0]["code"], problem);
    }
    // A well-formed reference to a message this conversation does not have: not found, as
    // the message's own path would be.
    let unknown = stack
        .expect(
            Method::POST,
            &path,
            &ann,
            Some(json!({ "text": "ok", "reply_to": ObjectId::new().to_hex() })),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(unknown["error"]["code"], "message_not_found");
    stack
        .expect(
            Method::POST,
            &path,
            &ann,
            Some(json!({ "text": "x".repeat(4000) })),
            StatusCode::CREATED,
        )
        .await;
    let malformed = stack
        .expect(
            Method::POST,
            &path,
            &ann,
            Some(json!({ "text": 1 })),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(code(&malformed), "malformed_json");
    stack
        .expect(
            Method::GET,
            &format!("{path}?limit=101"),
            &ann,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    // With both, the messages between the two, oldest first.
    let sent: Vec<String> = {
        let mut sent = Vec::new();
        for text in ["first", "middle", "last"] {
            sent.push(
                stack.send(&ann, &id, text).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        sent
    };
    let between = stack
        .get(
            &format!("{path}?after={}&before={}", sent[0], sent[2]),
            &ann,
        )
        .await;
    let texts: Vec<&str> = between["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["middle"]);
    let unknown = stack
        .expect(
            Method::GET,
            &format!("{path}?before={}", ObjectId::new().to_hex()),
            &ann,
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(code(&unknown), "message_not_found");
}

/// The stages of the plan MongoDB picks for `find` with this filter and sort, top down, with
/// the index each scan uses (`IXSCAN conversation_seq`).
async fn plan_stages(
    stack: &Stack,
    collection: &str,
    filter: bson::Document,
    sort: bson::Document,
) -> Vec<String> {
    let explained = stack
        .mongo
        .run_command(bson::doc! {
            "explain": { "find": collection, "filter": filter, "sort": sort, "limit": 20 },
            "verbosity": "queryPlanner",
        })
        .await
        .unwrap();
    let mut stages = Vec::new();
    let mut pending = vec![explained
        .get_document("queryPlanner")
        .unwrap()
        .get_document("winningPlan")
        .unwrap()
        .clone()];
    while let Some(stage) = pending.pop() {
        let name = stage.get_str("stage").unwrap_or("?").to_owned();
        stages.push(match stage.get_str("indexName") {
            Ok(index) => format!("{name} {index}"),
            Err(_) => name,
        });
        if let Ok(input) = stage.get_document("inputStage") {
            pending.push(input.clone());
        }
        if let Ok(inputs) = stage.get_array("inputStages") {
            pending.extend(inputs.iter().filter_map(|s| s.as_document().cloned()));
        }
    }
    stages
}

/// Asserts a plan reads one index range in order: no collection scan, no in-memory sort.
fn assert_index_backed(stages: &[String], index: &str) {
    assert!(
        stages.contains(&format!("IXSCAN {index}")),
        "{stages:?} does not scan {index}"
    );
    assert!(
        !stages.iter().any(|s| s == "COLLSCAN" || s == "SORT"),
        "{stages:?} scans the collection or sorts in memory"
    );
}

#[tokio::test]
async fn history_and_the_conversation_list_are_index_backed() {
    let stack = Stack::messages().await;
    let (ann, _bob, id) = pair(&stack).await;
    for i in 0..30 {
        stack.send(&ann, &id, &format!("m{i}")).await;
    }
    let conversation = ObjectId::parse_str(&id).unwrap();
    for page in [
        message_service::db::messages::Page::Latest(30),
        message_service::db::messages::Page::Before(20),
        message_service::db::messages::Page::After(5),
    ] {
        let (filter, order) = message_service::db::messages::history_query(conversation, page, 20);
        let stages = plan_stages(&stack, "messages", filter, bson::doc! { "seq": order }).await;
        assert_index_backed(&stages, "conversation_seq");
    }
    // What changed after a version.
    let (filter, sort) = message_service::db::changes::changes_query(conversation, 5);
    let stages = plan_stages(&stack, "messages", filter, sort).await;
    assert_index_backed(&stages, "conversation_version");
    let me = uuid::Uuid::parse_str(&ann.id).unwrap();
    // The list's unread and mention counts: one range per conversation of the page.
    let filter =
        message_service::db::messages::unread_filter(&[(conversation, 3), (ObjectId::new(), 0)]);
    let stages = plan_stages(&stack, "messages", filter, bson::doc! {}).await;
    assert_index_backed(&stages, "conversation_seq");
    // The list's own query, first page and a later one.
    for cursor in [
        None,
        Some((bson::DateTime::now().timestamp_millis(), ObjectId::new())),
    ] {
        let (filter, sort) = message_service::db::conversations::list_query(me, cursor);
        let stages = plan_stages(&stack, "conversations", filter, sort).await;
        assert_index_backed(&stages, "participants_updatedAt");
    }
    // The check can fail: a query on an unindexed field is a collection scan.
    let unindexed = plan_stages(
        &stack,
        "messages",
        bson::doc! { "text": "m1" },
        bson::doc! {},
    )
    .await;
    assert!(unindexed.iter().any(|s| s == "COLLSCAN"), "{unindexed:?}");
}

#[tokio::test]
async fn health_readiness_and_docs_are_served() {
    let stack = Stack::messages().await;
    for path in ["/health", "/ready", "/openapi.json"] {
        let response = stack.client.get(stack.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let spec = stack.get_json("/openapi.json").await;
    assert!(spec["paths"]["/conversations/{conversation_id}/messages"].is_object());
}

/// A busy group: every member sending at once. Sends of one conversation share transactions
/// (group commit); numbering stays gap-free, each send gets its own message, and each sender's
/// read position is their own newest message.
#[tokio::test]
async fn members_sending_at_once_get_gap_free_numbers_and_their_own_read_positions() {
    let stack = Stack::messages().await;
    let (admin, members, id) = busy_group(&stack).await;
    let senders: Vec<&TestUser> = std::iter::once(&admin).chain(&members).collect();
    const EACH: usize = 8;
    let path = format!("/conversations/{id}/messages");
    let sends = senders.iter().enumerate().flat_map(|(who, sender)| {
        let path = &path;
        let stack = &stack;
        (0..EACH).map(move |n| async move {
            let body = json!({ "text": format!("{who}:{n}"), "nonce": format!("n-{n}") });
            let sent = stack
                .expect(Method::POST, path, sender, Some(body), StatusCode::CREATED)
                .await;
            (who, sent)
        })
    });
    let sent = futures::future::join_all(sends).await;
    let total = senders.len() * EACH;
    let mut seqs: Vec<i64> = sent
        .iter()
        .map(|(_, m)| m["seq"].as_i64().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=i64::try_from(total).unwrap()).collect::<Vec<_>>()
    );
    for (who, message) in &sent {
        let text = message["text"].as_str().unwrap();
        assert!(text.starts_with(&format!("{who}:")), "{who} got {text}");
        assert_eq!(message["sender_uuid"], senders[*who].id.as_str());
    }
    let ids: HashSet<&str> = sent
        .iter()
        .map(|(_, m)| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), total);
    // Sends waited for each other: fewer transactions than sends.
    let metrics = stack.metrics_at(&stack.messages).await;
    let counter = |name: &str| -> u64 {
        metrics
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.rsplit(' ').next())
            .map_or(0, |count| count.parse().unwrap())
    };
    let (sends, transactions) = (
        counter("message_sends_batched_total"),
        counter("message_send_transactions_total"),
    );
    assert!(sends >= total as u64, "{sends} sends counted");
    assert!(
        transactions < sends,
        "{transactions} transactions for {sends} sends"
    );

    let stored = crate::page_seqs(&stack, &admin, &format!("{path}?limit=100")).await;
    assert_eq!(
        stored,
        (1..=i64::try_from(total).unwrap())
            .rev()
            .collect::<Vec<_>>()
    );
    for (who, sender) in senders.iter().enumerate() {
        let own = sent.iter().filter(|(w, _)| *w == who);
        let newest = own.map(|(_, m)| m["seq"].as_i64().unwrap()).max().unwrap();
        let view = stack.conversation(sender, &id).await;
        assert_eq!(view["last_read_seq"], newest, "sender {who}");
        let unread_from_others = sent
            .iter()
            .filter(|(w, m)| *w != who && m["seq"].as_i64().unwrap() > newest)
            .count();
        assert_eq!(view["unread_count"], unread_from_others, "sender {who}");
        assert_eq!(view["last_message"]["seq"], total);
    }

    // Sending the same nonces again repeats the stored messages: nothing new is numbered.
    let again = senders.iter().map(|sender| {
        let body = json!({ "text": "again", "nonce": "n-0" });
        stack.expect(Method::POST, &path, sender, Some(body), StatusCode::OK)
    });
    for repeated in futures::future::join_all(again).await {
        assert_ne!(repeated["text"], "again");
    }
    let view = stack.conversation(&admin, &id).await;
    assert_eq!(view["last_seq"], total);
}

/// A send refused inside a shared transaction (an attachment that is not the sender's) is
/// refused alone: the sends stored with it keep gap-free numbers.
#[tokio::test]
async fn a_refused_send_among_concurrent_ones_fails_alone() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    let path = format!("/conversations/{id}/messages");
    let stranger = ObjectId::new().to_hex();
    let sends = (0..24).map(|n| {
        let (sender, body) = if n % 6 == 5 {
            (
                &ann,
                json!({ "text": "with a file", "attachment_ids": [stranger] }),
            )
        } else {
            let sender = if n % 2 == 0 { &ann } else { &bob };
            (sender, json!({ "text": format!("m{n}") }))
        };
        let path = &path;
        let stack = &stack;
        async move { stack.call(Method::POST, path, sender, Some(body)).await }
    });
    let mut seqs = Vec::new();
    let mut refused = 0;
    for response in futures::future::join_all(sends).await {
        match response.status() {
            StatusCode::CREATED => {
                let body: Value = response.json().await.unwrap();
                seqs.push(body["seq"].as_i64().unwrap());
            }
            StatusCode::NOT_FOUND => {
                assert_eq!(error_code(response).await, "attachment_not_found");
                refused += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(refused, 4);
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
    let view = stack.conversation(&ann, &id).await;
    assert_eq!(view["last_seq"], 20);
}

/// The preview is written by the same update as the counter (a pipeline, where a string
/// starting with `$` would name a field): text like that is kept as it is.
#[tokio::test]
async fn a_preview_keeps_text_that_looks_like_a_field() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    stack.send(&ann, &id, "$lastSeq costs $5").await;
    let view = stack.conversation(&bob, &id).await;
    assert_eq!(view["last_message"]["preview"], "$lastSeq costs $5");
    assert_eq!(view["last_message"]["seq"], 1);
    assert_eq!(view["last_seq"], 1);
    assert_eq!(view["last_message"]["sender_uuid"], ann.id.as_str());
}

/// A send's membership is remembered after the first one (no lookup before the next), and
/// checked again when stored: the members, mentions and admin a send is stored with are those
/// at that moment, whatever an instance remembers. Sends here go through a second instance,
/// which holds no socket and so does not even see the removals announced.
#[tokio::test]
async fn sends_are_checked_against_the_members_when_stored() {
    let stack = Stack::messages().await;
    let other = stack.instance(&[]).await;
    let ann = stack.register("ann").await;
    let (bob, cat, dan) = (
        stack.register("bob").await,
        stack.register("cat").await,
        stack.register("dan").await,
    );
    for friend in [&bob, &cat, &dan] {
        stack.befriend(&ann, friend).await;
    }
    let id = stack.group(&ann, "team", &[&bob, &cat, &dan]).await;
    let url = format!("{}/conversations/{id}/messages", other.url);
    let sent = stack
        .call_at(
            Method::POST,
            url.clone(),
            &bob,
            Some(json!({ "text": "hi @cat", "mentions": [cat.id] })),
        )
        .await;
    let sent = json_with(sent, StatusCode::CREATED, "a mention").await;
    assert_eq!(sent["mentions"], json!([cat.id]));
    let everyone = json!({ "text": "@everyone", "mention_everyone": true });
    let by_admin = stack
        .call_at(Method::POST, url.clone(), &ann, Some(everyone.clone()))
        .await;
    json_with(by_admin, StatusCode::CREATED, "@everyone by the admin").await;

    // Cat is removed, Bob leaves, and Ann hands the group to Dan.
    let members = format!("/conversations/{id}/members");
    for (who, by) in [(&cat, &ann), (&bob, &bob)] {
        let path = format!("{members}/{}", who.id);
        stack
            .expect(Method::DELETE, &path, by, None, StatusCode::NO_CONTENT)
            .await;
    }
    let transfer = format!("/conversations/{id}/admin");
    stack
        .expect(
            Method::PUT,
            &transfer,
            &ann,
            Some(json!({ "user_uuid": dan.id })),
            StatusCode::OK,
        )
        .await;

    let gone = stack
        .call_at(
            Method::POST,
            url.clone(),
            &bob,
            Some(json!({ "text": "still here?" })),
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(gone).await, "conversation_not_found");
    let body = json!({ "text": "@cat @dan", "mentions": [cat.id, dan.id] });
    let mention = stack
        .call_at(Method::POST, url.clone(), &ann, Some(body))
        .await;
    let mention = json_with(mention, StatusCode::CREATED, "a mention").await;
    assert_eq!(mention["mentions"], json!([dan.id]));
    let not_admin = stack.call_at(Method::POST, url, &ann, Some(everyone)).await;
    assert_eq!(not_admin.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(not_admin).await, "not_group_admin");
    let view = stack.conversation(&ann, &id).await;
    assert_eq!(view["last_seq"], 3, "the refused sends took no number");
}

/// A busy group whose members are spread over two instances: their transactions meet on the
/// conversation's document, the instances then take turns, and numbering stays gap-free with
/// every send stored once.
#[tokio::test]
async fn members_on_two_instances_sending_at_once_get_gap_free_numbers() {
    let stack = Stack::messages().await;
    let other = stack.instance(&[]).await;
    let (admin, members, id) = busy_group(&stack).await;
    let senders: Vec<&TestUser> = std::iter::once(&admin).chain(&members).collect();
    const ROUNDS: usize = 4;
    const EACH: usize = 6;
    let mut seqs = Vec::new();
    for round in 0..ROUNDS {
        let sends = senders.iter().enumerate().flat_map(|(who, sender)| {
            let (stack, id, other) = (&stack, &id, &other);
            (0..EACH).map(move |n| async move {
                let base = if (who + n) % 2 == 0 {
                    &stack.messages
                } else {
                    &other.url
                };
                let url = format!("{base}/conversations/{id}/messages");
                let body = json!({ "text": format!("{round}:{who}:{n}") });
                let response = stack.call_at(Method::POST, url, sender, Some(body)).await;
                json_with(response, StatusCode::CREATED, "a send").await["seq"]
                    .as_i64()
                    .unwrap()
            })
        });
        seqs.extend(futures::future::join_all(sends).await);
    }
    let total = i64::try_from(senders.len() * EACH * ROUNDS).unwrap();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    let view = stack.conversation(&admin, &id).await;
    assert_eq!(view["last_seq"], total);
}
