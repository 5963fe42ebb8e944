//! The session's frame handlers: one per client frame type (`ping`, `message.send`, `read`,
//! `typing.*`, `resume`), plus typing announcements. Sends and reads are stored in tasks of
//! their own, at most `protocol::MAX_IN_FLIGHT` at once per socket; a `typing.start` renewed within
//! half its lifetime only extends it (no lookup, no announcement).

use std::fmt::Display;

use axum::extract::ws::Message;
use chat_models::api::ws::{
    ClientMessage, ReadFrame, ResumeFrame, Resumed, SendFrame, ServerFrame, Typing, TypingFrame,
};
use chat_models::{ApiError, ErrorCode, Result};
use futures::Sink;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use uuid::Uuid;

use super::Session;
use crate::gateway::backend::Backend;
use crate::gateway::hub::{Ack, Outbound};
use crate::gateway::protocol::{
    decode, encode, error_frame, MAX_RESUME_CONVERSATIONS, TYPING_AUDIENCE_TTL,
};

/// A conversation a socket is typing in.
#[derive(Debug)]
pub(super) struct Typist {
    /// When the typing stops unless renewed.
    pub until: Instant,
    /// When the others were last told.
    announced: Instant,
    /// Who is told, and when that was looked up.
    audience: Vec<Uuid>,
    looked_up: Instant,
}

