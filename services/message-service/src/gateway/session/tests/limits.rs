//! Limits of one socket and one user, without servers: sends and reads in flight, typing
//! renewals, sockets per user.

use std::time::Duration;

use chat_models::api::ws::{close, ClientMessage, SendFrame, ServerFrame, TypingFrame};
use chat_models::ErrorCode;

use super::error_of;
use super::support::{connect, connect_to, fake, gateway, open, CONVERSATION};

fn send_frame(text: &str) -> ClientMessage {
    ClientMessage::SendMessage(SendFrame {
        conversation_id: CONVERSATION.to_owned(),
        message: chat_models::api::message::SendMessage {
            text: text.to_owned(),
            ..Default::default()
        },
    })
}

#[tokio::test(start_paused = true)]
async fn frames_past_the_in_flight_bound_wait_unread_until_a_send_finishes() {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    let mut backend = fake();
    let hold = Arc::new(tokio::sync::Semaphore::new(0));
    backend.hold_sends = Some(hold.clone());
    let mut client = connect_to(backend).await;
    let flood = crate::gateway::protocol::MAX_IN_FLIGHT + 4;
    for index in 0..flood {
        client.send(send_frame("flood"), &format!("s{index}")).await;
    }
    client
        .send(ClientMessage::Ping(chat_models::api::ws::NoData), "p")
        .await;
    // Every slot is taken: the rest (and the ping) wait unread.
    let waited = tokio::time::timeout(Duration::from_secs(30), client.frame()).await;
    assert!(waited.is_err(), "nothing is answered while sends hang");
    assert_eq!(
        client.backend.sends.load(Ordering::SeqCst),
        crate::gateway::protocol::MAX_IN_FLIGHT
    );
    // Released, every send is stored and acknowledged, and the ping answered.
    hold.add_permits(flood);
    let (mut acks, mut pong) = (0, false);
    while acks < flood || !pong {
        match client.frame().await {
            ServerFrame::MessageAck { .. } => acks += 1,
            ServerFrame::Pong { .. } => pong = true,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(client.backend.sends.load(Ordering::SeqCst), flood);
}

#[tokio::test(start_paused = true)]
async fn typing_renewals_are_coalesced_and_the_audience_is_looked_up_once() {
    use std::sync::atomic::Ordering;

    let mut client = connect().await;
    let start = || {
        ClientMessage::TypingStart(TypingFrame {
            conversation_id: CONVERSATION.to_owned(),
        })
    };
    for index in 0..50 {
        client.send(start(), &format!("t{index}")).await;
    }
    for _ in 0..50 {
        assert!(matches!(client.frame().await, ServerFrame::Ack { .. }));
    }
    let started = |published: &[(Vec<uuid::Uuid>, ServerFrame)]| {
        published
            .iter()
            .filter(|(_, frame)| matches!(frame, ServerFrame::TypingStarted(_)))
            .count()
    };
    assert_eq!(started(&client.backend.ephemeral.lock().unwrap()), 1);
    // Past half its lifetime a renewal is announced again, to the audience already known.
    tokio::time::sleep(Duration::from_secs(3)).await;
    client.send(start(), "again").await;
    assert!(matches!(client.frame().await, ServerFrame::Ack { .. }));
    let stop = ClientMessage::TypingStop(TypingFrame {
        conversation_id: CONVERSATION.to_owned(),
    });
    client.send(stop, "stop").await;
    assert!(matches!(client.frame().await, ServerFrame::Ack { .. }));
    let published = client.backend.ephemeral.lock().unwrap().clone();
    assert_eq!(started(&published), 2);
    assert!(matches!(
        published.last(),
        Some((audience, ServerFrame::TypingStopped(_))) if *audience == vec![client.backend.friend]
    ));
    assert_eq!(client.backend.lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_socket_past_the_per_user_cap_is_refused_with_4029() {
    let gateway = gateway();
    let backend = fake();
    let cap = gateway.settings.max_sockets_per_user;
    let mut open_ones = Vec::new();
    for _ in 0..cap {
        let mut client = open(backend.clone(), &gateway);
        assert!(matches!(client.frame().await, ServerFrame::Ready(_)));
        open_ones.push(client);
    }
    let mut extra = open(backend.clone(), &gateway);
    assert_eq!(
        error_of(&extra.frame().await),
        (None, ErrorCode::TooManySockets)
    );
    assert_eq!(extra.close_code().await, Some(close::TOO_MANY_SOCKETS));
    assert_eq!(gateway.hub.sockets_of(backend.me.user_id), cap);
    // Another user is not affected.
    let mut other = fake();
    other.me.user_id = uuid::Uuid::new_v4();
    let mut theirs = open(other, &gateway);
    assert!(matches!(theirs.frame().await, ServerFrame::Ready(_)));
}
