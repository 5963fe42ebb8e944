//! The WebSocket gateway with real clients (tokio-tungstenite), two message-service processes,
//! Redis and the Mongo server.

use std::collections::HashSet;
use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{spawn_stack, Stack, User};

/// A connected client.
struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

fn ws_url(base: &str) -> String {
    format!("{}/ws", base.replacen("http://", "ws://", 1))
}

impl Ws {
    /// Connects with a bearer token and reads the `ready` frame.
    async fn open(base: &str, user: &User) -> (Self, Value) {
        let mut request = ws_url(base).into_client_request().unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", user.access).parse().unwrap(),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut ws = Self { socket };
        let ready = ws.next_of("ready").await;
        (ws, ready)
    }

    async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::text(frame.to_string()))
            .await
            .unwrap();
    }

    /// The next JSON frame (pings are answered by the library); `None` when closed or after 5 s.
    async fn next(&mut self) -> Option<Value> {
        self.next_within(Duration::from_secs(5)).await
    }

    async fn next_within(&mut self, limit: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??
                .ok()?;
            match message {
                Message::Text(text) => return Some(serde_json::from_str(text.as_str()).unwrap()),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The next frame of type `kind`, skipping others.
    async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self
                .next()
                .await
                .unwrap_or_else(|| panic!("no {kind} frame within 5 s"));
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Every frame until a `pong` answering `marker`: what arrived before it.
    async fn drain(&mut self, marker: &str) -> Vec<Value> {
        self.send(json!({ "type": "ping", "ref": marker })).await;
        let mut frames = Vec::new();
        loop {
            let frame = self.next().await.expect("pong");
            if frame["type"] == "pong" && frame["data"]["ref"] == marker {
                return frames;
            }
            frames.push(frame);
        }
    }

    /// Waits for the server to close; returns the close code.
    async fn closed(&mut self) -> Option<CloseCode> {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.socket.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => return None,
                Err(_) => panic!("the socket stayed open"),
            }
        }
    }
}

