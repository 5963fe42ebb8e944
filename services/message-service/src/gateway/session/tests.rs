//! The protocol of one socket, without servers: the session runs over in-memory channels with
//! a backend of the tests' own (no database behind it), on a paused clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Message;
use chat_models::api::message::MessageView;
use chat_models::api::user::PublicUser;
use chat_models::api::ws::{
    close, Authenticate, ClientFrame, ClientMessage, NoData, ReadFrame, Ready, ResumeFrame,
    ResumePoint, SendFrame, ServerFrame, TypingFrame,
};
use chat_models::auth::AuthUser;
use chat_models::{ApiError, ErrorCode, Result};
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::{SinkExt as _, StreamExt as _};
use uuid::Uuid;

use super::Session;
use crate::gateway::backend::Backend;
use crate::gateway::handshake::authenticate;
use crate::gateway::hub::{Hub, Outbound};
use crate::gateway::protocol::encode;
use crate::gateway::{Gateway, GatewaySettings};

const CONVERSATION: &str = "65f0c0ffee0000000000000a";
const TOKEN: &str = "good-token";

/// Frames published over the ephemeral channel, with their audience.
type Published = Arc<Mutex<Vec<(Vec<Uuid>, ServerFrame)>>>;

/// A backend that knows one conversation (of `me` and `friend`) and records what it is asked.
#[derive(Clone)]
struct Fake {
    me: AuthUser,
    friend: Uuid,
    ephemeral: Published,
    presence: Arc<Mutex<Vec<&'static str>>>,
}

fn message(seq: i64, sender: Uuid, nonce: Option<&str>) -> MessageView {
    MessageView {
        id: format!("{seq:024x}"),
        conversation_id: CONVERSATION.to_owned(),
        seq,
        sender_uuid: sender,
        text: format!("message {seq}"),
        reply_to: None,
        nonce: nonce.map(str::to_owned),
        created_at: chrono::Utc::now(),
        edited_at: None,
        deleted_at: None,
    }
}

impl Fake {
    fn known(&self, conversation: &str) -> Result<()> {
        if conversation == CONVERSATION {
            Ok(())
        } else {
            Err(ApiError::NotFound(ErrorCode::ConversationNotFound))
        }
    }
}

impl Backend for Fake {
    async fn authenticate(&self, token: &str) -> Result<AuthUser> {
        if token == TOKEN {
            Ok(self.me)
        } else {
            Err(ApiError::Unauthorized(ErrorCode::InvalidToken))
        }
    }

    async fn ready(&self, user: AuthUser) -> Result<Ready> {
        Ok(Ready {
            user: PublicUser {
                uuid: user.user_id,
                username: "ann".to_owned(),
                bio: None,
                profile_picture: None,
                created_at: chrono::Utc::now(),
            },
            session_id: user.session_id,
            conversations: Vec::new(),
            next_cursor: None,
            presence: Vec::new(),
        })
    }

    async fn send(&self, user: Uuid, send: SendFrame) -> Result<MessageView> {
        self.known(&send.conversation_id)?;
        Ok(message(10, user, send.message.nonce.as_deref()))
    }

    async fn read(&self, _user: Uuid, read: ReadFrame) -> Result<()> {
        self.known(&read.conversation_id)
    }

    async fn typing_audience(&self, _user: Uuid, conversation: &str, _: bool) -> Result<Vec<Uuid>> {
        self.known(conversation).map(|()| vec![self.friend])
    }

    async fn publish_ephemeral(&self, audience: Vec<Uuid>, frame: &ServerFrame) {
        if let Ok(mut published) = self.ephemeral.lock() {
            published.push((audience, frame.clone()));
        }
    }

    async fn missed(&self, _user: Uuid, point: &ResumePoint) -> Result<(Vec<MessageView>, bool)> {
        self.known(&point.conversation_id)?;
        let next = point.last_seq + 1;
        Ok((
            vec![
                message(next, self.friend, None),
                message(next + 1, self.friend, None),
            ],
            false,
        ))
    }

