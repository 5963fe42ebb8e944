//! Reactions, as use cases: a member gives or takes back an emoji on a message (idempotent;
//! at most 20 different emoji per message), and the members hear a small delta.

use chat_models::api::message::{MessageView, ReactionChange};
use chat_models::events::{DomainEvent, ReactionEvent};
use chat_models::Result;
use uuid::Uuid;

use crate::db::changes::{self, Applied, Change};
use crate::domain;
use crate::messaging::member_conversation;
use crate::state::AppState;
use crate::views::message_view;

/// `me` reacts to a message with `emoji` (`add`) or takes it back; the message after.
/// Repeating either changes nothing and tells nobody.
pub async fn react(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    message: &str,
    emoji: &str,
    add: bool,
) -> Result<MessageView> {
    let emoji = domain::emoji(emoji)?;
    let conversation = member_conversation(state, me, conversation).await?;
    let id = domain::message_id(message)?;
    let change = Change::React {
        user: me,
        emoji: emoji.clone(),
        add,
    };
    let message = match changes::apply(&state.store, conversation.id, Some(me), id, change).await? {
        Applied::Unchanged(message) => message,
        Applied::Changed(message) => {
            let change = ReactionChange {
                conversation_id: conversation.id.to_hex(),
                message_id: message.id.to_hex(),
                count: message.reactions_of(&emoji),
                emoji,
                user_uuid: me,
                version: message.version,
            };
            let event = ReactionEvent {
                audience: conversation.member_uuids(),
                change,
            };
            state
                .publish(if add {
                    DomainEvent::ReactionAdded(event)
                } else {
                    DomainEvent::ReactionRemoved(event)
                })
                .await;
            message
        }
    };
    message_view(state, &message).await
}
