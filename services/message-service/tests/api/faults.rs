//! Faults an operator meets: the stores going away under traffic. Bounded: every wait has a
//! deadline, and each test runs well under a minute.

use std::time::{Duration, Instant};

use chat_testkit::{RedisServer, Service, Stack, PASSWORD};
use reqwest::StatusCode;

/// GETs `url` as `access` with a deadline of its own; the status, and how long it took.
async fn timed_get(stack: &Stack, url: &str, access: &str) -> (StatusCode, Duration, bool) {
    let started = Instant::now();
    let response = stack
        .client
        .get(url)
        .bearer_auth(access)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("answered, not hung");
    let retry_after = response.headers().contains_key("retry-after");
    (response.status(), started.elapsed(), retry_after)
}

#[tokio::test]
async fn while_redis_is_down_requests_get_503_at_once_then_recover_and_revocations_hold() {
    let mut redis = RedisServer::start().await;
    let stack = Stack::builder(Service::Messages)
        .redis(redis.url())
        .start()
        .await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    stack.direct(&ann, &bob).await;
    // A second session of ann's, signed out before the outage.
    let signed_out = stack.login("ann", PASSWORD).await;
    let logout = stack
        .client
        .post(format!("{}/auth/logout", stack.users))
        .bearer_auth(&signed_out.access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    let urls = [
        format!("{}/users/me", stack.users),
        format!("{}/friends", stack.friends),
        format!("{}/conversations", stack.messages),
    ];
    for url in &urls {
        assert_eq!(
            timed_get(&stack, url, &ann.access).await.0,
            StatusCode::OK,
            "{url}"
        );
    }

    redis.stop();
    for url in &urls {
        for _ in 0..3 {
            let (status, took, retry_after) = timed_get(&stack, url, &ann.access).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{url}");
            assert!(retry_after, "{url} says when to retry");
            assert!(took < Duration::from_secs(1), "{url} answered in {took:?}");
        }
    }

    // Back, empty (it kept nothing): every service serves again within 2 s (measured: all
    // three within about 1 s, user-service first, once it has re-seeded the revocations).
    redis.start_again().await;
    let back = Instant::now();
    for url in &urls {
        loop {
            let (status, _, _) = timed_get(&stack, url, &ann.access).await;
            if status == StatusCode::OK {
                break;
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{url}");
            assert!(
                back.elapsed() < Duration::from_secs(2),
                "{url} did not recover within 2 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // The signed-out session did not come back with the lost keys.
    for url in &urls {
        let (status, _, _) = timed_get(&stack, url, &signed_out.access).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{url}");
    }
}

#[tokio::test]
async fn a_message_sent_while_redis_is_down_reaches_the_other_member_when_it_returns() {
    use chat_models::api::message::SendMessage;
    use chat_models::api::ws::{ClientMessage, SendFrame, ServerFrame};
    use chat_testkit::{next_frame, WsClient};

    let mut redis = RedisServer::start().await;
    let stack = Stack::builder(Service::Messages)
        .redis(redis.url())
        .start()
        .await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    let (mut ann_ws, _) = WsClient::open(&stack.messages, &ann).await;
    let (mut bob_ws, _) = WsClient::open(&stack.messages, &bob).await;

    // Open sockets keep working without Redis: the send is stored and acknowledged...
    redis.stop();
    let send = ClientMessage::SendMessage(SendFrame {
        conversation_id: id.clone(),
        message: SendMessage {
            text: "while Redis was away".to_owned(),
            ..Default::default()
        },
    });
    ann_ws.request_with_ref(send, "s1").await;
    let stored = next_frame!(ann_ws, ServerFrame::MessageAck { message, .. } => message);
    // ...and its event waits for Redis (Bob hears nothing yet).
    let early = bob_ws.drain("down").await;
    assert!(
        !early
            .iter()
            .any(|frame| matches!(frame, ServerFrame::MessageCreated(_))),
        "{early:?}"
    );

    // Redis is back (empty): the parked event goes out, and Bob gets the message live.
    redis.start_again().await;
    let delivered = loop {
        match bob_ws.next_within(Duration::from_secs(15)).await {
            Some(ServerFrame::MessageCreated(message)) => break message,
            Some(_) => continue,
            None => panic!("the message did not arrive within 15 s of Redis returning"),
        }
    };
    assert_eq!((delivered.id, delivered.seq), (stored.id, stored.seq));
    assert_eq!(delivered.text, "while Redis was away");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_within_seconds() {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    use tokio_tungstenite::tungstenite::Message;

    let stack = Stack::messages().await;
    let instance = stack.instance(&["--ws-send-queue=8"]).await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;

    // Bob's socket with a tiny receive buffer, so the server's writes soon wait on him.
    let mut request = chat_testkit::WsClient::url(&instance.url)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", bob.access).parse().unwrap(),
    );
    let address = instance.url.trim_start_matches("http://").parse().unwrap();
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(address).await.unwrap();
    let (mut socket, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();

    // Bob stops reading while ann writes more (12 KB a message) than the kernel buffers hold
    // (4 MB at most here).
    let started = Instant::now();
    let text = "€".repeat(4000);
    for _ in 0..500 {
        stack.send(&ann, &id, &text).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    // Reading again: what got through, then the end: the server gave up on the socket. (A close
    // frame cannot overtake the backlog; if it made it, it says 4008.)
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|frame| u16::from(frame.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the server dropped the socket");
    assert!(matches!(ended, None | Some(4008)), "{ended:?}");
    assert!(started.elapsed() < Duration::from_secs(60));
    let metrics = stack.metrics_at(&instance.url).await;
    assert!(
        metrics.contains("ws_connections{service=\"message-service\"} 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn messages_acknowledged_before_the_database_dies_survive_it_with_their_seq() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let mut mongo = chat_testkit::MongoServer::start().await;
    let stack = Arc::new(
        Stack::builder(Service::Messages)
            .mongo(mongo.uri())
            .start()
            .await,
    );
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;

    // A sender that keeps sending, each message with a nonce of its own, retried (same nonce)
    // until acknowledged; every acknowledgement is recorded.
    let acknowledged: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (stack, acknowledged, stop, id) = (
            stack.clone(),
            acknowledged.clone(),
            stop.clone(),
            id.clone(),
        );
        tokio::spawn(async move {
            let url = format!("{}/conversations/{id}/messages", stack.messages);
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let body = serde_json::json!({ "text": format!("m{n}"), "nonce": format!("n{n}") });
                let response = stack
                    .client
                    .post(&url)
                    .bearer_auth(&ann.access)
                    .json(&body)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                match response {
                    Ok(response) if response.status().is_success() => {
                        let message: serde_json::Value = response.json().await.unwrap();
                        let seq = message["seq"].as_i64().unwrap();
                        acknowledged
                            .lock()
                            .unwrap()
                            .push((message["id"].as_str().unwrap().to_owned(), seq));
                        n += 1;
                    }
                    // Refused or lost while the database is away: the same nonce again.
                    _ => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        })
    };
    let count = |acknowledged: &Mutex<Vec<(String, i64)>>| acknowledged.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(40);
    while count(&acknowledged) < 20 {
        assert!(Instant::now() < deadline, "sends did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    mongo.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    mongo.start_again().await;
    let before = count(&acknowledged);
    while count(&acknowledged) < before + 20 {
        assert!(Instant::now() < deadline, "sends did not resume");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    sender.await.unwrap();

    // Every acknowledged message is stored, with the seq it was acknowledged with, and no
    // seq went to two messages.
    let acknowledged = acknowledged.lock().unwrap().clone();
    let db = mongodb::Client::with_uri_str(mongo.uri())
        .await
        .unwrap()
        .database(stack.mongo.name());
    let stored: Vec<bson::Document> = futures::TryStreamExt::try_collect(
        db.collection::<bson::Document>("messages")
            .find(bson::doc! {})
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let stored: std::collections::HashMap<String, i64> = stored
        .iter()
        .map(|doc| {
            (
                doc.get_object_id("_id").unwrap().to_hex(),
                doc.get_i64("seq").unwrap(),
            )
        })
        .collect();
    for (message, seq) in &acknowledged {
        assert_eq!(
            stored.get(message),
            Some(seq),
            "acknowledged {message} (seq {seq})"
        );
    }
    let seqs: std::collections::HashSet<i64> = acknowledged.iter().map(|(_, seq)| *seq).collect();
    let ids: std::collections::HashSet<&String> = acknowledged.iter().map(|(id, _)| id).collect();
    assert_eq!(seqs.len(), ids.len(), "a seq was reused");
}
