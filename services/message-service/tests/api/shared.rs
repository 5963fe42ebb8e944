//! Sends of different conversations sharing one transaction (`db::messages::shared`) against
//! the real Mongo server: batches waiting together are stored by one commit, each
//! conversation numbered on its own; a send refused or a nonce used again takes only its own
//! conversation out of the shared transaction, and the others are stored all the same.
//!
//! Most tests run on tokio's single-threaded runtime with one shared transaction at a time,
//! where every send below queues before the task storing them first runs: which transaction
//! holds what is then certain. The last runs two at a time on many threads, as the service
//! does by default.

use bson::oid::ObjectId;
use message_service::db::messages::{self, SendQueue, Sent};
use message_service::db::Store;
use reqwest::{Method, StatusCode};

use crate::{page_seqs, text};

/// A user, and `count` friends with a direct conversation each.
async fn hub_with_friends(
    stack: &chat_testkit::Stack,
    count: usize,
) -> (chat_testkit::TestUser, Vec<ObjectId>) {
    let hub = stack.register("hub").await;
    let mut conversations = Vec::new();
    for n in 0..count {
        let friend = stack.register(&format!("friend{n}")).await;
        stack.befriend(&hub, &friend).await;
        conversations.push(ObjectId::parse_str(stack.direct(&hub, &friend).await).unwrap());
    }
    (hub, conversations)
}

/// A store whose sends share transactions, `at_once` of them running at a time.
fn sharing(stack: &chat_testkit::Stack, at_once: usize) -> Store {
    let mut store = Store::new(&stack.mongo);
    store.sends = SendQueue::default().sharing(16, at_once);
    store
}

/// A store whose sends share one transaction at a time.
fn store_of(stack: &chat_testkit::Stack) -> Store {
    sharing(stack, 1)
}

fn new_message(sent: Sent) -> messages::MessageDoc {
    match sent {
        Sent::New(message, _) => message,
        Sent::Repeated(message) => panic!("a repeat of {}", message.id),
    }
}

#[tokio::test]
async fn sends_to_many_conversations_share_one_commit_and_are_numbered_each() {
    let stack = chat_testkit::Stack::messages().await;
    let (hub, conversations) = hub_with_friends(&stack, 6).await;
    let store = store_of(&stack);

    for round in 1..=2_i64 {
        let sends = conversations
            .iter()
            .map(|&id| messages::send(&store, text(id, &hub.id, &format!("round {round}"), None)));
        let sent = futures::future::join_all(sends).await;
        for (id, sent) in conversations.iter().zip(sent) {
            let message = new_message(sent.unwrap());
            assert_eq!(message.conversation_id, *id);
            assert_eq!(message.seq, round, "each conversation numbers its own");
            assert_eq!(message.text, format!("round {round}"));
        }
        assert_eq!(
            store.sends.shared().counts(),
            (round as u64, 6 * round as u64),
            "one transaction per round, holding every conversation"
        );
    }
    // Stored as answered: each conversation's history and preview.
    for id in &conversations {
        let page = stack
            .expect(
                Method::GET,
                &format!("/conversations/{}/messages", id.to_hex()),
                &hub,
                None,
                StatusCode::OK,
            )
            .await;
        let texts: Vec<&str> = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["round 2", "round 1"]);
        let view = stack.conversation(&hub, &id.to_hex()).await;
        assert_eq!(view["last_message"]["seq"], 2);
        assert_eq!(view["last_read_seq"], 2, "the sender has read their own");
    }
}

