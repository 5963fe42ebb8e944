//! One authenticated socket: registered with the hub, `ready` first, then one loop that reads
//! client frames (handled in [`frames`]), writes queued frames (each message once, see
//! [`Deliveries`]), pings, expires typing, and closes when told to. Generic over the socket's
//! halves and the [`Backend`], so the protocol is tested without servers (`tests.rs`).

mod frames;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::Arc;

use axum::extract::ws::{Message, Utf8Bytes};
use chat_models::api::ws::{close, ServerFrame};
use chat_models::auth::AuthUser;
use chat_models::{ApiError, ErrorCode, Result};
use futures::{Sink, SinkExt as _, Stream, StreamExt as _};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::backend::Backend;
use super::dedup::Deliveries;
use super::hub::{Ack, Hub, Outbound, Registration};
use super::protocol::{
    close_message, encode, error_frame, CLOSE_HANDSHAKE, MAX_IN_FLIGHT, RECENT_KEYS, STALLED_GRACE,
    TYPING_SWEEP, WRITE_BATCH, WRITE_TIMEOUT,
};
use super::{Gateway, GatewaySettings};

/// A socket's state.
pub struct Session<B, S> {
    backend: B,
    hub: Arc<Hub>,
    settings: Arc<GatewaySettings>,
    instance: String,
    auth: AuthUser,
    sink: S,
    deliveries: Deliveries,
    /// Permits for sends and reads being stored; none left, the socket is not read.
    in_flight: Arc<Semaphore>,
    /// Conversations this socket is typing in.
    typing: HashMap<String, frames::Typist>,
    /// A write did not go out in time: the client is too slow.
    stalled: bool,
}