impl<B, S> Session<B, S>
where
    B: Backend,
    S: Sink<Message> + Unpin + Send,
    S::Error: Display,
{
    /// Handles one client frame; answers go straight to the socket or, for work done in a
    /// task of its own (sends, reads), through the socket's queue.
    pub(super) async fn on_text(&mut self, text: &str, own_queue: &flume::Sender<Outbound>) {
        let frame = match decode(text) {
            Ok(frame) => frame,
            Err(rejected) => return self.send_error(rejected.reference, &rejected.error).await,
        };
        let reference = frame.reference;
        let outcome = match frame.message {
            ClientMessage::Ping(_) => {
                let pong = ServerFrame::Pong {
                    reference: reference.clone(),
                };
                self.write_frame(&pong).await
            }
            ClientMessage::SendMessage(send) => {
                self.spawn_send(send, reference.clone(), own_queue.clone())
            }
            ClientMessage::Read(read) => {
                self.spawn_read(read, reference.clone(), own_queue.clone())
            }
            ClientMessage::TypingStart(typing) => self.on_typing(typing, true, &reference).await,
            ClientMessage::TypingStop(typing) => self.on_typing(typing, false, &reference).await,
            ClientMessage::Resume(resume) => self.resume(resume).await,
            ClientMessage::Authenticate(_) => Err(ApiError::BadRequest(
                ErrorCode::MalformedFrame,
                "Already authenticated.".to_owned(),
            )),
        };
        if let Err(error) = outcome {
            self.send_error(reference, &error).await;
        }
    }

    /// A permit for one more send or read. The loop reads a frame only while one is free,
    /// so this fails only if that invariant is broken.
    fn permit(&self) -> Result<OwnedSemaphorePermit> {
        self.in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Unavailable {
                code: ErrorCode::ServerBusy,
                retry_after_secs: 1,
            })
    }

    fn spawn_send(
        &mut self,
        send: SendFrame,
        reference: Option<String>,
        queue: flume::Sender<Outbound>,
    ) -> Result<()> {
        let permit = self.permit()?;
        if let Some(nonce) = &send.message.nonce {
            self.deliveries.sending(&send.conversation_id, nonce);
        }
        let (backend, user) = (self.backend.clone(), self.auth.user_id);
        tokio::spawn(async move {
            let conversation = send.conversation_id.clone();
            let nonce = send.message.nonce.clone();
            let outbound = match backend.send(user, send).await {
                Ok(message) => Outbound::Ack(Box::new(Ack {
                    key: (conversation, Some(message.seq)),
                    nonce,
                    text: encode(&ServerFrame::MessageAck { reference, message }),
                })),
                // Errors also end the wait, so a later send with this nonce is not hidden.
                Err(error) => Outbound::Ack(Box::new(Ack {
                    key: (conversation, None),
                    nonce,
                    text: encode(&error_frame(reference, &error)),
                })),
            };
            // Freed first: the answer wakes the loop, which then reads again.
            drop(permit);
            let _ = queue.try_send(outbound);
        });
        Ok(())
    }

    fn spawn_read(
        &self,
        read: ReadFrame,
        reference: Option<String>,
        queue: flume::Sender<Outbound>,
    ) -> Result<()> {
        let permit = self.permit()?;
        let (backend, user) = (self.backend.clone(), self.auth.user_id);
        tokio::spawn(async move {
            let frame = match backend.read(user, read).await {
                Ok(()) => ServerFrame::Ack { reference },
                Err(error) => error_frame(reference, &error),
            };
            drop(permit);
            let _ = queue.try_send(Outbound::Frame(encode(&frame)));
        });
        Ok(())
    }

    async fn on_typing(
        &mut self,
        typing: TypingFrame,
        started: bool,
        reference: &Option<String>,
    ) -> Result<()> {
        let conversation = typing.conversation_id;
        if started {
            self.start_typing(conversation).await?;
        } else if let Some(typist) = self.typing.remove(&conversation) {
            self.announce_stop(&conversation, typist).await;
        }
        let ack = ServerFrame::Ack {
            reference: reference.clone(),
        };
        self.write_frame(&ack).await
    }

    /// Starts or renews typing: the others are told at most twice per lifetime, within the
    /// user's typing allowance, and who they are is looked up at most every
    /// [`TYPING_AUDIENCE_TTL`].
    async fn start_typing(&mut self, conversation: String) -> Result<()> {
        let now = Instant::now();
        let ttl = self.settings.typing_ttl;
        if let Some(typist) = self.typing.get_mut(&conversation) {
            typist.until = now + ttl;
            if now < typist.announced + ttl / 2 {
                return Ok(());
            }
        }
        self.backend.count_typing(self.auth.user_id)?;
        let known = self
            .typing
            .get(&conversation)
            .filter(|typist| now < typist.looked_up + TYPING_AUDIENCE_TTL)
            .map(|typist| (typist.audience.clone(), typist.looked_up));
        let (audience, looked_up) = match known {
            Some(known) => known,
            None => {
                let audience = self
                    .backend
                    .typing_audience(self.auth.user_id, &conversation, true)
                    .await?;
                (audience, now)
            }
        };
        self.publish_typing(&conversation, audience.clone(), true)
            .await;
        self.typing.insert(
            conversation,
            Typist {
                until: now + ttl,
                announced: now,
                audience,
                looked_up,
            },
        );
        Ok(())
    }

    /// Tells the conversation's other members this socket stopped typing.
    pub(super) async fn announce_stop(&self, conversation: &str, typist: Typist) {
        self.publish_typing(conversation, typist.audience, false)
            .await;
    }

    async fn publish_typing(&self, conversation: &str, audience: Vec<Uuid>, started: bool) {
        let ttl = self.settings.typing_ttl;
        let typing = Typing {
            conversation_id: conversation.to_owned(),
            user_uuid: self.auth.user_id,
            expires_in_ms: started.then(|| u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
        };
        let frame = if started {
            ServerFrame::TypingStarted(typing)
        } else {
            ServerFrame::TypingStopped(typing)
        };
        self.backend.publish_ephemeral(audience, &frame).await;
    }

    /// Replays, per conversation, the messages after the client's last `seq` and then, as
    /// `message.updated`, the older messages changed after its `last_version` (each up to the
    /// configured number), then `resume.done`. Live events queued meanwhile follow; the
    /// `message.created` the replay already carried are skipped.
    async fn resume(&mut self, resume: ResumeFrame) -> Result<()> {
        if resume.conversations.len() > MAX_RESUME_CONVERSATIONS {
            return Err(ApiError::field(
                "conversations",
                "too_many",
                format!("Resume at most {MAX_RESUME_CONVERSATIONS} conversations at once."),
            ));
        }
        let mut done = Vec::with_capacity(resume.conversations.len());
        for point in resume.conversations {
            let missed = self.backend.missed(self.auth.user_id, &point).await?;
            let mut last_seq = point.last_seq;
            for message in missed.messages {
                last_seq = message.seq;
                let key = (point.conversation_id.clone(), message.seq);
                let origin = (message.sender_uuid, None);
                let text = encode(&ServerFrame::MessageCreated(message));
                self.write_outbound(Outbound::message(key, origin, text))
                    .await?;
            }
            for message in missed.changed {
                self.write_frame(&ServerFrame::MessageUpdated(message))
                    .await?;
            }
            done.push(Resumed {
                conversation_id: point.conversation_id,
                last_seq,
                truncated: missed.truncated,
                version: missed.version,
                changes_truncated: missed.changes_truncated,
            });
        }
        self.write_frame(&ServerFrame::ResumeDone {
            conversations: done,
        })
        .await
    }
}
