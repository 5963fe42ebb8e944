//! Conversations, as use cases over the store: list a member's, open a direct one with a
//! friend, read one, delete (hide) one. Routes and the gateway call these; events are
//! published here, after the change they describe is stored.

use bson::oid::ObjectId;
use chat_models::api::message::{ConversationPage, ConversationView};
use chat_models::events::{ConversationEvent, DomainEvent};
use chat_models::{ApiError, ErrorCode, Result};
use uuid::Uuid;

use crate::db::conversations::{self as store, Opened};
use crate::domain;
use crate::state::AppState;
use crate::views::{view, views};

/// A page of `me`'s conversations, most recently active first (also the `ready` frame's list).
pub async fn page(
    state: &AppState,
    me: Uuid,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<ConversationPage> {
    let limit = usize::try_from(domain::LIST_PAGES.resolve(limit)?).unwrap_or(usize::MAX);
    let cursor = cursor.map(domain::parse_list_cursor).transpose()?;
    let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let mut page = store::list_for_member(&state.store, me, cursor, fetch).await?;
    let more = page.len() > limit;
    page.truncate(limit);
    let next_cursor = if more {
        page.last()
            .map(|last| domain::list_cursor(last.updated_at.timestamp_millis(), &last.id))
    } else {
        None
    };
    Ok(ConversationPage {
        conversations: views(state, me, page).await?,
        next_cursor,
    })
}

/// How [`open_direct`] went: created now, or found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// A new conversation.
    Created,
    /// It existed (maybe hidden by the opener, who sees it again).
    Found,
}

/// The direct conversation of `me` and a friend: created the first time, the same one after
/// that, whoever opens it and however many times at once.
pub async fn open_direct(
    state: &AppState,
    me: Uuid,
    other: Uuid,
) -> Result<(Opening, ConversationView)> {
    if me == other {
        return Err(ApiError::BadRequest(
            ErrorCode::CannotTargetSelf,
            "You cannot open a conversation with yourself.".to_owned(),
        ));
    }
    require_friends(state, me, &[other]).await?;
    let (conversation, opened) = store::open_direct(&state.store, me, other).await?;
    let audience = match opened {
        Opened::Created => Some(conversation.member_uuids()),
        Opened::Reopened => Some(vec![me]),
        Opened::Existing => None,
    };
    if let Some(audience) = audience {
        state
            .publish(DomainEvent::ConversationCreated(ConversationEvent {
                audience,
                conversation: conversation.info(true),
            }))
            .await;
    }
    let opening = if opened == Opened::Created {
        Opening::Created
    } else {
        Opening::Found
    };
    Ok((opening, view(state, me, conversation).await?))
}

/// One conversation of `me`'s (404 for anyone else).
pub async fn get(state: &AppState, me: Uuid, id: &str) -> Result<ConversationView> {
    let conversation =
        store::find_for_member(&state.store, domain::conversation_id(id)?, me).await?;
    view(state, me, conversation).await
}

/// A direct conversation: hidden from `me`'s list (history kept; the other member keeps it;
/// the next message brings it back). A group: deleted with its messages, by its admin only.
pub async fn delete(state: &AppState, me: Uuid, id: &str) -> Result<()> {
    let id = domain::conversation_id(id)?;
    let conversation = store::find_for_member(&state.store, id, me).await?;
    if conversation.is_group {
        return crate::groups::delete(state, me, id).await;
    }
    store::hide_for(&state.store, id, me).await?;
    announce_deleted(state, vec![me], id).await;
    Ok(())
}

/// Tells `audience` a conversation is gone (from their list).
pub(crate) async fn announce_deleted(state: &AppState, audience: Vec<Uuid>, id: ObjectId) {
    state
        .publish(DomainEvent::ConversationDeleted {
            audience,
            conversation_id: id.to_hex(),
        })
        .await;
}

/// Refuses unless every one of `users` is a friend of `me`.
pub(crate) async fn require_friends(state: &AppState, me: Uuid, users: &[Uuid]) -> Result<()> {
    let friends = state.friends.friends_among(me, users.to_vec()).await?;
    if users.iter().all(|user| friends.contains(user)) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(ErrorCode::NotFriends))
    }
}
