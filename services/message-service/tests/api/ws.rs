//! The WebSocket gateway with real clients (the kit's typed client over tokio-tungstenite),
//! two message-service processes, Redis and the Mongo server.

use std::collections::HashSet;
use std::time::Duration;

use chat_models::api::message::SendMessage;
use chat_models::api::ws::{
    close, Authenticate, ClientMessage, NoData, ResumeFrame, ResumePoint, SendFrame, ServerFrame,
    TypingFrame,
};
use chat_models::ErrorCode;
use chat_testkit::{next_frame, Stack, TestUser, WsClient};
use futures::SinkExt as _;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

async fn friends_with_direct(stack: &Stack) -> (TestUser, TestUser, String) {
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    (ann, bob, id)
}

fn typing(conversation: &str) -> TypingFrame {
    TypingFrame {
        conversation_id: conversation.to_owned(),
    }
}

fn error_code(frame: &ServerFrame) -> Option<ErrorCode> {
    match frame {
        ServerFrame::Error { error, .. } => Some(error.code),
        _ => None,
    }
}

#[tokio::test]
async fn events_reach_every_device_on_every_instance_and_only_members() {
    let stack = Stack::messages().await;
    let (one, two) = (stack.instance(&[]).await, stack.instance(&[]).await);
    let (ann, bob, id) = friends_with_direct(&stack).await;
    let eve = stack.register("eve").await;
    stack.befriend(&ann, &eve).await;

    let (mut ann_phone, ready) = WsClient::open(&one.url, &ann).await;
    assert_eq!(ready.user.username, "ann");
    assert_eq!(ready.conversations[0].info.id, id);
    let (mut ann_laptop, _) = WsClient::open(&one.url, &ann).await;
    let (mut bob_ws, _) = WsClient::open(&two.url, &bob).await;
    let (mut eve_ws, _) = WsClient::open(&two.url, &eve).await;

    // Sent over the socket on instance two: acknowledged, and delivered on instance one.
    let send = ClientMessage::SendMessage(SendFrame {
        conversation_id: id.clone(),
        message: SendMessage {
            text: "hello".to_owned(),
            reply_to: None,
            nonce: Some("n1".to_owned()),
            ..Default::default()
        },
    });
    bob_ws.request_with_ref(send, "r1").await;
    let (reference, acked) =
        next_frame!(bob_ws, ServerFrame::MessageAck { reference, message } => (reference, message));
    assert_eq!(reference.as_deref(), Some("r1"));
    assert_eq!(acked.text, "hello");
    for device in [&mut ann_phone, &mut ann_laptop] {
        let created = next_frame!(device, ServerFrame::MessageCreated(message) => message);
        assert_eq!(created.id, acked.id);
    }
    // The sender's socket had the ack; it does not get the same message again.
    let own = bob_ws.drain("own").await;
    assert!(
        own.iter()
            .all(|f| !matches!(f, ServerFrame::MessageCreated(_))),
        "{own:?}"
    );
    // Sent over REST on the in-process instance: reaches both processes' sockets.
    stack.send(&ann, &id, "from rest").await;
    let created = next_frame!(bob_ws, ServerFrame::MessageCreated(message) => message);
    assert_eq!(created.text, "from rest");
    // The sender's own socket gets the message once (the ack), not twice.
    let bob_rest = bob_ws.drain("after").await;
    assert!(bob_rest
        .iter()
        .all(|f| !matches!(f, ServerFrame::MessageCreated(_))));

    // Eve, a friend of ann but not in the conversation, saw none of it.
    let seen = eve_ws.drain("eve").await;
    assert!(
        seen.iter().all(|f| !matches!(
            f,
            ServerFrame::MessageCreated(_)
                | ServerFrame::MessageUpdated(_)
                | ServerFrame::MessageDeleted(_)
                | ServerFrame::MessageAck { .. }
        )),
        "{seen:?}"
    );
}