async fn friends_with_direct(stack: &Stack) -> (User, User, String) {
    let (ann, bob) = (stack.user("ann").await, stack.user("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    (ann, bob, id)
}

#[tokio::test]
async fn events_reach_every_device_on_every_instance_and_only_members() {
    let stack = spawn_stack().await;
    let (one, two) = (stack.instance(&[]).await, stack.instance(&[]).await);
    let (ann, bob, id) = friends_with_direct(&stack).await;
    let eve = stack.user("eve").await;
    stack.befriend(&ann, &eve).await;

    let (mut ann_phone, ready) = Ws::open(&one.url, &ann).await;
    assert_eq!(ready["data"]["user"]["username"], "ann");
    assert_eq!(ready["data"]["conversations"][0]["id"], id.as_str());
    let (mut ann_laptop, _) = Ws::open(&one.url, &ann).await;
    let (mut bob_ws, _) = Ws::open(&two.url, &bob).await;
    let (mut eve_ws, _) = Ws::open(&two.url, &eve).await;

    // Sent over the socket on instance two: acknowledged, and delivered on instance one.
    bob_ws
        .send(json!({ "type": "message.send", "ref": "r1",
            "data": { "conversation_id": id, "text": "hello", "nonce": "n1" } }))
        .await;
    let ack = bob_ws.next_of("message.ack").await;
    assert_eq!(ack["data"]["ref"], "r1");
    assert_eq!(ack["data"]["message"]["text"], "hello");
    for device in [&mut ann_phone, &mut ann_laptop] {
        let created = device.next_of("message.created").await;
        assert_eq!(created["data"]["id"], ack["data"]["message"]["id"]);
    }
    // The sender's socket had the ack; it does not get the same message again.
    let own = bob_ws.drain("own").await;
    assert!(
        own.iter().all(|f| f["type"] != "message.created"),
        "{own:?}"
    );
    // Sent over REST on the in-process instance: reaches both processes' sockets.
    stack.send(&ann, &id, "from rest").await;
    assert_eq!(
        bob_ws.next_of("message.created").await["data"]["text"],
        "from rest"
    );
    // The sender's own socket gets the message once (the ack), not twice.
    let bob_rest: Vec<Value> = bob_ws.drain("after").await;
    assert!(bob_rest.iter().all(|f| f["type"] != "message.created"));

    // Eve, a friend of ann but not in the conversation, saw none of it.
    let seen = eve_ws.drain("eve").await;
    assert!(
        seen.iter()
            .all(|f| !f["type"].as_str().unwrap().starts_with("message.")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn typing_is_relayed_and_expires_by_itself() {
    let stack = spawn_stack().await;
    let (one, two) = (
        stack.instance(&["--typing-ttl-ms=600"]).await,
        stack.instance(&["--typing-ttl-ms=600"]).await,
    );
    let (ann, bob, id) = friends_with_direct(&stack).await;
    let (mut ann_ws, _) = Ws::open(&one.url, &ann).await;
    let (mut bob_ws, _) = Ws::open(&two.url, &bob).await;

    ann_ws
        .send(json!({ "type": "typing.start", "ref": "t", "data": { "conversation_id": id } }))
        .await;
    assert_eq!(ann_ws.next_of("ack").await["data"]["ref"], "t");
    let started = bob_ws.next_of("typing.started").await;
    assert_eq!(started["data"]["user_uuid"], ann.id.as_str());
    assert_eq!(started["data"]["expires_in_ms"], 600);
    // Not renewed: the server stops it.
    let stopped = bob_ws.next_of("typing.stopped").await;
    assert_eq!(stopped["data"]["conversation_id"], id.as_str());
    // The typist is not told about their own typing.
    let own = ann_ws.drain("own").await;
    assert!(own
        .iter()
        .all(|f| !f["type"].as_str().unwrap().starts_with("typing")));

    // An explicit stop is relayed too; typing in someone else's conversation is refused.
    ann_ws
        .send(json!({ "type": "typing.start", "data": { "conversation_id": id } }))
        .await;
    bob_ws.next_of("typing.started").await;
    ann_ws
        .send(json!({ "type": "typing.stop", "data": { "conversation_id": id } }))
        .await;
    bob_ws.next_of("typing.stopped").await;
    let eve = stack.user("eve").await;
    let (mut eve_ws, _) = Ws::open(&two.url, &eve).await;
    eve_ws
        .send(json!({ "type": "typing.start", "ref": "x", "data": { "conversation_id": id } }))
        .await;
    let refused = eve_ws.next_of("error").await;
    assert_eq!(refused["data"]["error"]["code"], "conversation_not_found");
    assert_eq!(refused["data"]["ref"], "x");
}

#[tokio::test]
async fn friends_see_presence_come_and_go_with_last_seen() {
    let stack = spawn_stack().await;
    let (one, two) = (stack.instance(&[]).await, stack.instance(&[]).await);
    let (ann, bob, _) = friends_with_direct(&stack).await;
    let stranger = stack.user("cat").await;
    let (mut bob_ws, ready) = Ws::open(&two.url, &bob).await;
    assert_eq!(ready["data"]["presence"][0]["user_uuid"], ann.id.as_str());
    assert_eq!(ready["data"]["presence"][0]["online"], false);
    let (mut cat_ws, _) = Ws::open(&two.url, &stranger).await;

    let (ann_phone, ready) = Ws::open(&one.url, &ann).await;
    assert_eq!(
        ready["data"]["presence"][0]["online"], true,
        "bob is online"
    );
    let online = bob_ws.next_of("presence.updated").await;
    assert_eq!(
        online["data"],
        json!({ "user_uuid": ann.id, "online": true, "last_seen": null })
    );

    // A second device changes nothing; the last one leaving does.
    let (ann_laptop, _) = Ws::open(&two.url, &ann).await;
    drop(ann_phone);
    let quiet = bob_ws.drain("still-online").await;
    assert!(
        quiet.iter().all(|f| f["type"] != "presence.updated"),
        "{quiet:?}"
    );
    drop(ann_laptop);
    let offline = bob_ws.next_of("presence.updated").await;
    assert_eq!(offline["data"]["online"], false);
    assert!(offline["data"]["last_seen"].is_string());

    // Someone who is not a friend hears nothing; a later sign-in sees the last-seen time.
    let heard = cat_ws.drain("cat").await;
    assert!(heard.iter().all(|f| f["type"] != "presence.updated"));
    drop(bob_ws);
    let (_again, ready) = Ws::open(&one.url, &bob).await;
    assert_eq!(
        ready["data"]["presence"][0]["last_seen"],
        offline["data"]["last_seen"]
    );
}

#[tokio::test]
async fn a_resumed_client_gets_what_it_missed_once_then_live_events() {
    let stack = spawn_stack().await;
    let (one, two) = (stack.instance(&[]).await, stack.instance(&[]).await);
    let (ann, bob, id) = friends_with_direct(&stack).await;
    stack.send(&bob, &id, "before").await;
    let (ann_ws, ready) = Ws::open(&one.url, &ann).await;
    let seen = ready["data"]["conversations"][0]["last_seq"]
        .as_i64()
        .unwrap();
    assert_eq!(seen, 1);
    drop(ann_ws);

    for i in 0..5 {
        stack.send(&bob, &id, &format!("missed {i}")).await;
    }
    let (mut ann_ws, _) = Ws::open(&two.url, &ann).await;
    // Messages keep coming while the client resumes.
    let writer = async {
        for i in 0..10 {
            stack.send(&bob, &id, &format!("during {i}")).await;
        }
    };
    let reader = async {
        ann_ws
            .send(json!({ "type": "resume", "data": { "conversations": [
                { "conversation_id": id, "last_seq": seen } ] } }))
            .await;
        let mut seqs = Vec::new();
        let mut resumed = false;
        while seqs.len() < 15 || !resumed {
            let frame = ann_ws.next().await.expect("frames keep coming");
            match frame["type"].as_str().unwrap() {
                "message.created" => seqs.push(frame["data"]["seq"].as_i64().unwrap()),
                "resume.done" => {
                    resumed = true;
                    assert_eq!(frame["data"]["conversations"][0]["truncated"], false);
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
        late.iter().all(|f| f["type"] != "message.created"),
        "{late:?}"
    );
}

#[tokio::test]
async fn a_revoked_session_is_closed() {
    let stack = spawn_stack().await;
    let instance = stack.instance(&[]).await;
    let ann = stack.user("ann").await;
    let (mut ws, _) = Ws::open(&instance.url, &ann).await;
    let logout = stack
        .client
        .post(format!("{}/auth/logout", stack.users))
        .bearer_auth(&ann.access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    ws.next_of("session.revoked").await;
    assert_eq!(ws.closed().await, Some(CloseCode::Library(4001)));
    // The token no longer opens a socket.
    let mut request = ws_url(&instance.url).into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", ann.access).parse().unwrap(),
    );
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
}

#[tokio::test]
async fn foreign_origins_and_missing_credentials_are_refused() {
    let stack = spawn_stack().await;
    let instance = stack.instance(&["--ws-auth-timeout-secs=1"]).await;
    let ann = stack.user("ann").await;

    let mut request = ws_url(&instance.url).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.test".parse().unwrap());
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", ann.access).parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        other => panic!("expected 403, got {other:?}"),
    }
    // An allowed origin is fine.
    let mut request = ws_url(&instance.url).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "http://localhost:3000".parse().unwrap());
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", ann.access).parse().unwrap(),
    );
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());

    // No token: an `authenticate` frame works...
    let (socket, _) = tokio_tungstenite::connect_async(ws_url(&instance.url))
        .await
        .unwrap();
    let mut ws = Ws { socket };
    ws.send(json!({ "type": "authenticate", "data": { "token": ann.access } }))
        .await;
    assert_eq!(
        ws.next_of("ready").await["data"]["user"]["uuid"],
        ann.id.as_str()
    );
    // ...silence does not.
    let (socket, _) = tokio_tungstenite::connect_async(ws_url(&instance.url))
        .await
        .unwrap();
    let mut silent = Ws { socket };
    let error = silent.next_of("error").await;
    assert_eq!(error["data"]["error"]["code"], "missing_token");
    assert_eq!(silent.closed().await, Some(CloseCode::Library(4003)));
}

#[tokio::test]
async fn malformed_and_oversized_frames_are_answered_without_harm() {
    let stack = spawn_stack().await;
    let instance = stack.instance(&["--ws-max-frame-bytes=4096"]).await;
    let (ann, _bob, id) = friends_with_direct(&stack).await;
    let (mut ws, _) = Ws::open(&instance.url, &ann).await;

    ws.socket.send(Message::text("not json")).await.unwrap();
    assert_eq!(
        ws.next_of("error").await["data"]["error"]["code"],
        "malformed_frame"
    );
    ws.send(json!({ "type": "teleport", "ref": "t1" })).await;
    let unknown = ws.next_of("error").await;
    assert_eq!(unknown["data"]["error"]["code"], "unknown_frame");
    assert_eq!(unknown["data"]["ref"], "t1");
    ws.send(json!({ "type": "message.send", "ref": "m1", "data": { "text": 5 } }))
        .await;
    let bad = ws.next_of("error").await;
    assert_eq!(bad["data"]["error"]["code"], "malformed_frame");
    assert_eq!(bad["data"]["ref"], "m1");
    ws.send(json!({ "type": "message.send", "ref": "m2",
        "data": { "conversation_id": id, "text": "   " } }))
        .await;
    let invalid = ws.next_of("error").await;
    assert_eq!(invalid["data"]["error"]["code"], "validation_failed");
    ws.socket
        .send(Message::binary(vec![1_u8, 2, 3]))
        .await
        .unwrap();
    assert_eq!(
        ws.next_of("error").await["data"]["error"]["code"],
        "malformed_frame"
    );
    // Still serving this socket...
    assert!(ws.drain("alive").await.is_empty());

    // ...until a frame over the limit, which ends it; other sockets carry on.
    ws.socket
        .send(Message::text("x".repeat(10_000)))
        .await
        .unwrap();
    let code = ws.closed().await;
    assert_eq!(code, Some(CloseCode::Size));
    let (mut other, _) = Ws::open(&instance.url, &ann).await;
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
    let stack = spawn_stack().await;
    let instance = stack
        .instance(&[
            "--ws-ping-interval-secs=1",
            "--ws-idle-timeout-secs=2",
            "--presence-ttl-secs=3",
        ])
        .await;
    let ann = stack.user("ann").await;
    let (mut quiet, _) = Ws::open(&instance.url, &ann).await;
    let (mut chatty, _) = Ws::open(&instance.url, &ann).await;
    // One client answers pings (by reading) and pings itself; the other stays silent.
    for round in 0..4 {
        chatty
            .send(json!({ "type": "ping", "ref": format!("p{round}") }))
            .await;
        chatty.next_of("pong").await;
        tokio::time::sleep(Duration::from_millis(900)).await;
    }
    assert_eq!(quiet.closed().await, Some(CloseCode::Library(4009)));
    assert!(chatty.drain("still-open").await.is_empty());
}

#[tokio::test]
async fn every_service_exposes_its_metrics_after_traffic() {
    let stack = spawn_stack().await;
    let (ann, bob, id) = friends_with_direct(&stack).await;
    stack.send(&ann, &id, "counted").await;
    let (mut ws, _) = Ws::open(&stack.messages, &bob).await;
    stack.send(&ann, &id, "delivered live").await;
    ws.next_of("message.created").await;
    let metrics = |base: String| {
        let client = stack.client.clone();
        async move {
            client
                .get(format!("{base}/metrics"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let messages = metrics(stack.messages.clone()).await;
    for series in [
        r#"http_requests_total{service="message-service",method="POST",route="/conversations/{conversation_id}/messages",status="201"}"#,
        r#"http_request_duration_seconds_bucket{service="message-service",method="POST",route="/conversations/{conversation_id}/messages",status="201""#,
        r#"ws_connections{service="message-service"}"#,
        r#"ws_frames_delivered_total{service="message-service"}"#,
        r#"mongo_pool_connections_in_use{service="message-service"}"#,
    ] {
        assert!(messages.contains(series), "{series} missing:\n{messages}");
    }
    let users = metrics(stack.users.clone()).await;
    assert!(users.contains(r#"http_requests_total{service="user-service",method="POST",route="/auth/register",status="201"}"#));
    assert!(users.contains(r#"db_pool_connections{service="user-service",state="idle"}"#));
    let friends = metrics(stack.friends.clone()).await;
    assert!(friends.contains(r#"db_pool_connections{service="friends-service",state="in_use"}"#));
    assert!(friends.contains(r#"route="/friends/requests""#));
    drop(ws);
}