impl<B, S> Session<B, S>
where
    B: Backend,
    S: Sink<Message> + Unpin + Send,
    S::Error: Display,
{
    /// The session of `auth` writing to `sink`.
    pub fn new(backend: B, gateway: &Gateway, auth: AuthUser, sink: S) -> Self {
        Self {
            backend,
            hub: gateway.hub.clone(),
            settings: gateway.settings.clone(),
            instance: gateway.instance.clone(),
            auth,
            sink,
            deliveries: Deliveries::new(RECENT_KEYS),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            typing: HashMap::new(),
            stalled: false,
        }
    }

    /// Serves the socket until it closes, then leaves the hub, stops typing and presence.
    pub async fn run<R, E>(mut self, mut stream: R)
    where
        R: Stream<Item = std::result::Result<Message, E>> + Unpin + Send,
        E: Display,
    {
        let user = self.auth.user_id;
        // Registered before anything is read, so no event published from now on is missed.
        let settings = self.settings.clone();
        let Some(mut registration) = self.hub.register(
            user,
            self.auth.session_id,
            settings.send_queue,
            settings.max_sockets_per_user,
        ) else {
            let error = ApiError::OverLimit(ErrorCode::TooManySockets);
            self.send_error(None, &error).await;
            let close = close_message(close::TOO_MANY_SOCKETS, "too many sockets");
            let _ = self.send(close).await;
            return;
        };
        let socket = format!("{}:{}", self.instance, registration.id);
        // Work that needs large futures (the database, Redis) is boxed: the socket's task is
        // allocated once, at the size of its largest state, and an idle socket should only pay
        // for the loop's own.
        Box::pin(self.backend.connected(user, &socket)).await;
        match Box::pin(self.backend.ready(self.auth)).await {
            Ok(ready) => {
                if self
                    .write_frame(&ServerFrame::Ready(Box::new(ready)))
                    .await
                    .is_ok()
                {
                    self.serve(&mut stream, &mut registration, &socket).await;
                }
            }
            Err(error) => error.report(),
        }
        if self.stalled {
            // The close frame goes out if the client reads again within the grace period;
            // either way the socket is dropped after it.
            let close = close_message(close::TOO_SLOW, "too slow");
            let _ = tokio::time::timeout(STALLED_GRACE, self.sink.send(close)).await;
        }
        self.hub.unregister(user, registration.id);
        for (conversation, typist) in std::mem::take(&mut self.typing) {
            Box::pin(self.announce_stop(&conversation, typist)).await;
        }
        Box::pin(self.backend.disconnected(user, &socket)).await;
    }

    async fn serve<R, E>(&mut self, stream: &mut R, registration: &mut Registration, socket: &str)
    where
        R: Stream<Item = std::result::Result<Message, E>> + Unpin + Send,
        E: Display,
    {
        let settings = self.settings.clone();
        let mut ping = tokio::time::interval(settings.ping_interval);
        ping.tick().await;
        let mut sweep = tokio::time::interval(TYPING_SWEEP);
        let mut last_heard = Instant::now();
        let kill = registration.kill.clone();
        loop {
            tokio::select! {
                // While every permit is taken the socket is not read: the client waits.
                incoming = stream.next(), if self.in_flight.available_permits() > 0 => {
                    last_heard = Instant::now();
                    match incoming {
                        Some(Ok(Message::Text(text))) => {
                            Box::pin(self.on_text(text.as_str(), &registration.tx)).await;
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
                            let frame = close_message(close::FRAME_TOO_LARGE, "frame too large or invalid");
                            let _ = self.send(frame).await;
                            return;
                        }
                    }
                }
                outbound = registration.rx.recv_async() => {
                    let Ok(outbound) = outbound else { return };
                    if self.write_queued(outbound, &registration.rx).await.is_err() {
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
                    Box::pin(self.close(stream, code, reason)).await;
                    return;
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > settings.idle_timeout {
                        Box::pin(self.close(stream, close::IDLE, "idle")).await;
                        return;
                    }
                    if self.send(Message::Ping(Default::default())).await.is_err() {
                        return;
                    }
                    // In a task of its own: a slow Redis must not hold up the socket.
                    let (backend, user, socket) =
                        (self.backend.clone(), self.auth.user_id, socket.to_owned());
                    tokio::spawn(async move { backend.heartbeat(user, &socket).await });
                }
                _ = sweep.tick() => {
                    let now = Instant::now();
                    let expired: Vec<String> = self
                        .typing
                        .iter()
                        .filter(|(_, typist)| typist.until <= now)
                        .map(|(conversation, _)| conversation.clone())
                        .collect();
                    for conversation in expired {
                        if let Some(typist) = self.typing.remove(&conversation) {
                            Box::pin(self.announce_stop(&conversation, typist)).await;
                        }
                    }
                }
            }
        }
    }

    /// Sends a close frame and waits (briefly) for the client's, completing the closing
    /// handshake: dropping the socket with unread client frames would reset the connection,
    /// and the client would see an error instead of the close code.
    async fn close<R, E>(&mut self, stream: &mut R, code: u16, reason: &'static str)
    where
        R: Stream<Item = std::result::Result<Message, E>> + Unpin + Send,
    {
        if self.send(close_message(code, reason)).await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
            while let Some(Ok(message)) = stream.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }

    /// Sends one message, within [`WRITE_TIMEOUT`]: a frame that cannot go out that long
    /// means the client stopped reading (its and our kernel buffers are full); the session
    /// then ends as too slow.
    async fn send(&mut self, message: Message) -> Result<()> {
        let outcome = tokio::time::timeout(WRITE_TIMEOUT, self.sink.send(message)).await;
        self.written(outcome)
    }

    /// Buffers one message (written once the buffer is full), within [`WRITE_TIMEOUT`].
    async fn feed(&mut self, message: Message) -> Result<()> {
        let outcome = tokio::time::timeout(WRITE_TIMEOUT, self.sink.feed(message)).await;
        self.written(outcome)
    }

    /// Writes what [`Self::feed`] buffered, within [`WRITE_TIMEOUT`].
    async fn flush(&mut self) -> Result<()> {
        let outcome = tokio::time::timeout(WRITE_TIMEOUT, self.sink.flush()).await;
        self.written(outcome)
    }

    /// The outcome of a timed write; one that timed out marks the session as stalled.
    fn written(
        &mut self,
        outcome: std::result::Result<
            std::result::Result<(), S::Error>,
            tokio::time::error::Elapsed,
        >,
    ) -> Result<()> {
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(ApiError::Internal(anyhow::anyhow!(
                "socket write failed: {error}"
            ))),
            Err(_) => {
                self.stalled = true;
                Err(ApiError::Internal(anyhow::anyhow!("socket write stalled")))
            }
        }
    }

    async fn write(&mut self, text: Utf8Bytes) -> Result<()> {
        self.send(Message::Text(text)).await
    }

    async fn write_frame(&mut self, frame: &ServerFrame) -> Result<()> {
        self.write(encode(frame)).await
    }

    async fn write_outbound(&mut self, outbound: Outbound) -> Result<()> {
        match self.admit(outbound) {
            Some(text) => self.write(text).await,
            None => Ok(()),
        }
    }

    /// Writes `first` and what else is queued already (up to [`WRITE_BATCH`] frames) with one
    /// flush: under load a socket's frames leave in a few system calls, not one each.
    async fn write_queued(
        &mut self,
        first: Outbound,
        queue: &flume::Receiver<Outbound>,
    ) -> Result<()> {
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(outbound) = next {
            if let Some(text) = self.admit(outbound) {
                self.feed(Message::Text(text)).await?;
            }
            taken += 1;
            next = (taken < WRITE_BATCH)
                .then(|| queue.try_recv().ok())
                .flatten();
        }
        self.flush().await
    }

    /// The text to write for a queued frame, if this socket should see it: a message once
    /// (not the live copy of what it sent or was replayed, see [`Deliveries`]).
    fn admit(&mut self, outbound: Outbound) -> Option<Utf8Bytes> {
        match outbound {
            Outbound::Frame(text) => Some(text),
            Outbound::Ack(ack) => {
                let Ack {
                    key: (conversation, seq),
                    nonce,
                    text,
                } = *ack;
                self.deliveries
                    .answered(&conversation, nonce.as_deref(), seq);
                Some(text)
            }
            Outbound::Message(message) => {
                let (sender, nonce) = &message.origin;
                self.deliveries
                    .admit(
                        self.auth.user_id,
                        message.key.clone(),
                        *sender,
                        nonce.as_deref(),
                    )
                    .then(|| message.text.clone())
            }
        }
    }

    async fn send_error(&mut self, reference: Option<String>, error: &ApiError) {
        let _ = self.write_frame(&error_frame(reference, error)).await;
    }
}
