//! What members see: conversations (members' profiles in one user-service call for a whole
//! page, unread and mention counts, read receipts of direct conversations, whether they can
//! write) and messages (with the quote of the message each answers, one query per page).

use std::collections::{HashMap, HashSet};

use bson::oid::ObjectId;
use chat_models::api::message::{ConversationView, MessageView};
use chat_models::{ApiError, Result};
use uuid::Uuid;

use crate::db::conversations::ConversationDoc;
use crate::db::messages::{MessageDoc, UnreadCounts};
use crate::db::{messages, reads};
use crate::state::AppState;

/// Conversations as `me` sees them, in the same order.
pub async fn views(
    state: &AppState,
    me: Uuid,
    conversations: Vec<ConversationDoc>,
) -> Result<Vec<ConversationView>> {
    let ids: Vec<ObjectId> = conversations.iter().map(|c| c.id).collect();
    let members: HashSet<Uuid> = conversations
        .iter()
        .flat_map(|conversation| conversation.participants.iter().copied())
        .collect();
    // The reader's positions and the direct conversations' receipts: one query.
    let direct: Vec<ObjectId> = conversations
        .iter()
        .filter(|conversation| !conversation.is_group)
        .map(|conversation| conversation.id)
        .collect();
    let reads::PageReads {
        positions,
        mut receipts,
    } = reads::of_page(&state.store, me, &ids, &direct).await?;
    // Direct conversations are writable while the two are friends: one call for the page.
    let others: Vec<Uuid> = conversations
        .iter()
        .filter(|conversation| !conversation.is_group)
        .filter_map(|conversation| conversation.other_member(me))
        .collect();
    let friends = state.friends.friends_among(me, others);
    // Unread and mention counts of the conversations with anything after the reader's
    // position: from their marks where these tell, else one aggregation for the rest.
    let mut known = HashMap::new();
    let mut unread: Vec<(ObjectId, i64)> = Vec::new();
    // The reader's position: the later of their read state and their newest message.
    let position = |conversation: &ConversationDoc| {
        let stored = positions.get(&conversation.id).copied().unwrap_or(0);
        conversation.position_of(me, stored)
    };
    for conversation in &conversations {
        let read = position(conversation);
        if conversation.last_seq <= read {
            continue;
        }
        match &conversation.marks {
            Some(marks) if marks.only_unread_after(me, read) => {
                let unread = u64::try_from(conversation.last_seq - read).unwrap_or(0);
                known.insert(
                    conversation.id,
                    UnreadCounts {
                        unread,
                        mentions: 0,
                    },
                );
            }
            _ => unread.push((conversation.id, read)),
        }
    }
    metrics::counter!("conversation_unread_counts_total", "service" => "message-service", "how" => "marks")
        .increment(known.len() as u64);
    metrics::counter!("conversation_unread_counts_total", "service" => "message-service", "how" => "counted")
        .increment(unread.len() as u64);
    let (profiles, mut counts, friends) = tokio::try_join!(
        state.users.by_uuid(members.into_iter().collect()),
        messages::unread_counts(&state.store, me, &unread),
        friends,
    )?;
    counts.extend(known);
    Ok(conversations
        .into_iter()
        .map(|conversation| {
            let counts = counts.get(&conversation.id).copied().unwrap_or_default();
            let participants = conversation
                .participants
                .iter()
                .filter_map(|uuid| profiles.get(uuid).cloned())
                .collect();
            let read_states = if conversation.is_group {
                Vec::new()
            } else {
                let mut stored = receipts.remove(&conversation.id).unwrap_or_default();
                conversation
                    .participants
                    .iter()
                    .filter_map(|member| {
                        let state = stored
                            .iter()
                            .position(|state| state.user_uuid == *member)
                            .map(|at| stored.swap_remove(at));
                        conversation.read_state_of(*member, state)
                    })
                    .map(|state| state.view())
                    .collect()
            };
            let can_send = conversation.is_group
                || conversation
                    .other_member(me)
                    .is_some_and(|other| friends.contains(&other));
            ConversationView {
                last_read_seq: position(&conversation),
                info: conversation.info(can_send),
                participants,
                unread_count: counts.unread,
                mention_count: counts.mentions,
                read_states,
            }
        })
        .collect())
}

/// One conversation as `me` sees it.
pub async fn view(
    state: &AppState,
    me: Uuid,
    conversation: ConversationDoc,
) -> Result<ConversationView> {
    views(state, me, vec![conversation])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a view went missing")))
}

/// Messages of one conversation as members see them, quotes of what they answer included.
pub async fn message_views(
    state: &AppState,
    conversation: ObjectId,
    messages: &[MessageDoc],
) -> Result<Vec<MessageView>> {
    let quotes = messages::quotes(&state.store, conversation, messages).await?;
    Ok(messages
        .iter()
        .map(|message| {
            let quote = message.reply_to.and_then(|id| quotes.get(&id).cloned());
            message.view_with(quote, &state.files.public_url)
        })
        .collect())
}

/// One message as members see it.
pub async fn message_view(state: &AppState, message: &MessageDoc) -> Result<MessageView> {
    message_views(
        state,
        message.conversation_id,
        std::slice::from_ref(message),
    )
    .await?
    .pop()
    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a message view went missing")))
}
