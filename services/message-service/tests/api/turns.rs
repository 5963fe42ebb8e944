//! Send turns between instances (`db::messages::turns`) against a real Redis: one instance at
//! a time stores a conversation's sends, a release that others wait for hands the turn over,
//! and a holder that never gives its turn back holds it no longer than its lease. Sends that
//! find another instance holding the turn are stored by it (`db::messages::forward`), and a
//! holder that stopped or does not answer costs a wait, never a send stored twice; the holder
//! that answered is where the next sends go, without asking again.

use std::sync::Arc;
use std::time::Duration;

use bson::oid::ObjectId;
use futures::StreamExt as _;
use message_service::db::messages::{self, Forwarding, SendQueue, Sent, Turns};
use message_service::db::Store;
use message_service::notices::Notice;

use crate::text;

/// Two instances' turns under a prefix of their own, each woken by the notices, as the
/// gateway's subscriber wakes them.
async fn two_instances() -> (
    Arc<Turns>,
    Arc<Turns>,
    redis::aio::ConnectionManager,
    String,
) {
    let client = redis_client();
    let redis = redis::aio::ConnectionManager::new(client.clone())
        .await
        .unwrap();
    let prefix = test_prefix();
    let (a, b) = (
        Arc::new(Turns::new(redis.clone(), &prefix)),
        Arc::new(Turns::new(redis.clone(), &prefix)),
    );
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub
        .subscribe(message_service::notices::channel(&prefix))
        .await
        .unwrap();
    let (woken_a, woken_b) = (a.clone(), b.clone());
    tokio::spawn(async move {
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let payload: String = message.get_payload().unwrap();
            if let Some(Notice::TurnFree(conversation)) = Notice::parse(&payload) {
                woken_a.announced(conversation);
                woken_b.announced(conversation);
            }
        }
    });
    (a, b, redis, prefix)
}

/// A Redis key prefix of the test's own.
fn test_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

/// The Redis key of a conversation's turn.
fn turn_key(prefix: &str, id: ObjectId) -> String {
    format!("{prefix}send-turn:{}", id.to_hex())
}

/// Makes an instance named `token` (one that does not run) hold a conversation's turn for a
/// 300 ms lease.
async fn hold_turn(redis: &redis::aio::ConnectionManager, prefix: &str, id: ObjectId, token: &str) {
    let _: () = redis::cmd("SET")
        .arg(turn_key(prefix, id))
        .arg(token)
        .arg("PX")
        .arg(300)
        .query_async(&mut redis.clone())
        .await
        .unwrap();
}

/// The holder of a conversation's turn, as Redis has it.
async fn holder(
    redis: &redis::aio::ConnectionManager,
    prefix: &str,
    id: ObjectId,
) -> Option<String> {
    redis::cmd("GET")
        .arg(turn_key(prefix, id))
        .query_async(&mut redis.clone())
        .await
        .unwrap()
}

