//! What a socket session asks of the rest of the service, as the trait [`Backend`]: the
//! session speaks the protocol, the backend answers with the use cases (`crate::messaging`,
//! `crate::conversations`), presence and the ephemeral channel. The service's [`AppState`]
//! is the backend; the session's unit tests use one of their own, without servers.

use std::future::Future;

use chat_models::api::message::MessageView;
use chat_models::api::ws::{Presence, ReadFrame, Ready, ResumePoint, SendFrame, ServerFrame};
use chat_models::auth::AuthUser;
use chat_models::events::DomainEvent;
use chat_models::{ApiError, ErrorCode, Result};
use uuid::Uuid;

use super::fanout::{ephemeral_channel, Ephemeral};
use super::protocol::encode;
use crate::catch_up::Missed;
use crate::messaging::{self, Stored};
use crate::state::AppState;

/// The service behind a socket.
pub trait Backend: Clone + Send + Sync + 'static {
    /// The user and session of an access token (an `authenticate` frame's).
    fn authenticate(&self, token: &str) -> impl Future<Output = Result<AuthUser>> + Send;
    /// The `ready` frame of a new socket: the user, their first conversations, friends' presence.
    fn ready(&self, user: AuthUser) -> impl Future<Output = Result<Ready>> + Send;
    /// Stores a `message.send`: the message stored (the earlier one for a repeated nonce).
    fn send(&self, user: Uuid, send: SendFrame)
        -> impl Future<Output = Result<MessageView>> + Send;
    /// Moves `user`'s read position.
    fn read(&self, user: Uuid, read: ReadFrame) -> impl Future<Output = Result<()>> + Send;
    /// Who should see `user` typing in a conversation; refuses non-members, and starting where
    /// `user` may not write.
    fn typing_audience(
        &self,
        user: Uuid,
        conversation: &str,
        starting: bool,
    ) -> impl Future<Output = Result<Vec<Uuid>>> + Send;
    /// Counts a typing announcement of `user` against their allowance.
    fn count_typing(&self, user: Uuid) -> Result<()>;
    /// Delivers a frame to the sockets of `audience` on every instance, now or never.
    fn publish_ephemeral(
        &self,
        audience: Vec<Uuid>,
        frame: &ServerFrame,
    ) -> impl Future<Output = ()> + Send;
    /// What `user` missed in a conversation: new messages after a position, and changes to
    /// older ones after a version.
    fn missed(
        &self,
        user: Uuid,
        point: &ResumePoint,
    ) -> impl Future<Output = Result<Missed>> + Send;
    /// A socket of `user` opened (presence; friends hear of a first one).
    fn connected(&self, user: Uuid, socket: &str) -> impl Future<Output = ()> + Send;
    /// A socket of `user` is still there.
    fn heartbeat(&self, user: Uuid, socket: &str) -> impl Future<Output = ()> + Send;
    /// A socket of `user` closed (friends hear of a last one, with the last-seen time).
    fn disconnected(&self, user: Uuid, socket: &str) -> impl Future<Output = ()> + Send;
}

impl Backend for AppState {
    async fn authenticate(&self, token: &str) -> Result<AuthUser> {
        self.auth.authenticate(token).await
    }

    async fn ready(&self, auth: AuthUser) -> Result<Ready> {
        let user = self
            .users
            .batch(vec![auth.user_id], Vec::new())
            .await?
            .pop()
            .ok_or(ApiError::NotFound(ErrorCode::UserNotFound))?;
        let page = crate::conversations::page(self, auth.user_id, None, None).await?;
        let friends = self.friends.friends_of(auth.user_id).await?;
        let presence = self.presence.of(&friends).await?;
        Ok(Ready {
            user,
            session_id: auth.session_id,
            conversations: page.conversations,
            next_cursor: page.next_cursor,
            presence,
        })
    }

    async fn send(&self, user: Uuid, send: SendFrame) -> Result<MessageView> {
        match messaging::send(self, user, &send.conversation_id, send.message).await? {
            Stored::New(message) | Stored::Repeated(message) => Ok(message),
        }
    }

    async fn read(&self, user: Uuid, read: ReadFrame) -> Result<()> {
        messaging::read_up_to(self, user, &read.conversation_id, &read.message_id).await
    }

    async fn typing_audience(
        &self,
        user: Uuid,
        conversation: &str,
        starting: bool,
    ) -> Result<Vec<Uuid>> {
        messaging::typing_audience(self, user, conversation, starting).await
    }

    fn count_typing(&self, user: Uuid) -> Result<()> {
        self.limits.typing(user)
    }

    async fn publish_ephemeral(&self, audience: Vec<Uuid>, frame: &ServerFrame) {
        let event = Ephemeral {
            audience,
            frame: encode(frame).as_str().to_owned(),
        };
        let Ok(payload) = serde_json::to_string(&event) else {
            return;
        };
        let channel = ephemeral_channel(&self.gateway.settings.prefix);
        let published: redis::RedisResult<()> = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(&mut self.redis.clone())
            .await;
        if let Err(error) = published {
            tracing::warn!(error = %error, "ephemeral frame not published");
        }
    }

    async fn missed(&self, user: Uuid, point: &ResumePoint) -> Result<Missed> {
        crate::catch_up::missed(self, user, point).await
    }

    async fn connected(&self, user: Uuid, socket: &str) {
        match self.presence.join(user, socket).await {
            Ok(true) => announce_presence(self, user, None).await,
            Ok(false) => {}
            Err(error) => tracing::warn!(error = ?error, "presence join failed"),
        }
    }

    async fn heartbeat(&self, user: Uuid, socket: &str) {
        if let Err(error) = self.presence.refresh(user, socket).await {
            tracing::warn!(error = ?error, "presence refresh failed");
        }
    }

    async fn disconnected(&self, user: Uuid, socket: &str) {
        match self.presence.leave(user, socket).await {
            Ok(Some(seen)) => announce_presence(self, user, Some(seen)).await,
            Ok(None) => {}
            Err(error) => tracing::warn!(error = ?error, "presence leave failed"),
        }
    }
}

/// Announces offline, every sweep interval, the users whose last socket expired without a
/// goodbye (its instance crashed or lost Redis); one instance announces each.
pub async fn announce_expired(state: AppState) {
    let mut every = tokio::time::interval(state.presence.sweep_interval());
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match state.presence.expired(100).await {
            Ok(users) => {
                for (user, seen) in users {
                    announce_presence(&state, user, Some(seen)).await;
                }
            }
            Err(error) => tracing::debug!(error = ?error, "presence sweep failed"),
        }
    }
}

/// Tells `user`'s friends they came online (`seen: None`) or went offline.
async fn announce_presence(state: &AppState, user: Uuid, seen: Option<bson::DateTime>) {
    let audience = match state.friends.friends_of(user).await {
        Ok(friends) => friends,
        Err(error) => {
            tracing::warn!(error = ?error, "cannot announce presence");
            return;
        }
    };
    state
        .publish(DomainEvent::PresenceUpdated {
            audience,
            presence: Presence {
                user_uuid: user,
                online: seen.is_none(),
                last_seen: seen.map(bson::DateTime::to_chrono),
            },
        })
        .await;
}
