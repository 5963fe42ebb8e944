//! One socket: authenticate, register, `ready`, then one loop that reads client frames,
//! writes queued frames, pings, expires typing, and closes when told to.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bson::oid::ObjectId;
use chat_models::api::ws::{
    Authenticate, ClientFrame, Presence, ReadFrame, Ready, ResumeFrame, Resumed, SendFrame,
    ServerFrame, Typing, TypingFrame,
};
use chat_models::auth::AuthUser;
use chat_models::events::DomainEvent;
use chat_models::{ApiError, ErrorCode, Result};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt as _, StreamExt as _};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::fanout::{encode, ephemeral_channel, Ephemeral};
use super::hub::{close, Outbound};
use crate::db::conversations as conversation_store;
use crate::db::messages::{self as message_store, Page};
use crate::routes;
use crate::state::AppState;

type Sink = SplitSink<WebSocket, Message>;

/// Most conversations one `resume` frame may name.
const MAX_RESUME_CONVERSATIONS: usize = 200;
/// `message.created` keys remembered per socket to drop duplicates.
const RECENT_KEYS: usize = 4096;

/// Recently written messages of this socket, to skip a second copy of one (a replay and the
/// live event, or an ack and the live event).
#[derive(Default)]
struct Recent {
    keys: HashSet<(String, i64)>,
    order: VecDeque<(String, i64)>,
}

impl Recent {
    /// Records a key; `false` if it was already there.
    fn insert(&mut self, key: (String, i64)) -> bool {
        if !self.keys.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > RECENT_KEYS {
            if let Some(old) = self.order.pop_front() {
                self.keys.remove(&old);
            }
        }
        true
    }
}

/// Serves a socket until it closes.
pub async fn serve(socket: WebSocket, state: AppState, auth: Option<AuthUser>) {
    let (mut sink, mut stream) = socket.split();
    let auth = match auth {
        Some(auth) => auth,
        None => match authenticate(&state, &mut sink, &mut stream).await {
            Some(auth) => auth,
            None => return,
        },
    };
    Connection::new(state, auth, sink).run(stream).await;
}

