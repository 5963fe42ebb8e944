//! What one user may do at once or per minute: send and typing floods are refused with
//! `rate_limited` frames while others carry on, and a user's sockets are capped.

use chat_models::api::message::SendMessage;
use chat_models::api::ws::{ClientMessage, SendFrame, ServerFrame, TypingFrame};
use chat_models::ErrorCode;
use chat_testkit::{error_code, Service, Stack, WsClient};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn send(conversation: &str, text: &str) -> ClientMessage {
    ClientMessage::SendMessage(SendFrame {
        conversation_id: conversation.to_owned(),
        message: SendMessage {
            text: text.to_owned(),
            ..Default::default()
        },
    })
}

fn typing(conversation: &str) -> ClientMessage {
    ClientMessage::TypingStart(TypingFrame {
        conversation_id: conversation.to_owned(),
    })
}

#[tokio::test]
async fn a_send_flood_is_cut_at_the_rate_while_another_user_sends_as_usual() {
    let stack = Stack::builder(Service::Messages)
        .messages_config(|config| config.message_rate_limit = "10/60".parse().unwrap())
        .start()
        .await;
    let (ann, bob, cat) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("cat").await,
    );
    stack.befriend(&ann, &bob).await;
    stack.befriend(&cat, &bob).await;
    let flooded = stack.direct(&ann, &bob).await;
    let other = stack.direct(&cat, &bob).await;

    let (mut ws, _) = WsClient::open(&stack.messages, &ann).await;
    let flood = 200;
    for index in 0..flood {
        ws.request_with_ref(
            send(&flooded, &format!("flood {index}")),
            &format!("s{index}"),
        )
        .await;
    }
    // Meanwhile another user's sends all go through.
    for index in 0..5 {
        stack.send(&cat, &other, &format!("as usual {index}")).await;
    }
    let (mut acked, mut limited) = (0, 0);
    while acked + limited < flood {
        match ws.next().await.expect("every send is answered") {
            ServerFrame::MessageAck { .. } => acked += 1,
            ServerFrame::Error { error, .. } if error.code == ErrorCode::RateLimited => {
                limited += 1;
            }
            ServerFrame::Error { error, .. } => panic!("unexpected error {error:?}"),
            _ => {}
        }
    }
    // The allowance (10), and at most one more refilled while the flood ran.
    assert!((10..=11).contains(&acked), "{acked} sends went through");
    assert_eq!(limited, flood - acked);
    // HTTP sends count against the same allowance.
    let response = stack
        .call(
            Method::POST,
            &format!("/conversations/{flooded}/messages"),
            &ann,
            Some(json!({ "text": "over http" })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(error_code(response).await, "rate_limited");
    // What was stored is exactly what was acknowledged.
    let history = stack
        .get(
            &format!("/conversations/{flooded}/messages?limit=100"),
            &bob,
        )
        .await;
    assert_eq!(history["messages"].as_array().unwrap().len(), acked);
    let theirs = stack
        .get(&format!("/conversations/{other}/messages"), &bob)
        .await;
    assert_eq!(theirs["messages"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_typing_flood_is_announced_once_and_new_announcements_are_rate_limited() {
    let stack = Stack::builder(Service::Messages)
        .messages_config(|config| config.typing_rate_limit = "3/60".parse().unwrap())
        .start()
        .await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let direct = stack.direct(&ann, &bob).await;
    let (mut ann_ws, _) = WsClient::open(&stack.messages, &ann).await;
    let (mut bob_ws, _) = WsClient::open(&stack.messages, &bob).await;

    for index in 0..300 {
        ann_ws
            .request_with_ref(typing(&direct), &format!("t{index}"))
            .await;
    }
    let answers = ann_ws.drain("flooded").await;
    let acks = answers
        .iter()
        .filter(|frame| matches!(frame, ServerFrame::Ack { .. }))
        .count();
    assert_eq!(acks, 300, "renewals are acknowledged, not refused");
    // Every announcement went out before its ack: the first reaches Bob, and nothing after it.
    chat_testkit::next_frame!(bob_ws, ServerFrame::TypingStarted(_) => ());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let later = bob_ws.drain("watching").await;
    assert!(
        !later
            .iter()
            .any(|frame| matches!(frame, ServerFrame::TypingStarted(_))),
        "the others hear of it once: {later:?}"
    );

    // Typing in new conversations counts: two more fit the allowance of 3, the next does not.
    let mut groups = Vec::new();
    for name in ["one", "two", "three"] {
        groups.push(stack.group(&ann, name, &[&bob]).await);
    }
    for (index, group) in groups.iter().enumerate() {
        ann_ws
            .request_with_ref(typing(group), &format!("g{index}"))
            .await;
    }
    let answers = ann_ws.drain("groups").await;
    let refused: Vec<_> = answers
        .iter()
        .filter_map(|frame| match frame {
            ServerFrame::Error { reference, error } => Some((reference.clone(), error.code)),
            _ => None,
        })
        .collect();
    assert_eq!(refused, [(Some("g2".to_owned()), ErrorCode::RateLimited)]);
}

#[tokio::test]
async fn sockets_past_the_per_user_cap_are_refused() {
    let stack = Stack::builder(Service::Messages)
        .messages_config(|config| config.ws_max_sockets_per_user = 2)
        .start()
        .await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    let (_first, _) = WsClient::open(&stack.messages, &ann).await;
    let (mut second, _) = WsClient::open(&stack.messages, &ann).await;
    // With a token on the upgrade: refused before upgrading.
    match WsClient::connect(WsClient::request(&stack.messages, &ann)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        }
        Err(other) => panic!("expected 429, got {other:?}"),
        Ok(_) => panic!("expected 429, got a socket"),
    }
    // Authenticating by frame: told why, then closed with 4029.
    let mut third = WsClient::anonymous(&stack.messages).await;
    third
        .send_message(ClientMessage::Authenticate(
            chat_models::api::ws::Authenticate {
                token: ann.access.clone(),
            },
        ))
        .await;
    match third.next().await {
        Some(ServerFrame::Error { error, .. }) => {
            assert_eq!(error.code, ErrorCode::TooManySockets);
        }
        other => panic!("expected too_many_sockets, got {other:?}"),
    }
    assert_eq!(
        third.closed().await,
        Some(chat_models::api::ws::close::TOO_MANY_SOCKETS)
    );
    // Others are not affected, and a closed socket frees its place.
    let (_bobs, _) = WsClient::open(&stack.messages, &bob).await;
    second.socket.close(None).await.unwrap();
    let _ = second.closed().await;
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(mut socket) = WsClient::connect(WsClient::request(&stack.messages, &ann)).await {
            if matches!(socket.next().await, Some(ServerFrame::Ready(_))) {
                reopened = Some(socket);
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "the freed place is taken");
}