#[tokio::test]
async fn typing_is_relayed_and_expires_by_itself() {
    let stack = Stack::messages().await;
    let (one, two) = (
        stack.instance(&["--typing-ttl-ms=600"]).await,
        stack.instance(&["--typing-ttl-ms=600"]).await,
    );
    let (ann, bob, id) = friends_with_direct(&stack).await;
    let (mut ann_ws, _) = WsClient::open(&one.url, &ann).await;
    let (mut bob_ws, _) = WsClient::open(&two.url, &bob).await;

    ann_ws
        .request_with_ref(ClientMessage::TypingStart(typing(&id)), "t")
        .await;
    let reference = next_frame!(ann_ws, ServerFrame::Ack { reference } => reference);
    assert_eq!(reference.as_deref(), Some("t"));
    let started = next_frame!(bob_ws, ServerFrame::TypingStarted(typing) => typing);
    assert_eq!(started.user_uuid.to_string(), ann.id);
    assert_eq!(started.expires_in_ms, Some(600));
    // Not renewed: the server stops it.
    let stopped = next_frame!(bob_ws, ServerFrame::TypingStopped(typing) => typing);
    assert_eq!(stopped.conversation_id, id);
    // The typist is not told about their own typing.
    let own = ann_ws.drain("own").await;
    assert!(own.iter().all(|f| !matches!(
        f,
        ServerFrame::TypingStarted(_) | ServerFrame::TypingStopped(_)
    )));

    // An explicit stop is relayed too; typing in someone else's conversation is refused.
    ann_ws
        .send_message(ClientMessage::TypingStart(typing(&id)))
        .await;
    next_frame!(bob_ws, ServerFrame::TypingStarted(typing) => typing);
    ann_ws
        .send_message(ClientMessage::TypingStop(typing(&id)))
        .await;
    next_frame!(bob_ws, ServerFrame::TypingStopped(typing) => typing);
    let eve = stack.register("eve").await;
    let (mut eve_ws, _) = WsClient::open(&two.url, &eve).await;
    eve_ws
        .request_with_ref(ClientMessage::TypingStart(typing(&id)), "x")
        .await;
    let (reference, error) =
        next_frame!(eve_ws, ServerFrame::Error { reference, error } => (reference, error));
    assert_eq!(error.code, ErrorCode::ConversationNotFound);
    assert_eq!(reference.as_deref(), Some("x"));
}

#[tokio::test]
async fn users_of_a_crashed_instance_are_announced_offline_once() {
    let fast = ["--ws-ping-interval-secs=1", "--presence-ttl-secs=3"];
    let stack = Stack::messages().await;
    let (watcher, doomed, bystander) = (
        stack.instance(&fast).await,
        stack.instance(&fast).await,
        stack.instance(&fast).await,
    );
    let (ann, bob, _) = friends_with_direct(&stack).await;
    let (mut bob_ws, _) = WsClient::open(&watcher.url, &bob).await;
    let (_ann_ws, _) = WsClient::open(&doomed.url, &ann).await;
    let online = next_frame!(bob_ws, ServerFrame::PresenceUpdated(presence) => presence);
    assert!(online.online);

    // kill -9: no socket says goodbye. Some instance notices the expiry and tells Bob.
    drop(doomed);
    let offline = loop {
        match bob_ws.next_within(Duration::from_secs(15)).await {
            Some(ServerFrame::PresenceUpdated(presence)) => break presence,
            Some(_) => continue,
            None => panic!("no offline presence within 15 s"),
        }
    };
    assert!(!offline.online);
    assert!(offline.last_seen.is_some());
    // Once: three instances sweep, one announces.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let later = bob_ws.drain("after-expiry").await;
    assert!(
        later
            .iter()
            .all(|f| !matches!(f, ServerFrame::PresenceUpdated(_))),
        "{later:?}"
    );
    drop(bystander);
}

