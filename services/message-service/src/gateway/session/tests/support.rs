//! What the session tests run on: a backend of their own (no database behind it) and a client
//! holding the other ends of in-memory channels.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Message;
use chat_models::api::message::MessageView;
use chat_models::api::user::PublicUser;
use chat_models::api::ws::{
    ClientFrame, ClientMessage, NoData, ReadFrame, Ready, ResumePoint, SendFrame, ServerFrame,
};
use chat_models::auth::AuthUser;
use chat_models::{ApiError, ErrorCode, Result};
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::{SinkExt as _, StreamExt as _};
use uuid::Uuid;

use super::super::Session;
use crate::catch_up::Missed;
use crate::gateway::backend::Backend;
use crate::gateway::hub::{Hub, Outbound};
use crate::gateway::protocol::encode;
use crate::gateway::{Gateway, GatewaySettings};

pub const CONVERSATION: &str = "65f0c0ffee0000000000000a";
pub const TOKEN: &str = "good-token";

/// Frames published over the ephemeral channel, with their audience.
pub type Published = Arc<Mutex<Vec<(Vec<Uuid>, ServerFrame)>>>;

/// A backend that knows one conversation (of `me` and `friend`) and records what it is asked.
#[derive(Clone)]
pub struct Fake {
    pub me: AuthUser,
    pub friend: Uuid,
    pub ephemeral: Published,
    pub presence: Arc<Mutex<Vec<&'static str>>>,
    /// Sends begun, and (when set) the permits a send waits for before it is stored.
    pub sends: Arc<AtomicUsize>,
    pub hold_sends: Option<Arc<tokio::sync::Semaphore>>,
    /// Audience lookups made.
    pub lookups: Arc<AtomicUsize>,
}

pub fn message(seq: i64, sender: Uuid, nonce: Option<&str>) -> MessageView {
    MessageView {
        id: format!("{seq:024x}"),
        conversation_id: CONVERSATION.to_owned(),
        seq,
        sender_uuid: sender,
        text: format!("message {seq}"),
        reply_to: None,
        reply: None,
        nonce: nonce.map(str::to_owned),
        mentions: Vec::new(),
        mentions_everyone: false,
        reactions: Vec::new(),
        pinned_at: None,
        pinned_by: None,
        link_preview: None,
        attachments: Vec::new(),
        version: seq,
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
        let begun = self.sends.fetch_add(1, Ordering::SeqCst);
        if let Some(hold) = &self.hold_sends {
            let _ = hold.acquire().await.map(|permit| permit.forget());
        }
        self.known(&send.conversation_id)?;
        let seq = 10 + i64::try_from(begun).unwrap();
        Ok(message(seq, user, send.message.nonce.as_deref()))
    }

    async fn read(&self, _user: Uuid, read: ReadFrame) -> Result<()> {
        self.known(&read.conversation_id)
    }

    async fn typing_audience(&self, _user: Uuid, conversation: &str, _: bool) -> Result<Vec<Uuid>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.known(conversation).map(|()| vec![self.friend])
    }

    fn count_typing(&self, _user: Uuid) -> Result<()> {
        Ok(())
    }

    async fn publish_ephemeral(&self, audience: Vec<Uuid>, frame: &ServerFrame) {
        if let Ok(mut published) = self.ephemeral.lock() {
            published.push((audience, frame.clone()));
        }
    }

    async fn missed(&self, _user: Uuid, point: &ResumePoint) -> Result<Missed> {
        self.known(&point.conversation_id)?;
        let next = point.last_seq + 1;
        // An older message was edited meanwhile, if the client says what version it has.
        let changed = point
            .last_version
            .map(|_| vec![message(point.last_seq, self.friend, None)])
            .unwrap_or_default();
        Ok(Missed {
            messages: vec![
                message(next, self.friend, None),
                message(next + 1, self.friend, None),
            ],
            truncated: false,
            changed,
            changes_truncated: false,
            version: next + 1,
        })
    }

    async fn connected(&self, _user: Uuid, _socket: &str) {
        self.presence.lock().unwrap().push("connected");
    }

    async fn heartbeat(&self, _user: Uuid, _socket: &str) {}

    async fn disconnected(&self, _user: Uuid, _socket: &str) {
        self.presence.lock().unwrap().push("disconnected");
    }
}

