//! What message-service does when other services' events arrive (the `message-service`
//! consumer group): a deleted account's conversations are cleaned up, and friendships ending
//! or starting make a direct conversation read-only or writable again (`conversation.updated`
//! with `can_send`, so clients update the composer), and signed-out sessions lose their push
//! subscriptions. Named apart from message reactions.

use chat_models::events::{ConversationEvent, DomainEvent};
use chat_models::Result;
use uuid::Uuid;

use crate::conversations::announce_deleted;
use crate::db::conversations as store;
use crate::db::{messages, push, reads};
use crate::groups;
use crate::state::AppState;

/// Forgets the remembered profiles, friendships, memberships and sessions in force an event
/// says changed (only existing friendships and memberships are remembered, so a new one needs
/// nothing). Every instance reads the whole stream (the gateway's tail), so each forgets for
/// itself; the tail skips events with an audience holding no socket here, so memberships can
/// also be forgotten by their age only (a send's transaction checks them again).
pub fn forget_changed(state: &AppState, event: &DomainEvent) {
    state.memberships.forget_ended(event);
    match event {
        DomainEvent::UserUpdated { user_uuid } | DomainEvent::UserDeleted { user_uuid } => {
            state.users.forget(*user_uuid);
        }
        DomainEvent::FriendshipRemoved {
            user_uuid,
            friend_uuid,
        } => state.friends.forget(*user_uuid, *friend_uuid),
        DomainEvent::UserBlocked {
            blocker_uuid,
            blocked_uuid,
        } => state.friends.forget(*blocker_uuid, *blocked_uuid),
        DomainEvent::SessionRevoked { session_ids, .. } => {
            state.auth.revocations.forget(session_ids);
        }
        _ => {}
    }
}

/// The events [`handle`] acts on: its consumer group acknowledges the others unread.
pub const HANDLED: &[&str] = &[
    "user.deleted",
    "session.revoked",
    "friendship.removed",
    "friend_request.accepted",
];

/// Handles one event of the stream (others' and our own; most are not for us).
pub async fn handle(state: &AppState, event: DomainEvent) -> Result<()> {
    match event {
        DomainEvent::UserDeleted { user_uuid } => {
            remove_deleted_user(state, user_uuid).await?;
            tracing::info!(user_id = %user_uuid, "removed a deleted user's conversations");
        }
        // Signed-out sessions' browsers get no more pushes.
        DomainEvent::SessionRevoked {
            user_uuid,
            session_ids,
        } => {
            push::remove_sessions(&state.store, user_uuid, &session_ids).await?;
        }
        DomainEvent::FriendshipRemoved {
            user_uuid,
            friend_uuid,
        } => announce_direct(state, user_uuid, friend_uuid, false).await?,
        DomainEvent::FriendRequestAccepted(request) => {
            announce_direct(state, request.sender_uuid, request.receiver_uuid, true).await?;
        }
        _ => {}
    }
    Ok(())
}

async fn announce_direct(state: &AppState, a: Uuid, b: Uuid, can_send: bool) -> Result<()> {
    if let Some(conversation) = store::find_direct(&state.store, a, b).await? {
        state
            .publish(DomainEvent::ConversationUpdated(ConversationEvent {
                audience: conversation.member_uuids(),
                conversation: conversation.info(can_send),
            }))
            .await;
    }
    Ok(())
}

/// Removes what a deleted account leaves behind: its direct conversations (with their
/// messages), its group memberships (handing admin on), its read positions, its files; its
/// messages in groups are blanked but keep their place. Idempotent, as events may come twice.
pub async fn remove_deleted_user(state: &AppState, user: Uuid) -> Result<()> {
    for conversation in store::all_of_member(&state.store, user).await? {
        if conversation.is_group {
            groups::leave(state, conversation.id, user).await?;
        } else if store::delete(&state.store, conversation.id).await? {
            announce_deleted(state, conversation.member_uuids(), conversation.id).await;
        }
    }
    messages::blank_all_of(&state.store, user).await?;
    crate::files::forget_user(state, user).await?;
    reads::forget_user(&state.store, user).await?;
    state.presence.forget(user).await?;
    push::forget_user(&state.store, user).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chat_models::events::{audience_of, DomainEvent, EventEnvelope};
    use uuid::Uuid;

    /// The consumer group reads only the types in `HANDLED`: each event `handle` acts on is one.
    #[test]
    fn the_events_handled_are_the_types_the_group_reads() {
        use chat_models::events::FriendRequestEvent;
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let handled = [
            DomainEvent::UserDeleted { user_uuid: a },
            DomainEvent::SessionRevoked {
                user_uuid: a,
                session_ids: vec![b],
            },
            DomainEvent::FriendshipRemoved {
                user_uuid: a,
                friend_uuid: b,
            },
            DomainEvent::FriendRequestAccepted(FriendRequestEvent {
                request_id: 1,
                sender_uuid: a,
                receiver_uuid: b,
            }),
        ];
        let names: Vec<&str> = handled.iter().map(DomainEvent::name).collect();
        assert_eq!(names, super::HANDLED);
        let created =
            chat_models::events::DomainEvent::MessageCreated(chat_models::events::MessageEvent {
                audience: vec![a],
                message: serde_json::from_value(serde_json::json!({
                    "id": "m", "conversation_id": "c", "seq": 1, "sender_uuid": a,
                    "text": "hi", "created_at": "2026-12-06T00:00:00Z",
                }))
                .unwrap(),
            });
        assert_eq!(crate::push::HANDLED, [created.name()]);
    }

    /// The gateway's tail skips an event whose audience holds no socket on the instance; the
    /// events [`super::forget_changed`] acts on must reach every instance, so none has one.
    #[test]
    fn the_events_that_change_remembered_data_reach_every_instance() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let events = [
            DomainEvent::UserUpdated { user_uuid: a },
            DomainEvent::UserDeleted { user_uuid: a },
            DomainEvent::FriendshipRemoved {
                user_uuid: a,
                friend_uuid: b,
            },
            DomainEvent::UserBlocked {
                blocker_uuid: a,
                blocked_uuid: b,
            },
        ];
        for event in events {
            let json = serde_json::to_string(&EventEnvelope::now(event)).unwrap();
            assert_eq!(audience_of(&json), None, "{json}");
        }
    }
}