#[tokio::test]
async fn friends_see_presence_come_and_go_with_last_seen() {
    let stack = Stack::messages().await;
    let (one, two) = (stack.instance(&[]).await, stack.instance(&[]).await);
    let (ann, bob, _) = friends_with_direct(&stack).await;
    let stranger = stack.register("cat").await;
    let (mut bob_ws, ready) = WsClient::open(&two.url, &bob).await;
    assert_eq!(ready.presence[0].user_uuid.to_string(), ann.id);
    assert!(!ready.presence[0].online);
    let (mut cat_ws, _) = WsClient::open(&two.url, &stranger).await;

    let (ann_phone, ready) = WsClient::open(&one.url, &ann).await;
    assert!(ready.presence[0].online, "bob is online");
    let online = next_frame!(bob_ws, ServerFrame::PresenceUpdated(presence) => presence);
    assert_eq!(
        serde_json::to_value(&online).unwrap(),
        json!({ "user_uuid": ann.id, "online": true, "last_seen": null })
    );

    // A second device changes nothing; the last one leaving does.
    let (ann_laptop, _) = WsClient::open(&two.url, &ann).await;
    drop(ann_phone);
    let quiet = bob_ws.drain("still-online").await;
    assert!(
        quiet
            .iter()
            .all(|f| !matches!(f, ServerFrame::PresenceUpdated(_))),
        "{quiet:?}"
    );
    drop(ann_laptop);
    let offline = next_frame!(bob_ws, ServerFrame::PresenceUpdated(presence) => presence);
    assert!(!offline.online);
    assert!(offline.last_seen.is_some());

    // Someone who is not a friend hears nothing; a later sign-in sees the last-seen time.
    let heard = cat_ws.drain("cat").await;
    assert!(heard
        .iter()
        .all(|f| !matches!(f, ServerFrame::PresenceUpdated(_))));
    drop(bob_ws);
    let (_again, ready) = WsClient::open(&one.url, &bob).await;
    assert_eq!(ready.presence[0].last_seen, offline.last_seen);
}

#[tokio::test]
async fn a_resumed_client_gets_what_it_missed_once_then_live_events() {
    let stack = Stack::messages().await;
    let (one, two) = (stack.instance(&[]).await, stack.instance(&[]).await);
    let (ann, bob, id) = friends_with_direct(&stack).await;
    stack.send(&bob, &id, "before").await;
    let (ann_ws, ready) = WsClient::open(&one.url, &ann).await;
    let seen = ready.conversations[0].info.last_seq;
    assert_eq!(seen, 1);
    drop(ann_ws);

    for i in 0..5 {
        stack.send(&bob, &id, &format!("missed {i}")).await;
    }
    let (mut ann_ws, _) = WsClient::open(&two.url, &ann).await;
    // Messages keep coming while the client resumes.
    let writer = async {
        for i in 0..10 {
            stack.send(&bob, &id, &format!("during {i}")).await;
        }
    };
    let reader = async {
        let resume = ClientMessage::Resume(ResumeFrame {
            conversations: vec![ResumePoint {
                conversation_id: id.clone(),
                last_seq: seen,
                last_version: None,
            }],
        });
        ann_ws.send_message(resume).await;
        let mut seqs = Vec::new();
        let mut resumed = false;
        while seqs.len() < 15 || !resumed {
            match ann_ws.next().await.expect("frames keep coming") {
                ServerFrame::MessageCreated(message) => seqs.push(message.seq),
                ServerFrame::ResumeDone { conversations } => {
                    resumed = true;
                    assert!(!conversations[0].truncated);
                }
                _ => {}
            }
        }
        (seqs, resumed)
    };
    let ((), (seqs, resumed)) = tokio::join!(writer, reader);
    assert!(resumed);
    let unique: HashSet<i64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "no duplicate: {seqs:?}");
    assert_eq!(
        unique,
        (2..=16).collect::<HashSet<i64>>(),
        "no gap: {seqs:?}"
    );
    let late = ann_ws.drain("end").await;
    assert!(
        late.iter()
            .all(|f| !matches!(f, ServerFrame::MessageCreated(_))),
        "{late:?}"
    );
}

