//! The state every handler and use case can extract from.

use std::sync::Arc;

use axum::extract::FromRef;
use chat_models::auth::{Authenticator, ServiceToken};
use chat_models::clients::{FriendsDirectory, UserDirectory};
use chat_models::events::DomainEvent;
use chat_models::health::{self, ChecksFuture, Readiness};

use crate::db::Store;
use crate::gateway::Gateway;
use crate::presence::PresenceStore;

/// The state every handler, use case and socket shares: one pointer. Each request and each
/// socket holds a clone (an idle socket's task holds one for its whole life), so a clone is
/// one reference count, not a copy of every handle below.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Shares `shared`.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for Authenticator {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<AppState> for ServiceToken {
    fn from_ref(state: &AppState) -> Self {
        state.service_token.clone()
    }
}

/// What [`AppState`] points to.
pub struct Shared {
    /// MongoDB collections.
    pub store: Store,
    /// Redis (typing over pub/sub, readiness).
    pub redis: redis::aio::ConnectionManager,
    /// Access-token verification and revocation checks.
    pub auth: Authenticator,
    /// Profiles from user-service.
    pub users: UserDirectory,
    /// Friendships from friends-service.
    pub friends: FriendsDirectory,
    /// Memberships of conversations found (a send's first check).
    pub memberships: crate::memberships::Memberships,
    /// The event stream, with a MongoDB fallback while Redis is away.
    pub outbox: crate::outbox::Outbox,
    /// Who is online, across instances.
    pub presence: PresenceStore,
    /// The `/internal` shared secret.
    pub service_token: ServiceToken,
    /// Fixed at start-up.
    pub settings: Arc<Settings>,
    /// The WebSocket gateway's shared parts.
    pub gateway: Gateway,
    /// What one user may do per unit of time.
    pub limits: Arc<crate::limits::UserLimits>,
    /// Message search.
    pub search: crate::search::Search,
    /// The link-preview fetcher (`None`: previews are off).
    pub previews: Option<crate::previews::Fetcher>,
    /// Web push (`None`: no VAPID key configured).
    pub push: Option<crate::push::Push>,
    /// Attachments and group pictures.
    pub files: crate::files::Files,
}

/// Start-up settings the use cases need.
#[derive(Debug)]
pub struct Settings {
    /// Most members of a group, admin included.
    pub max_group_members: usize,
    /// Most messages one `resume` replays per conversation.
    pub resume_max_messages: i64,
}

impl AppState {
    /// Publishes an event after the change it describes is stored (parked in MongoDB while
    /// Redis is away). A failure is logged, not returned: the change stands, and clients that
    /// missed the live event catch up from MongoDB (history pages with `after`, and resume).
    pub async fn publish(&self, event: DomainEvent) {
        self.outbox.publish(event).await;
    }
}

impl Readiness for AppState {
    fn check(&self) -> ChecksFuture<'_> {
        Box::pin(async move {
            let (mongodb, redis, storage) = tokio::join!(
                health::mongo(&self.store.db),
                health::redis(&self.redis),
                self.files.intake.storage.check()
            );
            vec![("mongodb", mongodb), ("redis", redis), ("storage", storage)]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_a_socket_holds_is_one_pointer() {
        // Every idle socket's task holds an `AppState` for its whole life.
        assert_eq!(
            std::mem::size_of::<AppState>(),
            std::mem::size_of::<usize>()
        );
    }
}
