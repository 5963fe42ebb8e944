//! The event stream against a real Redis (`REDIS_URL`, set by scripts/test.sh).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chat_models::events::{DomainEvent, EventConsumer, EventPublisher, EventTail};
use tokio::sync::mpsc;
use uuid::Uuid;

async fn redis() -> (redis::Client, redis::aio::ConnectionManager, String) {
    let url = std::env::var("REDIS_URL").expect("set REDIS_URL (scripts/test.sh does it for you)");
    let client = redis::Client::open(url).unwrap();
    let manager = redis::aio::ConnectionManager::new(client.clone())
        .await
        .unwrap();
    (
        client,
        manager,
        format!("test:{}:events", Uuid::new_v4().simple()),
    )
}

fn deleted() -> DomainEvent {
    DomainEvent::UserDeleted {
        user_uuid: Uuid::new_v4(),
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<DomainEvent>) -> DomainEvent {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .unwrap()
}

/// Entries of `group` read and not acknowledged.
async fn pending(conn: &mut redis::aio::ConnectionManager, stream: &str, group: &str) -> usize {
    let pending: redis::streams::StreamPendingReply = redis::cmd("XPENDING")
        .arg(stream)
        .arg(group)
        .query_async(conn)
        .await
        .unwrap();
    pending.count()
}

/// Removes a test's stream.
async fn drop_stream(conn: &mut redis::aio::ConnectionManager, stream: &str) {
    let _: () = redis::cmd("DEL")
        .arg(stream)
        .query_async(conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_group_sees_earlier_and_later_events_and_retries_failed_ones() {
    // Arrange: two events exist before the group does.
    let (client, manager, stream) = redis().await;
    let publisher = EventPublisher::new(manager.clone(), stream.clone(), 1000);
    let (first, second, third) = (deleted(), deleted(), deleted());
    publisher.publish(first.clone()).await.unwrap();
    publisher.publish(second.clone()).await.unwrap();

    // A handler that fails the first time it sees the third event.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let failed_once = Arc::new(AtomicBool::new(false));
    let poison = third.clone();
    let consumer = EventConsumer::new(client.clone(), stream.clone(), "test-group", "test-1")
        .with_claim_idle(Duration::from_millis(200));
    let task = tokio::spawn(consumer.run(move |envelope| {
        let (tx, failed_once, poison) = (tx.clone(), Arc::clone(&failed_once), poison.clone());
        async move {
            if envelope.event == poison && !failed_once.swap(true, Ordering::SeqCst) {
                anyhow::bail!("simulated failure");
            }
            tx.send(envelope.event).unwrap();
            Ok(())
        }
    }));

    // Act and assert: history first, then live events; the failed one comes back once.
    assert_eq!(next(&mut rx).await, first);
    assert_eq!(next(&mut rx).await, second);
    publisher.publish(third.clone()).await.unwrap();
    assert_eq!(next(&mut rx).await, third);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "nothing delivered twice"
    );
    task.abort();

    let mut conn = manager.clone();
    assert_eq!(
        pending(&mut conn, &stream, "test-group").await,
        0,
        "every event acknowledged"
    );
    drop_stream(&mut conn, &stream).await;
}

#[tokio::test]
async fn events_of_a_dead_consumer_are_claimed_and_a_failing_one_blocks_nothing() {
    let (client, manager, stream) = redis().await;
    let publisher = EventPublisher::new(manager.clone(), stream.clone(), 1000);
    let (orphan, poison, later) = (deleted(), deleted(), deleted());
    publisher.publish(orphan.clone()).await.unwrap();

    // A consumer reads the first event and dies without acknowledging it.
    let mut conn = manager.clone();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("test-group")
        .arg("0")
        .query_async(&mut conn)
        .await
        .unwrap();
    let taken: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("test-group")
        .arg("dead-consumer")
        .arg("COUNT")
        .arg(1)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(taken.keys[0].ids.len(), 1);

    // A live consumer whose handler always fails on one event.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let bad = poison.clone();
    let consumer = EventConsumer::new(client.clone(), stream.clone(), "test-group", "live")
        .with_claim_idle(Duration::from_millis(200));
    let task = tokio::spawn(consumer.run(move |envelope| {
        let (tx, bad) = (tx.clone(), bad.clone());
        async move {
            if envelope.event == bad {
                anyhow::bail!("always fails");
            }
            tx.send(envelope.event).unwrap();
            Ok(())
        }
    }));
    publisher.publish(poison.clone()).await.unwrap();
    publisher.publish(later.clone()).await.unwrap();

    let mut got = vec![next(&mut rx).await, next(&mut rx).await];
    got.sort_by_key(|event| format!("{event:?}"));
    let mut want = vec![orphan, later];
    want.sort_by_key(|event| format!("{event:?}"));
    assert_eq!(
        got, want,
        "the orphan is claimed; the poison holds nothing up"
    );
    task.abort();

    assert_eq!(
        pending(&mut conn, &stream, "test-group").await,
        1,
        "only the failing event waits for another try"
    );
    drop_stream(&mut conn, &stream).await;
}

#[tokio::test]
async fn a_tail_reads_events_with_an_audience_only_for_those_it_wants_and_all_others() {
    let (client, manager, stream) = redis().await;
    let publisher = EventPublisher::new(manager, stream.clone(), 1_000);
    let (mine, theirs) = (Uuid::new_v4(), Uuid::new_v4());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let ready = Arc::new(tokio::sync::Notify::new());
    let tail = tokio::spawn(
        EventTail::new(client, stream)
            .interested_in(move |audience| audience.contains(&mine))
            .run(
                move |envelope| tx.send(envelope.event).unwrap(),
                ready.clone(),
            ),
    );
    ready.notified().await;
    let for_ = |audience: Vec<Uuid>, id: &str| DomainEvent::ConversationDeleted {
        audience,
        conversation_id: id.to_owned(),
    };
    publisher
        .publish(for_(vec![theirs], "theirs"))
        .await
        .unwrap();
    publisher
        .publish(for_(vec![theirs, mine], "ours"))
        .await
        .unwrap();
    publisher.publish(deleted()).await.unwrap();
    publisher
        .publish(for_(vec![theirs], "theirs again"))
        .await
        .unwrap();
    publisher.publish(for_(vec![mine], "mine")).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(match next(&mut rx).await {
            DomainEvent::ConversationDeleted {
                conversation_id, ..
            } => conversation_id,
            DomainEvent::UserDeleted { .. } => "a deletion".to_owned(),
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(seen, ["ours", "a deletion", "mine"]);
    tail.abort();
}

#[tokio::test]
async fn a_group_handling_some_types_acknowledges_the_others_unread() {
    let (client, manager, stream) = redis().await;
    let publisher = EventPublisher::new(manager.clone(), stream.clone(), 1000);
    let wanted = deleted();
    let other = DomainEvent::UserUpdated {
        user_uuid: Uuid::new_v4(),
    };
    for event in [other.clone(), wanted.clone(), other.clone()] {
        publisher.publish(event).await.unwrap();
    }
    // An entry of a handled type whose event cannot be read is still read (and skipped).
    let mut conn = manager.clone();
    let _: String = redis::cmd("XADD")
        .arg(&stream)
        .arg("*")
        .arg("type")
        .arg("user.deleted")
        .arg("event")
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let consumer = EventConsumer::new(client.clone(), stream.clone(), "typed", "only-1")
        .only(&["user.deleted"]);
    let task = tokio::spawn(consumer.run(move |envelope| {
        let tx = tx.clone();
        async move {
            tx.send(envelope.event).unwrap();
            Ok(())
        }
    }));
    assert_eq!(next(&mut rx).await, wanted);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "only the handled type reaches the handler"
    );
    task.abort();
    assert_eq!(
        pending(&mut conn, &stream, "typed").await,
        0,
        "every entry acknowledged, handled or not"
    );
    let info: Vec<std::collections::HashMap<String, redis::Value>> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(&stream)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(info[0].get("entries-read"), Some(&redis::Value::Int(4)));
    drop_stream(&mut conn, &stream).await;
}

/// Reads of the stream `group` made so far, as `/metrics` counts them.
fn reads_of(group: &str) -> u64 {
    let rendered = chat_models::metrics::handle()
        .expect("the metrics recorder")
        .render();
    let series = format!("event_reads_total{{group=\"{group}\"}} ");
    rendered
        .lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map_or(0, |count| count.trim().parse().unwrap())
}

#[tokio::test]
async fn events_following_one_within_the_pause_are_read_at_once() {
    // Installed before the consumer counts its first read.
    let _ = chat_models::metrics::handle();
    let (client, manager, stream) = redis().await;
    let publisher = EventPublisher::new(manager.clone(), stream.clone(), 1000);
    let group = format!("paused-{}", Uuid::new_v4().simple());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let consumer = EventConsumer::new(client.clone(), stream.clone(), &group, "paused-1")
        .with_pause(Duration::from_secs(3));
    let task = tokio::spawn(consumer.run(move |envelope| {
        let tx = tx.clone();
        async move {
            tx.send(envelope.event).unwrap();
            Ok(())
        }
    }));

    // The first event of a quiet stream is read as it comes.
    let first = deleted();
    publisher.publish(first.clone()).await.unwrap();
    assert_eq!(next(&mut rx).await, first);
    let before = reads_of(&group);
    assert!(before >= 1, "the first read was counted");

    // Ten more, one by one, while the consumer pauses: one read takes them all, in order.
    let burst: Vec<DomainEvent> = (0..10).map(|_| deleted()).collect();
    for event in &burst {
        publisher.publish(event.clone()).await.unwrap();
    }
    for event in &burst {
        assert_eq!(&next(&mut rx).await, event);
    }
    assert_eq!(reads_of(&group) - before, 1, "one read for the ten");
    task.abort();
    let mut conn = manager.clone();
    assert_eq!(
        pending(&mut conn, &stream, &group).await,
        0,
        "every event acknowledged"
    );
    drop_stream(&mut conn, &stream).await;
}
