//! The protocol of one socket, without servers: the session runs over in-memory channels with
//! a backend of the tests' own (`support.rs`), on a paused clock.

mod limits;
mod support;

use std::time::Duration;

use axum::extract::ws::Message;
use chat_models::api::ws::{
    close, Authenticate, ClientFrame, ClientMessage, ReadFrame, ResumeFrame, ResumePoint,
    SendFrame, ServerFrame, TypingFrame,
};
use chat_models::ErrorCode;
use futures::channel::mpsc::unbounded;
use futures::{SinkExt as _, StreamExt as _};

use crate::gateway::handshake::authenticate;
use crate::gateway::hub::Outbound;
use crate::gateway::protocol::encode;
use crate::gateway::Gateway;
use support::{connect, fake, Incoming, CONVERSATION, TOKEN};

pub(super) fn error_of(frame: &ServerFrame) -> (Option<&str>, ErrorCode) {
    match frame {
        ServerFrame::Error { reference, error } => (reference.as_deref(), error.code),
        other => panic!("expected an error, got {other:?}"),
    }
}

fn created_seqs(frames: &[ServerFrame]) -> Vec<i64> {
    frames
        .iter()
        .filter_map(|frame| match frame {
            ServerFrame::MessageCreated(message) => Some(message.seq),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn pings_are_answered_with_their_ref_and_presence_follows_the_socket() {
    let mut client = connect().await;
    assert!(client.drain("p1").await.is_empty());
    assert_eq!(*client.backend.presence.lock().unwrap(), ["connected"]);
    client.send_raw(Message::Close(None)).await;
    // The session ends by itself and leaves presence.
    while client.from_server.next().await.is_some() {}
    assert_eq!(
        *client.backend.presence.lock().unwrap(),
        ["connected", "disconnected"]
    );
}

#[tokio::test(start_paused = true)]
async fn bad_frames_are_answered_and_the_socket_stays_open() {
    let mut client = connect().await;
    client.send_raw(Message::Text("not json".into())).await;
    assert_eq!(
        error_of(&client.frame().await),
        (None, ErrorCode::MalformedFrame)
    );
    client
        .send_raw(Message::Text(r#"{"type":"teleport","ref":"t1"}"#.into()))
        .await;
    assert_eq!(
        error_of(&client.frame().await),
        (Some("t1"), ErrorCode::UnknownFrame)
    );
    client
        .send_raw(Message::Text(
            r#"{"type":"message.send","ref":"m1","data":{"text":5}}"#.into(),
        ))
        .await;
    assert_eq!(
        error_of(&client.frame().await),
        (Some("m1"), ErrorCode::MalformedFrame)
    );
    client
        .send_raw(Message::Binary(vec![1_u8, 2, 3].into()))
        .await;
    assert_eq!(
        error_of(&client.frame().await),
        (None, ErrorCode::MalformedFrame)
    );
    let again = ClientMessage::Authenticate(Authenticate {
        token: TOKEN.to_owned(),
    });
    client.send(again, "a1").await;
    assert_eq!(
        error_of(&client.frame().await),
        (Some("a1"), ErrorCode::MalformedFrame)
    );
    assert!(client.drain("still-open").await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_socket_error_closes_with_1009() {
    let mut client = connect().await;
    let broken = std::io::Error::other("frame too large");
    client.to_server.send(Err(broken)).await.unwrap();
    assert_eq!(client.close_code().await, Some(close::FRAME_TOO_LARGE));
}

#[tokio::test(start_paused = true)]
async fn an_own_send_arrives_once_as_its_ack_and_other_messages_live() {
    let mut client = connect().await;
    let me = client.backend.me.user_id;
    let send = ClientMessage::SendMessage(SendFrame {
        conversation_id: CONVERSATION.to_owned(),
        message: chat_models::api::message::SendMessage {
            text: "hi".to_owned(),
            reply_to: None,
            nonce: Some("n1".to_owned()),
            ..Default::default()
        },
    });
    client.send(send, "s1").await;
    match client.frame().await {
        ServerFrame::MessageAck { reference, message } => {
            assert_eq!(reference.as_deref(), Some("s1"));
            assert_eq!((message.seq, message.nonce.as_deref()), (10, Some("n1")));
        }
        other => panic!("expected message.ack, got {other:?}"),
    }
    // Its live event is a second copy; a friend's message is news. (Both go through one
    // queue in order, so the next frame being 11 means 10 was skipped.)
    client.live(10, me, Some("n1"));
    client.live(11, client.backend.friend, None);
    assert_eq!(created_seqs(&[client.frame().await]), [11]);
    assert!(client.drain("after").await.is_empty());
    // A read that fails is answered with its ref.
    let elsewhere = ClientMessage::Read(ReadFrame {
        conversation_id: "65f0c0ffee0000000000000b".to_owned(),
        message_id: "x".to_owned(),
    });
    client.send(elsewhere, "r1").await;
    assert_eq!(
        error_of(&client.frame().await),
        (Some("r1"), ErrorCode::ConversationNotFound)
    );
}

#[tokio::test(start_paused = true)]
async fn resume_replays_what_was_missed_once_then_says_done() {
    let mut client = connect().await;
    let resume = ClientMessage::Resume(ResumeFrame {
        conversations: vec![ResumePoint {
            conversation_id: CONVERSATION.to_owned(),
            last_seq: 3,
            last_version: None,
        }],
    });
    client.send(resume, "r").await;
    let replayed = [client.frame().await, client.frame().await];
    assert_eq!(created_seqs(&replayed), [4, 5]);
    match client.frame().await {
        ServerFrame::ResumeDone { conversations } => {
            assert_eq!(conversations[0].last_seq, 5);
            assert!(!conversations[0].truncated);
        }
        other => panic!("expected resume.done, got {other:?}"),
    }
    // The live copy of a replayed message is skipped (in queue order, 5 came before 6).
    client.live(5, client.backend.friend, None);
    client.live(6, client.backend.friend, None);
    assert_eq!(created_seqs(&[client.frame().await]), [6]);
    assert!(client.drain("live").await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn resume_with_a_version_replays_changes_of_older_messages_too() {
    let mut client = connect().await;
    let resume = ClientMessage::Resume(ResumeFrame {
        conversations: vec![ResumePoint {
            conversation_id: CONVERSATION.to_owned(),
            last_seq: 3,
            last_version: Some(3),
        }],
    });
    client.send(resume, "r").await;
    let replayed = [client.frame().await, client.frame().await];
    assert_eq!(created_seqs(&replayed), [4, 5]);
    match client.frame().await {
        ServerFrame::MessageUpdated(message) => assert_eq!(message.seq, 3),
        other => panic!("expected the changed message, got {other:?}"),
    }
    match client.frame().await {
        ServerFrame::ResumeDone { conversations } => {
            assert_eq!(
                (conversations[0].last_seq, conversations[0].version),
                (5, 5)
            );
        }
        other => panic!("expected resume.done, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn typing_is_announced_to_the_others_and_expires_by_itself() {
    let mut client = connect().await;
    let start = ClientMessage::TypingStart(TypingFrame {
        conversation_id: CONVERSATION.to_owned(),
    });
    client.send(start, "t").await;
    assert_eq!(
        client.frame().await,
        ServerFrame::Ack {
            reference: Some("t".to_owned())
        }
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(client.drain("later").await.is_empty());
    let published = client.backend.ephemeral.lock().unwrap().clone();
    let friend = client.backend.friend;
    assert!(
        matches!(&published[..], [
            (first, ServerFrame::TypingStarted(started)),
            (second, ServerFrame::TypingStopped(_)),
        ] if *first == vec![friend] && *second == vec![friend] && started.expires_in_ms == Some(5000)),
        "{published:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_revoked_session_gets_its_farewell_then_4001() {
    let mut client = connect().await;
    let me = client.backend.me;
    let farewell = Outbound::Frame(encode(&ServerFrame::SessionRevoked {}));
    client.hub.revoke(me.user_id, &[me.session_id], &farewell);
    assert_eq!(client.frame().await, ServerFrame::SessionRevoked {});
    assert_eq!(client.close_code().await, Some(close::SESSION_REVOKED));
}

#[tokio::test(start_paused = true)]
async fn a_client_that_stops_reading_is_closed_as_too_slow() {
    // A socket whose writes wait for the client to read (one message of room).
    let backend = fake();
    let gateway = Gateway {
        hub: std::sync::Arc::new(crate::gateway::hub::Hub::default()),
        settings: std::sync::Arc::new(support::settings()),
        instance: "test".to_owned(),
    };
    let (_to_server, server_in) = unbounded::<Incoming>();
    let (server_out, mut from_server) = futures::channel::mpsc::channel::<Message>(0);
    let session = super::Session::new(backend.clone(), &gateway, backend.me, server_out);
    let done = tokio::spawn(session.run(server_in));
    assert!(
        matches!(from_server.next().await, Some(Message::Text(_))),
        "ready"
    );
    // The client stops reading; frames keep coming.
    for seq in 1..=4 {
        let message = support::message(seq, backend.friend, None);
        let outbound = Outbound::Frame(encode(&ServerFrame::MessageCreated(message)));
        gateway.hub.deliver(&[backend.me.user_id], &outbound);
    }
    tokio::time::sleep(crate::gateway::protocol::WRITE_TIMEOUT * 2).await;
    // Reading again: the backlog the socket took, then the close frame, then the end.
    let mut code = None;
    while let Some(message) = from_server.next().await {
        if let Message::Close(Some(frame)) = message {
            code = Some(frame.code);
        }
    }
    assert_eq!(code, Some(close::TOO_SLOW));
    done.await.unwrap();
    assert_eq!(gateway.hub.connections(), 0, "the socket left the hub");
}

/// A socket's write half that counts its flushes (on a real socket, each is a system call).
struct Counting {
    inner: futures::channel::mpsc::UnboundedSender<Message>,
    flushes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl futures::Sink<Message> for Counting {
    type Error = futures::channel::mpsc::SendError;

    fn poll_ready(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.inner).poll_ready(cx)
    }

    fn start_send(mut self: std::pin::Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        std::pin::Pin::new(&mut self.inner).start_send(item)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.flushes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[tokio::test(start_paused = true)]
async fn frames_queued_meanwhile_go_out_in_order_with_one_flush() {
    let backend = fake();
    let gateway = support::gateway();
    let (_to_server, server_in) = unbounded::<Incoming>();
    let (server_out, mut from_server) = unbounded::<Message>();
    let flushes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sink = Counting {
        inner: server_out,
        flushes: flushes.clone(),
    };
    let session = super::Session::new(backend.clone(), &gateway, backend.me, sink);
    tokio::spawn(session.run(server_in));
    assert!(
        matches!(from_server.next().await, Some(Message::Text(_))),
        "ready"
    );
    let before = flushes.load(std::sync::atomic::Ordering::SeqCst);
    // A queue's worth of frames arrives while the socket's task is not running.
    let queued = support::settings().send_queue as i64;
    for seq in 1..=queued {
        let message = support::message(seq, backend.friend, None);
        let outbound = Outbound::Frame(encode(&ServerFrame::MessageCreated(message)));
        assert_eq!(gateway.hub.deliver(&[backend.me.user_id], &outbound), 1);
    }
    let mut frames = Vec::new();
    while frames.len() < queued as usize {
        match from_server.next().await {
            Some(Message::Text(text)) => frames.push(serde_json::from_str(text.as_str()).unwrap()),
            other => panic!("expected a frame, got {other:?}"),
        }
    }
    assert_eq!(created_seqs(&frames), (1..=queued).collect::<Vec<_>>());
    assert_eq!(
        flushes.load(std::sync::atomic::Ordering::SeqCst) - before,
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_silent_socket_is_closed_as_idle() {
    let mut client = connect().await;
    assert_eq!(client.close_code().await, Some(close::IDLE));
}

#[tokio::test(start_paused = true)]
async fn the_first_frame_authenticates_and_silence_does_not() {
    let backend = fake();
    let (mut to_server, mut server_in) = unbounded::<Incoming>();
    let (mut server_out, mut from_server) = unbounded::<Message>();
    let frame = ClientFrame::new(ClientMessage::Authenticate(Authenticate {
        token: TOKEN.to_owned(),
    }));
    let text = serde_json::to_string(&frame).unwrap();
    to_server
        .send(Ok(Message::Text(text.into())))
        .await
        .unwrap();
    let timeout = Duration::from_secs(5);
    let auth = authenticate(&backend, timeout, &mut server_out, &mut server_in).await;
    assert_eq!(auth, Some(backend.me));

    // Nothing within the time allowed: told why, closed with 4003.
    assert_eq!(
        authenticate(&backend, timeout, &mut server_out, &mut server_in).await,
        None
    );
    let Some(Message::Text(error)) = from_server.next().await else {
        panic!("an error frame first");
    };
    let error: ServerFrame = serde_json::from_str(error.as_str()).unwrap();
    assert_eq!(error_of(&error), (None, ErrorCode::MissingToken));
    let Some(Message::Close(Some(frame))) = from_server.next().await else {
        panic!("then a close frame");
    };
    assert_eq!(frame.code, close::UNAUTHENTICATED);
}