/// Waits for an `authenticate` frame; on failure tells the client why and closes.
async fn authenticate(
    state: &AppState,
    sink: &mut Sink,
    stream: &mut SplitStream<WebSocket>,
) -> Option<AuthUser> {
    let timeout = state.gateway.settings.auth_timeout;
    let outcome = tokio::time::timeout(timeout, async {
        loop {
            match stream.next().await {
                Some(Ok(Message::Text(text))) => {
                    let frame: ClientFrame = serde_json::from_str(text.as_str())
                        .map_err(|_| ApiError::Unauthorized(ErrorCode::MissingToken))?;
                    if frame.kind != "authenticate" {
                        return Err(ApiError::Unauthorized(ErrorCode::MissingToken));
                    }
                    let data: Authenticate = serde_json::from_value(frame.data)
                        .map_err(|_| ApiError::Unauthorized(ErrorCode::MissingToken))?;
                    return state.auth.authenticate(&data.token).await;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                _ => return Err(ApiError::Unauthorized(ErrorCode::MissingToken)),
            }
        }
    })
    .await
    .unwrap_or(Err(ApiError::Unauthorized(ErrorCode::MissingToken)));
    match outcome {
        Ok(auth) => Some(auth),
        Err(error) => {
            let frame = ServerFrame::Error {
                reference: None,
                error: error.body().error,
            };
            let _ = sink.send(Message::Text(encode(&frame))).await;
            let _ = sink
                .send(close_message(close::UNAUTHENTICATED, "authenticate first"))
                .await;
            None
        }
    }
}

fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

struct Connection {
    state: AppState,
    user: Uuid,
    session: Uuid,
    sink: Sink,
    recent: Recent,
    /// Conversations this socket is typing in, with when that expires.
    typing: HashMap<String, Instant>,
    /// This socket's sends waiting for their `message.ack` (conversation, nonce): the live
    /// `message.created` of such a send is not written, the ack carries it.
    in_flight: HashSet<(String, String)>,
}

impl Connection {
    fn new(state: AppState, auth: AuthUser, sink: Sink) -> Self {
        Self {
            state,
            user: auth.user_id,
            session: auth.session_id,
            sink,
            recent: Recent::default(),
            typing: HashMap::new(),
            in_flight: HashSet::new(),
        }
    }

    async fn run(mut self, mut stream: SplitStream<WebSocket>) {
        let gateway = self.state.gateway.clone();
        let settings = gateway.settings.clone();
        // Registered before anything is read, so no event published from now on is missed.
        let mut registration = gateway
            .hub
            .register(self.user, self.session, settings.send_queue);
        let socket_name = format!("{}:{}", gateway.instance, registration.id);
        match gateway.presence.join(self.user, &socket_name).await {
            Ok(true) => self.announce_presence(true, None).await,
            Ok(false) => {}
            Err(error) => tracing::warn!(error = ?error, "presence join failed"),
        }
        let outcome = match self.ready().await {
            Ok(ready) => self.write(encode(&ready)).await,
            Err(error) => Err(error),
        };
        if outcome.is_ok() {
            self.serve(&mut stream, &mut registration, &socket_name)
                .await;
        }
        gateway.hub.unregister(self.user, registration.id);
        for conversation in std::mem::take(&mut self.typing).into_keys() {
            self.publish_typing(&conversation, false).await;
        }
        match gateway.presence.leave(self.user, &socket_name).await {
            Ok(Some(seen)) => self.announce_presence(false, Some(seen)).await,
            Ok(None) => {}
            Err(error) => tracing::warn!(error = ?error, "presence leave failed"),
        }
    }

    async fn serve(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
        registration: &mut super::hub::Registration,
        socket_name: &str,
    ) {
        let settings = self.state.gateway.settings.clone();
        let mut ping = tokio::time::interval(settings.ping_interval);
        ping.tick().await;
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
        let mut last_heard = Instant::now();
        let kill = registration.kill.clone();
        loop {
            tokio::select! {
                incoming = stream.next() => {
                    last_heard = Instant::now();
                    match incoming {
                        Some(Ok(Message::Text(text))) => {
                            self.on_frame(text.as_str(), &registration.tx).await;
                        }
                        Some(Ok(Message::Binary(_))) => {
                            let error = ApiError::BadRequest(
                                ErrorCode::MalformedFrame,
                                "Send JSON text frames.".to_owned(),
                            );
                            self.send_error(None, &error).await;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Close(_))) | None => return,
                        // Oversized frames and protocol errors end the socket.
                        Some(Err(error)) => {
                            tracing::debug!(error = %error, "socket read failed");
                            let _ = self.sink.send(close_message(1009, "frame too large or invalid")).await;
                            return;
                        }
                    }
                }
                outbound = registration.rx.recv() => {
                    let Some(outbound) = outbound else { return };
                    if self.write_outbound(outbound).await.is_err() {
                        return;
                    }
                }
                (code, reason) = kill.tripped() => {
                    // Flush what is queued (e.g. `session.revoked`) unless too slow to read it.
                    if code != close::TOO_SLOW {
                        while let Ok(outbound) = registration.rx.try_recv() {
                            if self.write_outbound(outbound).await.is_err() {
                                return;
                            }
                        }
                    }
                    self.close(stream, code, reason).await;
                    return;
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > settings.idle_timeout {
                        self.close(stream, close::IDLE, "idle").await;
                        return;
                    }
                    if self.sink.send(Message::Ping(Default::default())).await.is_err() {
                        return;
                    }
                    if let Err(error) = self.state.gateway.presence.refresh(self.user, socket_name).await {
                        tracing::warn!(error = ?error, "presence refresh failed");
                    }
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    let expired: Vec<String> = self
                        .typing
                        .iter()
                        .filter(|(_, until)| **until <= now)
                        .map(|(conversation, _)| conversation.clone())
                        .collect();
                    for conversation in expired {
                        self.typing.remove(&conversation);
                        self.publish_typing(&conversation, false).await;
                    }
                }
            }
        }
    }

    /// Sends a close frame and waits (briefly) for the client's, completing the closing
    /// handshake: dropping the socket with unread client frames would reset the connection,
    /// and the client would see an error instead of the close code.
    async fn close(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
        code: u16,
        reason: &'static str,
    ) {
        if self.sink.send(close_message(code, reason)).await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            while let Some(Ok(message)) = stream.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }

    async fn write(&mut self, text: Utf8Bytes) -> Result<()> {
        self.sink
            .send(Message::Text(text))
            .await
            .map_err(|error| ApiError::Internal(anyhow::anyhow!("socket write failed: {error}")))
    }

    async fn write_outbound(&mut self, outbound: Outbound) -> Result<()> {
        match outbound {
            Outbound::Frame(text) => self.write(text).await,
            Outbound::Ack { key, nonce, text } => {
                if let Some(nonce) = nonce {
                    self.in_flight.remove(&(key.0.clone(), nonce));
                }
                if let Some(key) = key.1.map(|seq| (key.0, seq)) {
                    self.recent.insert(key);
                }
                self.write(text).await
            }
            Outbound::Message { key, origin, text } => {
                let own = match origin {
                    (sender, Some(nonce)) if sender == self.user => {
                        self.in_flight.contains(&(key.0.clone(), nonce))
                    }
                    _ => false,
                };
                if self.recent.insert(key) && !own {
                    self.write(text).await
                } else {
                    Ok(())
                }
            }
        }
    }

    async fn send_error(&mut self, reference: Option<String>, error: &ApiError) {
        let frame = ServerFrame::Error {
            reference,
            error: error.body().error,
        };
        let _ = self.write(encode(&frame)).await;
    }

    async fn ready(&self) -> Result<ServerFrame> {
        let state = &self.state;
        let user = state
            .users
            .batch(vec![self.user], Vec::new())
            .await?
            .pop()
            .ok_or(ApiError::NotFound(ErrorCode::UserNotFound))?;
        let page = routes::conversation_page(state, self.user, None, None).await?;
        let friends = state.friends.friends_of(self.user).await?;
        let presence = state.gateway.presence.of(&friends).await?;
        Ok(ServerFrame::Ready(Box::new(Ready {
            user,
            session_id: self.session,
            conversations: page.conversations,
            next_cursor: page.next_cursor,
            presence,
        })))
    }

    async fn announce_presence(&self, online: bool, seen: Option<bson::DateTime>) {
        let audience = match self.state.friends.friends_of(self.user).await {
            Ok(friends) => friends,
            Err(error) => {
                tracing::warn!(error = ?error, "cannot announce presence");
                return;
            }
        };
        self.state
            .publish(DomainEvent::PresenceUpdated {
                audience,
                presence: Presence {
                    user_uuid: self.user,
                    online,
                    last_seen: seen.map(bson::DateTime::to_chrono),
                },
            })
            .await;
    }

    /// Handles one client frame; answers go straight to the socket or, for work done in a
    /// task of its own, through the socket's queue.
    async fn on_frame(&mut self, text: &str, own_queue: &mpsc::Sender<Outbound>) {
        let frame: ClientFrame = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(_) => {
                let error = ApiError::BadRequest(
                    ErrorCode::MalformedFrame,
                    "Send {\"type\": ..., \"data\": {...}}.".to_owned(),
                );
                return self.send_error(None, &error).await;
            }
        };
        let reference = frame.reference.clone();
        let outcome = match frame.kind.as_str() {
            "ping" => {
                let pong = ServerFrame::Pong {
                    reference: reference.clone(),
                };
                self.write(encode(&pong)).await
            }
            "message.send" => match data::<SendFrame>(frame.data) {
                Ok(send) => {
                    if let Some(nonce) = &send.message.nonce {
                        self.in_flight
                            .insert((send.conversation_id.clone(), nonce.clone()));
                    }
                    self.spawn_send(send, reference.clone(), own_queue.clone());
                    Ok(())
                }
                Err(error) => Err(error),
            },
            "read" => match data::<ReadFrame>(frame.data) {
                Ok(read) => {
                    let state = self.state.clone();
                    let (user, queue, reference) =
                        (self.user, own_queue.clone(), reference.clone());
                    tokio::spawn(async move {
                        let outcome = routes::read_up_to(
                            &state,
                            user,
                            &read.conversation_id,
                            &read.message_id,
                        )
                        .await;
                        let frame = match outcome {
                            Ok(()) => ServerFrame::Ack { reference },
                            Err(error) => ServerFrame::Error {
                                reference,
                                error: error.body().error,
                            },
                        };
                        let _ = queue.try_send(Outbound::Frame(encode(&frame)));
                    });
                    Ok(())
                }
                Err(error) => Err(error),
            },
            "typing.start" | "typing.stop" => {
                let started = frame.kind == "typing.start";
                match data::<TypingFrame>(frame.data) {
                    Ok(typing) => match self.on_typing(typing, started).await {
                        Ok(()) => {
                            let ack = ServerFrame::Ack {
                                reference: reference.clone(),
                            };
                            self.write(encode(&ack)).await
                        }
                        Err(error) => Err(error),
                    },
                    Err(error) => Err(error),
                }
            }
            "resume" => match data::<ResumeFrame>(frame.data) {
                Ok(resume) => self.resume(resume).await,
                Err(error) => Err(error),
            },
            "authenticate" => Err(ApiError::BadRequest(
                ErrorCode::MalformedFrame,
                "Already authenticated.".to_owned(),
            )),
            _ => Err(ApiError::BadRequest(
                ErrorCode::UnknownFrame,
                format!("Unknown frame type {:?}.", frame.kind),
            )),
        };
        if let Err(error) = outcome {
            self.send_error(reference, &error).await;
        }
    }

    fn spawn_send(
        &self,
        send: SendFrame,
        reference: Option<String>,
        queue: mpsc::Sender<Outbound>,
    ) {
        let (state, user) = (self.state.clone(), self.user);
        tokio::spawn(async move {
            let conversation = send.conversation_id.clone();
            let nonce = send.message.nonce.clone();
            let outcome = routes::send_message(&state, user, &conversation, send.message).await;
            let outbound = match outcome {
                Ok((_, message)) => Outbound::Ack {
                    key: (conversation, Some(message.seq)),
                    nonce,
                    text: encode(&ServerFrame::MessageAck { reference, message }),
                },
                // Errors also end the wait, so a later send with this nonce is not hidden.
                Err(error) => Outbound::Ack {
                    key: (conversation, None),
                    nonce,
                    text: encode(&ServerFrame::Error {
                        reference,
                        error: error.body().error,
                    }),
                },
            };
            let _ = queue.try_send(outbound);
        });
    }

    async fn on_typing(&mut self, typing: TypingFrame, started: bool) -> Result<()> {
        let conversation = crate::routes::parse_conversation_id(&typing.conversation_id)?;
        let conversation =
            conversation_store::find_for_member(&self.state.store, conversation, self.user).await?;
        if started {
            routes::require_writable(&self.state, &conversation, self.user).await?;
            let ttl = self.state.gateway.settings.typing_ttl;
            self.typing
                .insert(typing.conversation_id.clone(), Instant::now() + ttl);
            self.publish_typing(&typing.conversation_id, true).await;
        } else if self.typing.remove(&typing.conversation_id).is_some() {
            self.publish_typing(&typing.conversation_id, false).await;
        }
        Ok(())
    }

    /// Tells the conversation's other members (every instance, over pub/sub).
    async fn publish_typing(&self, conversation: &str, started: bool) {
        let Ok(id) = ObjectId::parse_str(conversation) else {
            return;
        };
        let members =
            match conversation_store::find_for_member(&self.state.store, id, self.user).await {
                Ok(found) => found.member_uuids(),
                Err(_) => return,
            };
        let audience: Vec<Uuid> = members
            .into_iter()
            .filter(|member| *member != self.user)
            .collect();
        let ttl = self.state.gateway.settings.typing_ttl;
        let typing = Typing {
            conversation_id: conversation.to_owned(),
            user_uuid: self.user,
            expires_in_ms: started.then(|| u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
        };
        let frame = if started {
            ServerFrame::TypingStarted(typing)
        } else {
            ServerFrame::TypingStopped(typing)
        };
        let event = Ephemeral {
            audience,
            frame: encode(&frame).as_str().to_owned(),
        };
        let Ok(payload) = serde_json::to_string(&event) else {
            return;
        };
        let channel = ephemeral_channel(&self.state.gateway.settings.prefix);
        let published: redis::RedisResult<()> = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(&mut self.state.redis.clone())
            .await;
        if let Err(error) = published {
            tracing::warn!(error = %error, "typing not published");
        }
    }

    /// Replays, per conversation, the messages after the client's last `seq` (up to the
    /// configured number), then `resume.done`. Live events queued meanwhile follow; the ones
    /// the replay already carried are skipped.
    async fn resume(&mut self, resume: ResumeFrame) -> Result<()> {
        if resume.conversations.len() > MAX_RESUME_CONVERSATIONS {
            return Err(ApiError::field(
                "conversations",
                "too_many",
                format!("Resume at most {MAX_RESUME_CONVERSATIONS} conversations at once."),
            ));
        }
        let max = self.state.gateway.settings.resume_max_messages;
        let mut done = Vec::with_capacity(resume.conversations.len());
        for point in resume.conversations {
            let id = crate::routes::parse_conversation_id(&point.conversation_id)?;
            conversation_store::find_for_member(&self.state.store, id, self.user).await?;
            let mut messages =
                message_store::history(&self.state.store, id, Page::After(point.last_seq), max + 1)
                    .await?;
            let truncated = messages.len() > usize::try_from(max).unwrap_or(usize::MAX);
            messages.truncate(usize::try_from(max).unwrap_or(usize::MAX));
            let mut last_seq = point.last_seq;
            for message in messages {
                last_seq = message.seq;
                let key = (point.conversation_id.clone(), message.seq);
                let view = message.view();
                let origin = (view.sender_uuid, None);
                let text = encode(&ServerFrame::MessageCreated(view));
                self.write_outbound(Outbound::Message { key, origin, text })
                    .await?;
            }
            done.push(Resumed {
                conversation_id: point.conversation_id,
                last_seq,
                truncated,
            });
        }
        self.write(encode(&ServerFrame::ResumeDone {
            conversations: done,
        }))
        .await
    }
}

/// A client frame's `data` as `T`, or a `malformed_frame` error.
fn data<T: DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value).map_err(|error| {
        ApiError::BadRequest(
            ErrorCode::MalformedFrame,
            format!("Bad frame data: {error}"),
        )
    })
}