    async fn connected(&self, _user: Uuid, _socket: &str) {
        self.presence.lock().unwrap().push("connected");
    }

    async fn heartbeat(&self, _user: Uuid, _socket: &str) {}

    async fn disconnected(&self, _user: Uuid, _socket: &str) {
        self.presence.lock().unwrap().push("disconnected");
    }
}

fn settings() -> GatewaySettings {
    GatewaySettings {
        max_frame_bytes: 4096,
        send_queue: 16,
        ping_interval: Duration::from_secs(20),
        idle_timeout: Duration::from_secs(60),
        auth_timeout: Duration::from_secs(5),
        typing_ttl: Duration::from_secs(5),
        allowed_origins: Vec::new(),
        prefix: "test:".to_owned(),
    }
}

type Incoming = std::result::Result<Message, std::io::Error>;

/// A session under test, and the client's ends of its socket.
struct Client {
    to_server: UnboundedSender<Incoming>,
    from_server: UnboundedReceiver<Message>,
    hub: Arc<Hub>,
    backend: Fake,
}

fn fake() -> Fake {
    Fake {
        me: AuthUser {
            user_id: Uuid::new_v4(),
            session_id: Uuid::new_v4(),
        },
        friend: Uuid::new_v4(),
        ephemeral: Arc::default(),
        presence: Arc::default(),
    }
}

/// Starts a session (already authenticated) and reads its `ready`.
async fn connect() -> Client {
    let backend = fake();
    let gateway = Gateway {
        hub: Arc::new(Hub::default()),
        settings: Arc::new(settings()),
        instance: "test".to_owned(),
    };
    let (to_server, server_in) = unbounded::<Incoming>();
    let (server_out, from_server) = unbounded::<Message>();
    let session = Session::new(backend.clone(), &gateway, backend.me, server_out);
    tokio::spawn(session.run(server_in));
    let mut client = Client {
        to_server,
        from_server,
        hub: gateway.hub,
        backend,
    };
    assert!(matches!(client.frame().await, ServerFrame::Ready(_)));
    client
}

impl Client {
    async fn send(&mut self, message: ClientMessage, reference: &str) {
        let text = serde_json::to_string(&ClientFrame::with_ref(message, reference)).unwrap();
        self.send_raw(Message::Text(text.into())).await;
    }

    async fn send_raw(&mut self, message: Message) {
        self.to_server.send(Ok(message)).await.unwrap();
    }

    /// The next server frame (pings skipped).
    async fn frame(&mut self) -> ServerFrame {
        loop {
            match self.from_server.next().await.expect("the socket is open") {
                Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                Message::Ping(_) => continue,
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }

    /// The frames before the `pong` answering a ping with `marker`.
    async fn drain(&mut self, marker: &str) -> Vec<ServerFrame> {
        self.send(ClientMessage::Ping(NoData), marker).await;
        let mut frames = Vec::new();
        loop {
            match self.frame().await {
                ServerFrame::Pong { reference } if reference.as_deref() == Some(marker) => {
                    return frames
                }
                frame => frames.push(frame),
            }
        }
    }

    /// The close code the server ends with (frames before it skipped).
    async fn close_code(&mut self) -> Option<u16> {
        while let Some(message) = self.from_server.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|frame| frame.code);
            }
        }
        None
    }

    fn live(&self, seq: i64, sender: Uuid, nonce: Option<&str>) {
        let message = message(seq, sender, nonce);
        let outbound = Outbound::Message {
            key: (CONVERSATION.to_owned(), seq),
            origin: (sender, message.nonce.clone()),
            text: encode(&ServerFrame::MessageCreated(message)),
        };
        self.hub.deliver(&[self.backend.me.user_id], &outbound);
    }
}

fn error_of(frame: &ServerFrame) -> (Option<&str>, ErrorCode) {
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
