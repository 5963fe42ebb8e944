//! HTTP routes, one module per area, merged into one router; and what views of conversations
//! need from the other services (profiles, in one batch call per response).

mod conversations;
mod docs;
mod health;
mod messages;

use std::collections::{HashMap, HashSet};

use axum::Router;
use bson::oid::ObjectId;
use chat_models::api::message::ConversationView;
use chat_models::events::DomainEvent;
use chat_models::{ErrorCode, Result};
use futures::future::try_join_all;
use uuid::Uuid;

use crate::db::conversations::{self as store, ConversationDoc};
use crate::db::{messages as message_store, reads};
use crate::domain;
use crate::state::AppState;

pub use conversations::conversation_page;
pub use docs::ApiDoc;
pub use messages::{read_up_to, require_writable, send as send_message};

/// Every route of the service, with its state.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(conversations::router())
        .merge(messages::router())
        .merge(crate::gateway::router())
        .with_state(state)
        .merge(docs::router())
}

/// A conversation id from a path or frame; malformed ids are simply not found.
pub fn parse_conversation_id(raw: &str) -> Result<ObjectId> {
    conversation_id(raw)
}

fn conversation_id(raw: &str) -> Result<ObjectId> {
    domain::object_id("path", raw, ErrorCode::ConversationNotFound)
}

/// A message id from the path.
fn message_id(raw: &str) -> Result<ObjectId> {
    domain::object_id("path", raw, ErrorCode::MessageNotFound)
}

/// Conversations as `me` sees them: members' profiles (one user-service call for all),
/// unread counts, and read receipts of direct conversations.
async fn views(
    state: &AppState,
    me: Uuid,
    conversations: Vec<ConversationDoc>,
) -> Result<Vec<ConversationView>> {
    let ids: Vec<ObjectId> = conversations.iter().map(|c| c.id).collect();
    let members: HashSet<Uuid> = conversations
        .iter()
        .flat_map(ConversationDoc::member_uuids)
        .collect();
    let positions = reads::positions_of(&state.store, me, &ids).await?;
    // Direct conversations are writable while the two are friends: one call for the page.
    let others: Vec<Uuid> = conversations
        .iter()
        .filter(|conversation| !conversation.is_group)
        .filter_map(|conversation| store::other_member(conversation, me))
        .collect();
    let friends = state.friends.friends_among(me, others);
    let counts = try_join_all(conversations.iter().map(|conversation| {
        let seq = positions.get(&conversation.id).copied().unwrap_or(0);
        async move {
            if conversation.last_seq <= seq {
                return Ok(0);
            }
            message_store::count_unread(&state.store, conversation.id, me, seq).await
        }
    }));
    let receipts = try_join_all(
        conversations
            .iter()
            .filter(|conversation| !conversation.is_group)
            .map(|conversation| async move {
                let states = reads::of_conversation(&state.store, conversation.id).await?;
                Ok::<_, chat_models::ApiError>((conversation.id, states))
            }),
    );
    let (profiles, counts, receipts, friends) = tokio::try_join!(
        state.users.by_uuid(members.into_iter().collect()),
        counts,
        receipts,
        friends,
    )?;
    let mut receipts: HashMap<ObjectId, _> = receipts.into_iter().collect();
    Ok(conversations
        .into_iter()
        .zip(counts)
        .map(|(conversation, unread_count)| {
            let participants = conversation
                .member_uuids()
                .iter()
                .filter_map(|uuid| profiles.get(uuid).cloned())
                .collect();
            let read_states = receipts
                .remove(&conversation.id)
                .unwrap_or_default()
                .iter()
                .map(reads::ReadStateDoc::view)
                .collect();
            let can_send = conversation.is_group
                || store::other_member(&conversation, me)
                    .is_some_and(|other| friends.contains(&other));
            ConversationView {
                last_read_seq: positions.get(&conversation.id).copied().unwrap_or(0),
                info: conversation.info(can_send),
                participants,
                unread_count,
                read_states,
            }
        })
        .collect())
}

/// One conversation as `me` sees it.
async fn view(
    state: &AppState,
    me: Uuid,
    conversation: ConversationDoc,
) -> Result<ConversationView> {
    views(state, me, vec![conversation])
        .await?
        .pop()
        .ok_or_else(|| chat_models::ApiError::Internal(anyhow::anyhow!("a view went missing")))
}

/// Reacts to other services' events: account deletions, and friendships ending or starting,
/// which make a direct conversation read-only or writable again (`conversation.updated` with
/// `can_send`, so clients update the composer).
pub async fn react(state: &AppState, event: DomainEvent) -> Result<()> {
    match event {
        DomainEvent::UserDeleted { user_uuid } => {
            remove_deleted_user(state, user_uuid).await?;
            tracing::info!(user_id = %user_uuid, "removed a deleted user's conversations");
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
    if let Some(conversation) = store::find_direct(&state.store, &domain::direct_key(a, b)).await? {
        state
            .publish(DomainEvent::ConversationUpdated(
                chat_models::events::ConversationEvent {
                    audience: conversation.member_uuids(),
                    conversation: conversation.info(can_send),
                },
            ))
            .await;
    }
    Ok(())
}

/// Removes what a deleted account leaves behind: its direct conversations (with their
/// messages), its group memberships (handing admin on), its read positions; its messages in
/// groups are blanked but keep their place. Idempotent, as events may come twice.
pub async fn remove_deleted_user(state: &AppState, user: Uuid) -> Result<()> {
    for conversation in store::all_of_member(&state.store, user).await? {
        if conversation.is_group {
            conversations::leave_group(state, conversation.id, user).await?;
        } else if store::delete_if(&state.store, conversation.id, bson::doc! {}).await? {
            let audience = conversation.member_uuids();
            state
                .publish(DomainEvent::ConversationDeleted {
                    audience,
                    conversation_id: conversation.id.to_hex(),
                })
                .await;
        }
    }
    message_store::blank_all_of(&state.store, user).await?;
    reads::forget_user(&state.store, user).await?;
    state.gateway.presence.forget(user).await?;
    Ok(())
}
