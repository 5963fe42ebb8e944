//! Pins, as use cases: pinning and unpinning a message (in a group, its admin; in a direct
//! conversation, either member), at most 50 per conversation, and the list of pinned messages.

use chat_models::api::message::{MessageView, PinsPage};
use chat_models::events::{DomainEvent, MessageEvent};
use chat_models::{ApiError, ErrorCode, Result};
use uuid::Uuid;

use crate::db::changes::{self, Applied, Change};
use crate::domain;
use crate::messaging::member_conversation;
use crate::state::AppState;
use crate::views::{message_view, message_views};

/// `me` pins (`pin`) or unpins a message; the message after. Repeating either is a no-op.
pub async fn pin(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    message: &str,
    pin: bool,
) -> Result<MessageView> {
    let conversation = member_conversation(state, me, conversation).await?;
    if conversation.is_group && conversation.admin != Some(me) {
        return Err(ApiError::Forbidden(ErrorCode::NotGroupAdmin));
    }
    let id = domain::message_id(message)?;
    let change = Change::Pin { by: me, pin };
    let message = match changes::apply(&state.store, conversation.id, Some(me), id, change).await? {
        Applied::Unchanged(message) => message_view(state, &message).await?,
        Applied::Changed(message) => {
            let view = message_view(state, &message).await?;
            let event = MessageEvent {
                audience: conversation.member_uuids(),
                message: view.clone(),
            };
            state
                .publish(if pin {
                    DomainEvent::MessagePinned(event)
                } else {
                    DomainEvent::MessageUnpinned(event)
                })
                .await;
            view
        }
    };
    Ok(message)
}

/// The pinned messages of a conversation of `me`'s, most recently pinned first.
pub async fn list(state: &AppState, me: Uuid, conversation: &str) -> Result<PinsPage> {
    let conversation = member_conversation(state, me, conversation).await?;
    let pinned = changes::pinned(&state.store, conversation.id).await?;
    Ok(PinsPage {
        messages: message_views(state, conversation.id, &pinned).await?,
    })
}
