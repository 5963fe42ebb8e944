//! The conversation list counts unread messages and mentions, and gathers receipts, for a
//! whole page at once: each conversation must still get its own.

use std::collections::HashMap;

use bson::oid::ObjectId;
use bson::{doc, Document};
use chat_testkit::{Service, Stack, TestUser};
use message_service::db::uuids;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

async fn page_of(stack: &Stack, user: &TestUser) -> HashMap<String, Value> {
    let page = stack
        .expect(Method::GET, "/conversations", user, None, StatusCode::OK)
        .await;
    page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|view| (view["id"].as_str().unwrap().to_owned(), view.clone()))
        .collect()
}

fn counts(view: &Value) -> (u64, u64) {
    (
        view["unread_count"].as_u64().unwrap(),
        view["mention_count"].as_u64().unwrap(),
    )
}

/// Who has read how far (message ids by reader), from a view's receipts.
fn receipts(view: &Value) -> HashMap<String, String> {
    view["read_states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|state| {
            (
                state["user_uuid"].as_str().unwrap().to_owned(),
                state["last_read_message_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_conversation_of_a_page_gets_its_own_counts_and_receipts() {
    let stack = Stack::builder(Service::Messages).start().await;
    let (ann, bob, cat) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("cat").await,
    );
    stack.befriend(&ann, &bob).await;
    stack.befriend(&ann, &cat).await;
    let with_bob = stack.direct(&ann, &bob).await;
    let with_cat = stack.direct(&ann, &cat).await;
    let group = stack.group(&ann, "g", &[&bob, &cat]).await;

    // With Bob: three from him, Ann has read the first.
    let mut from_bob = Vec::new();
    for text in ["b1", "b2", "b3"] {
        from_bob.push(stack.send(&bob, &with_bob, text).await);
    }
    stack.read(&ann, &with_bob, &from_bob[0]["id"]).await;
    // With Cat: only Ann wrote.
    let to_cat = stack.send(&ann, &with_cat, "hi cat").await;
    // The group: Ann first, then a mention of her, one from Cat and one Cat took back.
    stack.send(&ann, &group, "mine").await;
    stack
        .expect(
            Method::POST,
            &format!("/conversations/{group}/messages"),
            &bob,
            Some(json!({ "text": "@ann look", "mentions": [ann.id] })),
            StatusCode::CREATED,
        )
        .await;
    let c1 = stack.send(&cat, &group, "c1").await;
    let taken_back = stack.send(&cat, &group, "c2").await;
    stack
        .expect(
            Method::DELETE,
            &format!(
                "/conversations/{group}/messages/{}",
                taken_back["id"].as_str().unwrap()
            ),
            &cat,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;

    let anns = page_of(&stack, &ann).await;
    assert_eq!(anns.len(), 3);
    assert_eq!(counts(&anns[&with_bob]), (2, 0));
    assert_eq!(counts(&anns[&with_cat]), (0, 0));
    assert_eq!(counts(&anns[&group]), (2, 1));
    let (ann_id, bob_id) = (ann.id.clone(), bob.id.clone());
    assert_eq!(
        receipts(&anns[&with_bob]),
        HashMap::from([
            (
                ann_id.clone(),
                from_bob[0]["id"].as_str().unwrap().to_owned()
            ),
            (
                bob_id.clone(),
                from_bob[2]["id"].as_str().unwrap().to_owned()
            ),
        ])
    );
    assert_eq!(
        receipts(&anns[&with_cat]),
        HashMap::from([(ann_id.clone(), to_cat["id"].as_str().unwrap().to_owned())])
    );
    assert!(receipts(&anns[&group]).is_empty(), "no receipts in groups");

    let bobs = page_of(&stack, &bob).await;
    assert_eq!(bobs.len(), 2);
    assert_eq!(counts(&bobs[&with_bob]), (0, 0));
    assert_eq!(counts(&bobs[&group]), (1, 0), "Cat's c1 only");
    // A position in a group moved by reading, not by sending.
    stack.read(&bob, &group, &c1["id"]).await;
    let bobs = page_of(&stack, &bob).await;
    assert_eq!(counts(&bobs[&group]), (0, 0), "c2 was taken back");
    assert_eq!(bobs[&group]["last_read_seq"], 3);
    assert_eq!(bobs[&with_bob]["last_read_seq"], 3, "his own b3");
    let cats = page_of(&stack, &cat).await;
    assert_eq!(counts(&cats[&with_cat]), (1, 0));
    assert_eq!(counts(&cats[&group]), (0, 0));
}

/// Every member's counts in `conversation` as their list shows them, against the messages
/// themselves: after the position the view shows, not deleted, from others; of those, the
/// ones mentioning the member.
async fn counts_match_the_messages(stack: &Stack, conversation: &str, members: &[&TestUser]) {
    let id = ObjectId::parse_str(conversation).unwrap();
    let messages = stack.mongo.collection::<Document>("messages");
    for member in members {
        let view = page_of(stack, member).await.remove(conversation).unwrap();
        let me = uuids::bson(Uuid::parse_str(&member.id).unwrap());
        let after = doc! {
            "conversationId": id,
            "seq": { "$gt": view["last_read_seq"].as_i64().unwrap() },
            "deletedAt": { "$exists": false },
            "senderUuid": { "$ne": &me },
        };
        let unread = messages.count_documents(after.clone()).await.unwrap();
        let mut mentioning = after;
        mentioning.insert("mentions", &me);
        let mentions = messages.count_documents(mentioning).await.unwrap();
        assert_eq!(
            counts(&view),
            (unread, mentions),
            "{}'s counts in {conversation}",
            member.name
        );
    }
}

/// How many conversations' counts this instance worked out from marks, and counted (from
/// its `/metrics`).
async fn worked_out(stack: &Stack) -> (u64, u64) {
    let metrics = stack.metrics_at(&stack.messages).await;
    let count = |how: &str| {
        metrics
            .lines()
            .find(|line| {
                line.starts_with("conversation_unread_counts_total")
                    && line.contains(&format!("how=\"{how}\""))
            })
            .and_then(|line| line.rsplit(' ').next())
            .map_or(0, |count| count.parse().unwrap())
    };
    (count("marks"), count("counted"))
}

/// Runs `lists` (reads only) and asserts that, of the conversations whose counts they showed,
/// this instance worked out `expected` (from marks, counted). The `/metrics` recorder is
/// process-wide: a test running beside this one can add its own lists to the window, never
/// take any away, so a window with more is tried again (at most five times) and one with
/// fewer fails at once.
async fn assert_worked_out<F, Fut>(stack: &Stack, expected: (u64, u64), lists: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..5 {
        let before = worked_out(stack).await;
        lists().await;
        let after = worked_out(stack).await;
        let seen = (after.0 - before.0, after.1 - before.1);
        assert!(
            seen.0 >= expected.0 && seen.1 >= expected.1,
            "worked out {seen:?} (from marks, counted), expected {expected:?}"
        );
        if seen == expected {
            return;
        }
    }
    panic!("no window without other tests' lists: {expected:?} never seen alone");
}

/// The conversation's marks as stored.
async fn marks(stack: &Stack, conversation: &str) -> Option<Document> {
    let id = ObjectId::parse_str(conversation).unwrap();
    let stored = stack
        .mongo
        .collection::<Document>("conversations")
        .find_one(doc! { "_id": id })
        .await
        .unwrap()
        .unwrap();
    stored.get_document("marks").ok().cloned()
}

#[tokio::test]
async fn counts_worked_out_from_marks_match_the_messages() {
    let stack = Stack::builder(Service::Messages).start().await;
    let (ann, bob, cat, dan) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("cat").await,
        stack.register("dan").await,
    );
    for friend in [&bob, &cat, &dan] {
        stack.befriend(&ann, friend).await;
    }
    let group = stack.group(&ann, "g", &[&bob, &cat, &dan]).await;
    let everyone = [&ann, &bob, &cat, &dan];
    let send = |who: &TestUser, body: Value| {
        let path = format!("/conversations/{group}/messages");
        let stack = &stack;
        let who = who.clone();
        async move {
            stack
                .expect(Method::POST, &path, &who, Some(body), StatusCode::CREATED)
                .await
        }
    };

    // Plain messages: every count comes from the marks.
    stack.send(&dan, &group, "d1").await;
    stack.send(&bob, &group, "b1").await;
    stack.send(&bob, &group, "b2").await;
    let c1 = stack.send(&cat, &group, "c1").await;
    let stored = marks(&stack, &group)
        .await
        .expect("a new group keeps marks");
    assert_eq!(stored.get_i64("since").unwrap(), 0);
    // Each sender's newest message, as their read position too (a group keeps its `seq`
    // only): their sends moved them there, in the conversation, so no read state.
    assert!(!stored.contains_key("sent") && !stored.contains_key("read"));
    let last = stored.get_document("last").unwrap();
    assert_eq!(last.get_i64(&bob.id).unwrap(), 3);
    assert_eq!(last.get_i64(&cat.id).unwrap(), 4);
    let reads = stack.mongo.collection::<Document>("read_states");
    assert_eq!(reads.count_documents(doc! {}).await.unwrap(), 0);
    let shared = (&stack, &group, &everyone, &ann);
    // Ann, Bob, Dan and Ann again have messages after their positions; none is counted.
    assert_worked_out(&stack, (4, 0), move || async move {
        let (stack, group, everyone, ann) = shared;
        counts_match_the_messages(stack, group, everyone).await;
        assert_eq!(counts(&page_of(stack, ann).await[group]), (4, 0));
    })
    .await;

    // Mentions of one member, then of everyone (the admin's).
    send(&bob, json!({ "text": "@cat look", "mentions": [cat.id] })).await;
    counts_match_the_messages(&stack, &group, &everyone).await;
    send(
        &ann,
        json!({ "text": "@everyone hi", "mention_everyone": true }),
    )
    .await;
    // A mention of everyone after every other member's position: theirs are counted.
    assert_worked_out(&stack, (0, 3), move || async move {
        let (stack, group, everyone, _) = shared;
        counts_match_the_messages(stack, group, everyone).await;
    })
    .await;
    assert_eq!(counts(&page_of(&stack, &dan).await[&group]), (5, 1));

    // Reading past them, then a deletion after someone's position.
    stack.read(&dan, &group, &c1["id"]).await;
    let c2 = stack.send(&cat, &group, "c2").await;
    stack.send(&cat, &group, "c3").await;
    stack
        .expect(
            Method::DELETE,
            &format!(
                "/conversations/{group}/messages/{}",
                c2["id"].as_str().unwrap()
            ),
            &cat,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    counts_match_the_messages(&stack, &group, &everyone).await;

    // Dan leaves (his position goes) and comes back: his own d1 is after it now.
    let dan_in_group = format!("/conversations/{group}/members/{}", dan.id);
    stack
        .expect(
            Method::DELETE,
            &dan_in_group,
            &ann,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let b3 = stack.send(&bob, &group, "b3").await;
    stack
        .expect(
            Method::POST,
            &format!("/conversations/{group}/members"),
            &ann,
            Some(json!({ "user_uuids": [dan.id] })),
            StatusCode::OK,
        )
        .await;
    counts_match_the_messages(&stack, &group, &everyone).await;
    // He starts from nothing read: neither his read state nor his sends' position came back.
    assert_eq!(page_of(&stack, &dan).await[&group]["last_read_seq"], 0);
    let stored = marks(&stack, &group).await.unwrap();
    assert!(stored.get_document("last").unwrap().get(&dan.id).is_none());
    // His d1 is still his, not unread for him.
    assert_eq!(
        stored
            .get_document("left")
            .unwrap()
            .get_i64(&dan.id)
            .unwrap(),
        1
    );

    // Marks as sends kept them before groups kept a `seq` only (each sender's newest message
    // twice: in `sent`, and with the message and time in `read`) count the same; the next
    // send keeps its sender's `seq` only, past the old mark.
    let b3_seq = b3["seq"].as_i64().unwrap();
    stack
        .mongo
        .collection::<Document>("conversations")
        .update_one(
            doc! { "_id": ObjectId::parse_str(&group).unwrap() },
            doc! { "$set": {
                format!("marks.sent.{}", bob.id): b3_seq,
                format!("marks.read.{}", bob.id): {
                    "seq": b3_seq,
                    "messageId": ObjectId::parse_str(b3["id"].as_str().unwrap()).unwrap(),
                    "at": bson::DateTime::now(),
                },
            },
            "$unset": { format!("marks.last.{}", bob.id): "" } },
        )
        .await
        .unwrap();
    counts_match_the_messages(&stack, &group, &everyone).await;
    assert_eq!(page_of(&stack, &bob).await[&group]["last_read_seq"], b3_seq);
    stack.send(&cat, &group, "c4").await;
    counts_match_the_messages(&stack, &group, &everyone).await;
    let again = stack.send(&bob, &group, "b3 again").await;
    assert_eq!(
        page_of(&stack, &bob).await[&group]["last_read_seq"],
        again["seq"]
    );
    counts_match_the_messages(&stack, &group, &everyone).await;

    // A conversation stored before marks were kept: counted until its next message, then
    // marked from there on.
    stack
        .mongo
        .collection::<Document>("conversations")
        .update_one(
            doc! { "_id": ObjectId::parse_str(&group).unwrap() },
            doc! { "$unset": { "marks": "" } },
        )
        .await
        .unwrap();
    counts_match_the_messages(&stack, &group, &everyone).await;
    let last_seq = page_of(&stack, &ann).await[&group]["last_seq"]
        .as_i64()
        .unwrap();
    stack.send(&bob, &group, "b4").await;
    let stored = marks(&stack, &group).await.expect("marked again");
    assert_eq!(stored.get_i64("since").unwrap(), last_seq);
    counts_match_the_messages(&stack, &group, &everyone).await;

    // Cat deletes her account: her messages are blanked and no longer count.
    let b5 = stack.send(&bob, &group, "b5").await;
    stack.read(&cat, &group, &b5["id"]).await;
    stack.delete_account(&cat).await;
    // The consumer forgets her read positions last.
    let cats = doc! { "userUuid": uuids::bson(Uuid::parse_str(&cat.id).unwrap()) };
    for _ in 0..100 {
        if reads.count_documents(cats.clone()).await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(reads.count_documents(cats).await.unwrap(), 0);
    counts_match_the_messages(&stack, &group, &[&ann, &bob, &dan]).await;
}

/// A sender has read up to their own message: their position (and the receipt the other
/// member of a direct conversation sees) is the later of what they read and what they sent,
/// and reading behind their own message neither moves it back nor tells anyone.
#[tokio::test]
async fn senders_positions_are_their_newest_message_until_they_read_further() {
    let stack = Stack::builder(Service::Messages).start().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    let a1 = stack.send(&ann, &id, "a1").await;
    let a2 = stack.send(&ann, &id, "a2").await;
    stack.read(&bob, &id, &a1["id"]).await;
    let b3 = stack.send(&bob, &id, "b3").await;

    let bobs = page_of(&stack, &bob).await.remove(&id).unwrap();
    assert_eq!(
        (bobs["last_read_seq"].as_i64(), counts(&bobs)),
        (Some(3), (0, 0))
    );
    let bob_id = bob.id.clone();
    let b3_id = b3["id"].as_str().unwrap().to_owned();
    let receipt = |view: &Value| receipts(view).remove(&bob_id);
    assert_eq!(
        receipt(&page_of(&stack, &ann).await[&id]),
        Some(b3_id.clone())
    );
    assert_eq!(
        receipt(&stack.conversation(&ann, &id).await),
        Some(b3_id.clone())
    );

    // Reading behind his own message: accepted, nothing moves.
    stack.read(&bob, &id, &a2["id"]).await;
    assert_eq!(stack.conversation(&bob, &id).await["last_read_seq"], 3);
    assert_eq!(receipt(&page_of(&stack, &ann).await[&id]), Some(b3_id));

    // Reading further than his message: the read state is the later one now.
    let a4 = stack.send(&ann, &id, "a4").await;
    assert_eq!(counts(&stack.conversation(&bob, &id).await), (1, 0));
    stack.read(&bob, &id, &a4["id"]).await;
    let bobs = stack.conversation(&bob, &id).await;
    assert_eq!(
        (bobs["last_read_seq"].as_i64(), counts(&bobs)),
        (Some(4), (0, 0))
    );
    let a4_id = a4["id"].as_str().unwrap().to_owned();
    assert_eq!(receipt(&page_of(&stack, &ann).await[&id]), Some(a4_id));

    // Bob's receipts: a1 and a4; none for a2 (behind his own b3).
    let read_seqs = |events: &[Value]| -> Vec<i64> {
        events
            .iter()
            .filter(|event| event["type"] == "read.updated")
            .filter(|event| event["data"]["read"]["user_uuid"] == bob.id.as_str())
            .map(|event| event["data"]["read"]["last_read_seq"].as_i64().unwrap())
            .collect()
    };
    let events = stack
        .events_until(|events| read_seqs(events).contains(&4))
        .await;
    assert_eq!(read_seqs(&events), [1, 4]);
}