#[tokio::test]
async fn a_revoked_session_is_closed() {
    let stack = Stack::messages().await;
    let instance = stack.instance(&[]).await;
    let ann = stack.register("ann").await;
    let (mut ws, _) = WsClient::open(&instance.url, &ann).await;
    let logout = stack
        .client
        .post(format!("{}/auth/logout", stack.users))
        .bearer_auth(&ann.access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    next_frame!(ws, ServerFrame::SessionRevoked {} => ());
    assert_eq!(ws.closed().await, Some(close::SESSION_REVOKED));
    // The token no longer opens a socket.
    assert!(WsClient::connect(WsClient::request(&instance.url, &ann))
        .await
        .is_err());
}

#[tokio::test]
async fn a_revoked_session_is_refused_once_its_event_arrives() {
    use chat_models::events::{DomainEvent, EventPublisher};
    use redis::AsyncCommands as _;
    let stack = Stack::messages().await;
    let ann = stack.register("ann").await;
    let conversations = async || stack.get_as("/conversations", &ann.access).await;
    assert_eq!(conversations().await.status(), StatusCode::OK);
    // Revoked in Redis, its event not read yet: this instance found the session in force a
    // moment ago and asks Redis nothing.
    let mut redis = stack.redis.clone();
    let key = format!("{}revoked:sid:{}", stack.prefix, ann.session_id);
    let _: () = redis.set(key, 1).await.unwrap();
    assert_eq!(conversations().await.status(), StatusCode::OK);
    // The event reaches the tail: the session is forgotten and the token refused.
    EventPublisher::for_prefix(stack.redis.clone(), &stack.prefix)
        .publish(DomainEvent::SessionRevoked {
            user_uuid: ann.id.parse().unwrap(),
            session_ids: vec![ann.session_id.parse().unwrap()],
        })
        .await
        .unwrap();
    chat_testkit::eventually("the revoked session refused", async || {
        let response = conversations().await;
        response.status() == StatusCode::UNAUTHORIZED
            && chat_testkit::error_code(response).await == "session_revoked"
    })
    .await;
}

#[tokio::test]
async fn foreign_origins_and_missing_credentials_are_refused() {
    let stack = Stack::messages().await;
    let instance = stack.instance(&["--ws-auth-timeout-secs=1"]).await;
    let ann = stack.register("ann").await;

    let mut request = WsClient::request(&instance.url, &ann);
    request
        .headers_mut()
        .insert("origin", "http://evil.test".parse().unwrap());
    match WsClient::connect(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        Err(other) => panic!("expected 403, got {other:?}"),
        Ok(_) => panic!("expected 403, got a socket"),
    }
    // An allowed origin is fine.
    let mut request = WsClient::request(&instance.url, &ann);
    request
        .headers_mut()
        .insert("origin", "http://localhost:3000".parse().unwrap());
    assert!(WsClient::connect(request).await.is_ok());

    // No token: an `authenticate` frame works...
    let mut ws = WsClient::anonymous(&instance.url).await;
    ws.send_message(ClientMessage::Authenticate(Authenticate {
        token: ann.access.clone(),
    }))
    .await;
    let ready = next_frame!(ws, ServerFrame::Ready(ready) => ready);
    assert_eq!(ready.user.uuid.to_string(), ann.id);
    // ...silence does not.
    let mut silent = WsClient::anonymous(&instance.url).await;
    let error = next_frame!(silent, ServerFrame::Error { error, .. } => error);
    assert_eq!(error.code, ErrorCode::MissingToken);
    assert_eq!(silent.closed().await, Some(close::UNAUTHENTICATED));
}

#[tokio::test]
async fn malformed_and_oversized_frames_are_answered_without_harm() {
    let stack = Stack::messages().await;
    let instance = stack.instance(&["--ws-max-frame-bytes=4096"]).await;
    let (ann, _bob, id) = friends_with_direct(&stack).await;
    let (mut ws, _) = WsClient::open(&instance.url, &ann).await;

    ws.socket.send(Message::text("not json")).await.unwrap();
    let error = next_frame!(ws, frame @ ServerFrame::Error { .. } => frame);
    assert_eq!(error_code(&error), Some(ErrorCode::MalformedFrame));
    ws.socket
        .send(Message::text(
            json!({ "type": "teleport", "ref": "t1" }).to_string(),
        ))
        .await
        .unwrap();
    let (reference, error) =
        next_frame!(ws, ServerFrame::Error { reference, error } => (reference, error));
    assert_eq!(error.code, ErrorCode::UnknownFrame);
    assert_eq!(reference.as_deref(), Some("t1"));
    let bad = json!({ "type": "message.send", "ref": "m1", "data": { "text": 5 } });
    ws.socket
        .send(Message::text(bad.to_string()))
        .await
        .unwrap();
    let (reference, error) =
        next_frame!(ws, ServerFrame::Error { reference, error } => (reference, error));
    assert_eq!(error.code, ErrorCode::MalformedFrame);
    assert_eq!(reference.as_deref(), Some("m1"));
    let blank = ClientMessage::SendMessage(SendFrame {
        conversation_id: id.clone(),
        message: SendMessage {
            text: "   ".to_owned(),
            reply_to: None,
            nonce: None,
            ..Default::default()
        },
    });
    ws.request_with_ref(blank, "m2").await;
    let invalid = next_frame!(ws, ServerFrame::Error { error, .. } => error);
    assert_eq!(invalid.code, ErrorCode::ValidationFailed);
    ws.socket
        .send(Message::binary(vec![1_u8, 2, 3]))
        .await
        .unwrap();
    let error = next_frame!(ws, ServerFrame::Error { error, .. } => error);
    assert_eq!(error.code, ErrorCode::MalformedFrame);
    // Still serving this socket, and a frame larger than its read buffer (256 bytes) but under
    // the limit arrives whole...
    assert!(ws.drain("alive").await.is_empty());
    let long = "é".repeat(1500);
    let send = ClientMessage::SendMessage(SendFrame {
        conversation_id: id.clone(),
        message: SendMessage {
            text: long.clone(),
            ..Default::default()
        },
    });
    ws.request_with_ref(send, "m3").await;
    let acked = next_frame!(ws, ServerFrame::MessageAck { message, .. } => message);
    assert_eq!(acked.text, long);

    // ...until a frame over the limit, which ends it; other sockets carry on.
    ws.socket
        .send(Message::text("x".repeat(10_000)))
        .await
        .unwrap();
    assert_eq!(ws.closed().await, Some(close::FRAME_TOO_LARGE));
    let (mut other, _) = WsClient::open(&instance.url, &ann).await;
    assert!(other.drain("fine").await.is_empty());

    let health = stack
        .client
        .request(Method::GET, format!("{}/health", instance.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn silent_sockets_are_closed_after_the_idle_timeout() {
    let stack = Stack::messages().await;
    let instance = stack
        .instance(&[
            "--ws-ping-interval-secs=1",
            "--ws-idle-timeout-secs=2",
            "--presence-ttl-secs=3",
        ])
        .await;
    let ann = stack.register("ann").await;
    let (mut quiet, _) = WsClient::open(&instance.url, &ann).await;
    let (mut chatty, _) = WsClient::open(&instance.url, &ann).await;
    // One client answers pings (by reading) and pings itself; the other stays silent.
    for round in 0..4 {
        chatty
            .request_with_ref(ClientMessage::Ping(NoData), &format!("p{round}"))
            .await;
        next_frame!(chatty, ServerFrame::Pong { .. } => ());
        tokio::time::sleep(Duration::from_millis(900)).await;
    }
    assert_eq!(quiet.closed().await, Some(close::IDLE));
    assert!(chatty.drain("still-open").await.is_empty());
}

#[tokio::test]
async fn every_service_exposes_its_metrics_after_traffic() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = friends_with_direct(&stack).await;
    stack.send(&ann, &id, "counted").await;
    let (mut ws, _) = WsClient::open(&stack.messages, &bob).await;
    stack.send(&ann, &id, "delivered live").await;
    next_frame!(ws, ServerFrame::MessageCreated(message) => message);
    let messages = stack.metrics_at(&stack.messages).await;
    for series in [
        r#"http_requests_total{service="message-service",method="POST",route="/conversations/{conversation_id}/messages",status="201"}"#,
        r#"http_request_duration_seconds_bucket{service="message-service",method="POST",route="/conversations/{conversation_id}/messages",status="201""#,
        r#"ws_connections{service="message-service"}"#,
        r#"ws_frames_delivered_total{service="message-service"}"#,
        r#"mongo_pool_connections_in_use{service="message-service"}"#,
    ] {
        assert!(messages.contains(series), "{series} missing:\n{messages}");
    }
    let users = stack.metrics_at(&stack.users).await;
    assert!(users.contains(r#"http_requests_total{service="user-service",method="POST",route="/auth/register",status="201"}"#));
    assert!(users.contains(r#"db_pool_connections{service="user-service",state="idle"}"#));
    let friends = stack.metrics_at(&stack.friends).await;
    assert!(friends.contains(r#"db_pool_connections{service="friends-service",state="in_use"}"#));
    assert!(friends.contains(r#"route="/friends/requests""#));
    drop(ws);
}