#[tokio::test]
async fn instances_take_turns_and_a_waited_for_turn_is_handed_over() {
    let (a, b, redis, prefix) = two_instances().await;
    let id = ObjectId::new();

    let a_turn = a.take(id).await;
    let held_by_a = holder(&redis, &prefix, id).await.expect("a holds the turn");
    let b_waits = tokio::spawn({
        let b = b.clone();
        async move { b.take(id).await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!b_waits.is_finished(), "b waits while a holds the turn");

    a.give(a_turn).await;
    let b_turn = tokio::time::timeout(Duration::from_secs(1), b_waits)
        .await
        .expect("b gets the turn once a gives it back")
        .unwrap();
    let held_by_b = holder(&redis, &prefix, id).await.expect("b holds the turn");
    assert_ne!(held_by_b, held_by_a);

    // A wants it again: it waits for b, and b's release hands it over to a.
    let a_waits = tokio::spawn({
        let a = a.clone();
        async move { a.take(id).await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!a_waits.is_finished(), "a waits while b holds the turn");
    b.give(b_turn).await;
    let a_turn = tokio::time::timeout(Duration::from_secs(1), a_waits)
        .await
        .expect("a gets the turn once b gives it back")
        .unwrap();
    assert_eq!(
        holder(&redis, &prefix, id).await.as_deref(),
        Some(held_by_a.as_str())
    );

    // Nobody waits: giving it back frees it, and other conversations were never held.
    a.give(a_turn).await;
    assert_eq!(holder(&redis, &prefix, id).await, None);
    let other = ObjectId::new();
    let (a_turn, b_turn) = tokio::time::timeout(Duration::from_secs(1), async {
        tokio::join!(a.take(other), b.take(id))
    })
    .await
    .expect("turns of different conversations do not wait for each other");
    a.give(a_turn).await;
    b.give(b_turn).await;
}

#[tokio::test]
async fn a_turn_never_given_back_lasts_no_longer_than_its_lease() {
    let (a, _, redis, prefix) = two_instances().await;
    let id = ObjectId::new();
    // A holder that crashed holding the turn: its lease runs out on its own.
    hold_turn(&redis, &prefix, id, "crashed").await;
    let started = std::time::Instant::now();
    let turn = tokio::time::timeout(Duration::from_secs(2), a.take(id))
        .await
        .expect("the turn is taken once the lease ran out");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_ne!(
        holder(&redis, &prefix, id).await.as_deref(),
        Some("crashed")
    );
    a.give(turn).await;
    assert_eq!(holder(&redis, &prefix, id).await, None);
}

/// An instance's send queue with its turns and forwarding, on the test's stores and a Redis
/// prefix shared with the other instances made with it, its channel read as in the service.
async fn queue_instance(
    stack: &chat_testkit::Stack,
    prefix: &str,
) -> (Store, Arc<Turns>, tokio::task::JoinHandle<()>) {
    let client = redis_client();
    let redis = redis::aio::ConnectionManager::new(client.clone())
        .await
        .unwrap();
    let turns = Arc::new(Turns::new(redis.clone(), prefix));
    let forwarding = Arc::new(Forwarding::new(redis, prefix, turns.token()));
    let mut store = Store::new(&stack.mongo);
    store.sends = SendQueue::default().taking_turns(turns.clone(), Some(forwarding.clone()));
    let reader = tokio::spawn(forwarding.run(client, store.clone()));
    // Ready once its channel has a subscriber.
    let probe = Forwarding::channel(prefix, turns.token());
    let mut redis = redis_of().await;
    for _ in 0..100 {
        let listening: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&probe)
            .query_async(&mut redis)
            .await
            .unwrap();
        if listening.first().is_some_and(|(_, count)| *count > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (store, turns, reader)
}

/// Two friends and their direct conversation.
async fn friends_talking(
    stack: &chat_testkit::Stack,
) -> (chat_testkit::TestUser, chat_testkit::TestUser, ObjectId) {
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = ObjectId::parse_str(stack.direct(&ann, &bob).await).unwrap();
    (ann, bob, id)
}

fn seq_of(sent: Sent) -> i64 {
    match sent {
        Sent::New(message, _) | Sent::Repeated(message) => message.seq,
    }
}

#[tokio::test]
async fn sends_finding_another_instance_holding_the_turn_are_stored_by_it() {
    let stack = chat_testkit::Stack::messages().await;
    let (ann, bob, id) = friends_talking(&stack).await;
    let prefix = test_prefix();
    let (a, a_turns, _a_reads) = queue_instance(&stack, &prefix).await;
    let (b, b_turns, _b_reads) = queue_instance(&stack, &prefix).await;

    // A holds the turn (as its writer does while its sends keep coming); b's sends of the
    // conversation met a's before.
    let held = a_turns.take(id).await;
    b_turns.conflicted(id);
    let sends = (0..5).map(|n| {
        let b = b.clone();
        let new = text(id, &ann.id, &format!("via b {n}"), None);
        async move { messages::send(&b, new).await }
    });
    // Without forwarding they would wait for the turn (up to 3 s): a stores them at once.
    let sent = tokio::time::timeout(
        Duration::from_millis(1_500),
        futures::future::join_all(sends),
    )
    .await
    .expect("a stores b's sends while it holds the turn");
    let mut seqs: Vec<i64> = sent.into_iter().map(|sent| seq_of(sent.unwrap())).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    // B never took the turn (a's writer took it over from its holder, this instance); a's own
    // sends go on after b's.
    assert_ne!(
        holder(&redis_of().await, &prefix, id).await.as_deref(),
        Some(b_turns.token())
    );
    a_turns.give(held).await;
    assert_eq!(
        seq_of(
            messages::send(&a, text(id, &bob.id, "via a", None))
                .await
                .unwrap()
        ),
        6
    );

    // A refusal at the holder is the forwarder's caller's, as if it had stored the send. (A's
    // writer keeps the turn for a moment after its last send: wait for it to give it back.)
    tokio::time::sleep(Duration::from_millis(100)).await;
    let held = a_turns.take(id).await;
    let stranger = uuid::Uuid::new_v4().to_string();
    let refused = tokio::time::timeout(
        Duration::from_millis(1_500),
        messages::send(&b, text(id, &stranger, "not a member", None)),
    )
    .await
    .expect("a answers for b")
    .unwrap_err();
    assert_eq!(refused.status(), 404, "{refused:?}");
    a_turns.give(held).await;
}

#[tokio::test]
async fn once_a_holder_answered_the_next_sends_go_straight_to_it() {
    let stack = chat_testkit::Stack::messages().await;
    let (ann, _, id) = friends_talking(&stack).await;
    let prefix = test_prefix();
    let (_a, a_turns, _a_reads) = queue_instance(&stack, &prefix).await;
    let (b, b_turns, _b_reads) = queue_instance(&stack, &prefix).await;
    let redis = redis_of().await;

    // B's first send asks Redis who holds the turn, and a stores it.
    let held = a_turns.take(id).await;
    b_turns.conflicted(id);
    let first = messages::send(&b, text(id, &ann.id, "asked", None)).await;
    assert_eq!(seq_of(first.unwrap()), 1);

    // Then nobody holds the turn: asking, b would take it and store the next send itself.
    // Remembering who answered, it hands the send to a, which stores it.
    a_turns.give(held).await;
    let _: () = redis::cmd("DEL")
        .arg(turn_key(&prefix, id))
        .query_async(&mut redis.clone())
        .await
        .unwrap();
    let mut spy = redis_client().get_async_pubsub().await.unwrap();
    spy.subscribe(Forwarding::channel(&prefix, a_turns.token()))
        .await
        .unwrap();
    let second = messages::send(&b, text(id, &ann.id, "remembered", None)).await;
    assert_eq!(seq_of(second.unwrap()), 2);
    let forwarded = tokio::time::timeout(Duration::from_secs(1), spy.on_message().next())
        .await
        .expect("the send went to a's channel")
        .unwrap();
    assert!(forwarded
        .get_payload_bytes()
        .windows(b"remembered".len())
        .any(|window| window == b"remembered"));
    assert_ne!(
        holder(&redis, &prefix, id).await.as_deref(),
        Some(b_turns.token()),
        "b did not take the turn"
    );
}

#[tokio::test]
async fn a_holder_that_stopped_or_does_not_answer_costs_a_wait_never_a_double() {
    let stack = chat_testkit::Stack::messages().await;
    let (ann, _, id) = friends_talking(&stack).await;
    let prefix = test_prefix();
    let (b, b_turns, _b_reads) = queue_instance(&stack, &prefix).await;
    b_turns.conflicted(id);
    let redis = redis_of().await;

    // A holder nobody hears any more: nothing reached it, so b stores the send (with or
    // without a nonce) once the lease ran out.
    hold_turn(&redis, &prefix, id, "stopped").await;
    let started = std::time::Instant::now();
    let sent = messages::send(&b, text(id, &ann.id, "no nonce", None))
        .await
        .unwrap();
    assert_eq!(seq_of(sent), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );

    // A holder that takes sends and never answers: it may have stored them. One with a nonce
    // is stored by b (the nonce makes a second store the first's answer); one without is
    // answered 503, not stored twice. (B's writer keeps the turn it took for a moment after
    // its last send: wait for it to give it back.)
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut mute = redis_client().get_async_pubsub().await.unwrap();
    mute.subscribe(Forwarding::channel(&prefix, "mute"))
        .await
        .unwrap();
    hold_turn(&redis, &prefix, id, "mute").await;
    let started = std::time::Instant::now();
    let (kept, unknown) = tokio::join!(
        messages::send(&b, text(id, &ann.id, "nonce", Some("n-1"))),
        messages::send(&b, text(id, &ann.id, "no nonce again", None)),
    );
    assert!(started.elapsed() >= message_service::db::messages::forward::ANSWER_WAIT);
    assert_eq!(seq_of(kept.unwrap()), 2);
    let unknown = unknown.unwrap_err();
    assert_eq!(unknown.status(), 503, "{unknown:?}");
    let stored = stack
        .mongo
        .collection::<bson::Document>("messages")
        .count_documents(bson::doc! { "conversationId": id })
        .await
        .unwrap();
    assert_eq!(stored, 2);
    // The mute holder did get them (one forward of both).
    let forwarded = tokio::time::timeout(Duration::from_secs(1), mute.on_message().next())
        .await
        .expect("the forward reached the holder's channel")
        .unwrap();
    assert!(!forwarded.get_payload_bytes().is_empty());
}

fn redis_client() -> redis::Client {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    redis::Client::open(url).unwrap()
}

async fn redis_of() -> redis::aio::ConnectionManager {
    redis::aio::ConnectionManager::new(redis_client())
        .await
        .unwrap()
}