#[tokio::test]
async fn a_refused_send_leaves_the_shared_transaction_and_the_others_are_stored() {
    let stack = chat_testkit::Stack::messages().await;
    let (hub, conversations) = hub_with_friends(&stack, 3).await;
    let store = store_of(&stack);
    let stranger = uuid::Uuid::new_v4().to_string();

    let sends = [
        text(conversations[0], &hub.id, "first", None),
        text(conversations[1], &stranger, "not a member", None),
        text(conversations[2], &hub.id, "third", None),
    ]
    .map(|new| messages::send(&store, new));
    let [first, refused, third] = futures::future::join_all(sends).await.try_into().unwrap();
    assert_eq!(new_message(first.unwrap()).seq, 1);
    assert_eq!(new_message(third.unwrap()).seq, 1);
    let refused = refused.unwrap_err();
    assert_eq!(refused.status(), 404, "{refused:?}");
    // The shared transaction stopped at the refusal; the other two went into the next.
    assert_eq!(store.sends.shared().counts(), (2, 5));
    let view = stack.conversation(&hub, &conversations[1].to_hex()).await;
    assert!(view["last_message"].is_null(), "nothing stored: {view}");

    // The conversation whose send was refused takes sends again.
    let again = messages::send(&store, text(conversations[1], &hub.id, "later", None)).await;
    assert_eq!(new_message(again.unwrap()).seq, 1);
}

#[tokio::test]
async fn a_repeated_nonce_in_a_shared_transaction_returns_the_message_stored_before() {
    let stack = chat_testkit::Stack::messages().await;
    let (hub, conversations) = hub_with_friends(&stack, 3).await;
    let store = store_of(&stack);
    let before = new_message(
        messages::send(&store, text(conversations[0], &hub.id, "once", Some("n-1")))
            .await
            .unwrap(),
    );

    let sends = [
        text(conversations[0], &hub.id, "once", Some("n-1")),
        text(conversations[1], &hub.id, "two", Some("n-1")),
        text(conversations[2], &hub.id, "three", None),
    ]
    .map(|new| messages::send(&store, new));
    let [repeat, two, three] = futures::future::join_all(sends).await.try_into().unwrap();
    match repeat.unwrap() {
        Sent::Repeated(message) => assert_eq!(message.id, before.id),
        Sent::New(message, _) => panic!("stored twice: {} as seq {}", message.id, message.seq),
    }
    // A nonce is the sender's in one conversation: the same in another is a new message.
    assert_eq!(new_message(two.unwrap()).seq, 1);
    assert_eq!(new_message(three.unwrap()).seq, 1);
    // The shared transaction was refused as a whole (the index, at the insert of all three):
    // each conversation was then stored alone.
    assert_eq!(store.sends.shared().counts(), (2, 4));
    let page = stack
        .expect(
            Method::GET,
            &format!("/conversations/{}/messages", conversations[0].to_hex()),
            &hub,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_shared_transactions_at_once_number_every_conversation_without_gaps() {
    let stack = chat_testkit::Stack::messages().await;
    let (hub, conversations) = hub_with_friends(&stack, 8).await;
    let store = sharing(&stack, 2);
    const ROUNDS: usize = 12;

    // Every conversation gets its sends one after another, all conversations at once: batches
    // of different conversations meet in the two transactions in whatever way they come.
    let senders = conversations.iter().map(|&id| {
        let (store, hub) = (store.clone(), hub.id.clone());
        tokio::spawn(async move {
            let mut seqs = Vec::new();
            for round in 0..ROUNDS {
                let sent = messages::send(&store, text(id, &hub, &format!("{round}"), None));
                seqs.push(new_message(sent.await.unwrap()).seq);
            }
            seqs
        })
    });
    let expected: Vec<i64> = (1..=ROUNDS as i64).collect();
    for seqs in futures::future::join_all(senders).await {
        assert_eq!(
            seqs.unwrap(),
            expected,
            "each conversation numbered 1.. in order"
        );
    }
    let (_, batches) = store.sends.shared().counts();
    assert_eq!(
        batches,
        (8 * ROUNDS) as u64,
        "every batch in a shared transaction"
    );
    for id in &conversations {
        let path = format!("/conversations/{}/messages?limit=50", id.to_hex());
        let seqs = page_seqs(&stack, &hub, &path).await;
        assert_eq!(
            seqs,
            expected.iter().rev().copied().collect::<Vec<_>>(),
            "stored as answered"
        );
    }
}
