//! Send turns between instances (`db::messages::turns`) against a real Redis: one instance at
//! a time stores a conversation's sends, a release that others wait for hands the turn over,
//! and a holder that never gives its turn back holds it no longer than its lease.

use std::sync::Arc;
use std::time::Duration;

use bson::oid::ObjectId;
use futures::StreamExt as _;
use message_service::db::messages::Turns;
use message_service::notices::Notice;

/// Two instances' turns under a prefix of their own, each woken by the notices, as the
/// gateway's subscriber wakes them.
async fn two_instances() -> (
    Arc<Turns>,
    Arc<Turns>,
    redis::aio::ConnectionManager,
    String,
) {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let client = redis::Client::open(url).unwrap();
    let redis = redis::aio::ConnectionManager::new(client.clone())
        .await
        .unwrap();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
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

/// The holder of a conversation's turn, as Redis has it.
async fn holder(
    redis: &redis::aio::ConnectionManager,
    prefix: &str,
    id: ObjectId,
) -> Option<String> {
    redis::cmd("GET")
        .arg(format!("{prefix}send-turn:{}", id.to_hex()))
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
    let _: () = redis::cmd("SET")
        .arg(format!("{prefix}send-turn:{}", id.to_hex()))
        .arg("crashed")
        .arg("PX")
        .arg(300)
        .query_async(&mut redis.clone())
        .await
        .unwrap();
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