pub fn settings() -> GatewaySettings {
    GatewaySettings {
        max_frame_bytes: 4096,
        send_queue: 16,
        ping_interval: Duration::from_secs(20),
        idle_timeout: Duration::from_secs(60),
        auth_timeout: Duration::from_secs(5),
        typing_ttl: Duration::from_secs(5),
        max_sockets_per_user: 3,
        allowed_origins: Vec::new(),
        prefix: "test:".to_owned(),
    }
}

pub type Incoming = std::result::Result<Message, std::io::Error>;

/// A session under test, and the client's ends of its socket.
pub struct Client {
    pub to_server: UnboundedSender<Incoming>,
    pub from_server: UnboundedReceiver<Message>,
    pub hub: Arc<Hub>,
    pub backend: Fake,
}

pub fn fake() -> Fake {
    Fake {
        me: AuthUser {
            user_id: Uuid::new_v4(),
            session_id: Uuid::new_v4(),
        },
        friend: Uuid::new_v4(),
        ephemeral: Arc::default(),
        presence: Arc::default(),
        sends: Arc::default(),
        hold_sends: None,
        lookups: Arc::default(),
    }
}

/// Starts a session (already authenticated) and reads its `ready`.
pub async fn connect() -> Client {
    connect_to(fake()).await
}

/// Starts a session over `backend` (already authenticated) and reads its `ready`.
pub async fn connect_to(backend: Fake) -> Client {
    let gateway = gateway();
    let mut client = open(backend, &gateway);
    assert!(matches!(client.frame().await, ServerFrame::Ready(_)));
    client
}

/// A gateway of its own, with the test settings.
pub fn gateway() -> Gateway {
    Gateway {
        hub: Arc::new(Hub::default()),
        settings: Arc::new(settings()),
        instance: "test".to_owned(),
    }
}

/// Starts a session of `backend`'s user (already authenticated) on `gateway`.
pub fn open(backend: Fake, gateway: &Gateway) -> Client {
    let (to_server, server_in) = unbounded::<Incoming>();
    let (server_out, from_server) = unbounded::<Message>();
    let session = Session::new(backend.clone(), gateway, backend.me, server_out);
    tokio::spawn(session.run(server_in));
    Client {
        to_server,
        from_server,
        hub: gateway.hub.clone(),
        backend,
    }
}

impl Client {
    pub async fn send(&mut self, message: ClientMessage, reference: &str) {
        let text = serde_json::to_string(&ClientFrame::with_ref(message, reference)).unwrap();
        self.send_raw(Message::Text(text.into())).await;
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.to_server.send(Ok(message)).await.unwrap();
    }

    /// The next server frame (pings skipped).
    pub async fn frame(&mut self) -> ServerFrame {
        loop {
            match self.from_server.next().await.expect("the socket is open") {
                Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                Message::Ping(_) => continue,
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }

    /// The frames before the `pong` answering a ping with `marker`.
    pub async fn drain(&mut self, marker: &str) -> Vec<ServerFrame> {
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
    pub async fn close_code(&mut self) -> Option<u16> {
        while let Some(message) = self.from_server.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|frame| frame.code);
            }
        }
        None
    }

    pub fn live(&self, seq: i64, sender: Uuid, nonce: Option<&str>) {
        let message = message(seq, sender, nonce);
        let outbound = Outbound::message(
            (CONVERSATION.to_owned(), seq),
            (sender, message.nonce.clone()),
            encode(&ServerFrame::MessageCreated(message)),
        );
        self.hub.deliver(&[self.backend.me.user_id], &outbound);
    }
}
