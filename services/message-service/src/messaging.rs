//! Messages, as use cases: send (over REST or the socket, with mentions and replies), page the
//! history, edit, delete, move a read position; and who sees someone typing.

use chat_models::api::message::{EditMessage, HistoryQuery, MessagePage, MessageView, SendMessage};
use chat_models::events::{DomainEvent, MessageEvent, ReadEvent};
use chat_models::{ApiError, ErrorCode, Result};
use uuid::Uuid;

use crate::db::changes::{self, Applied, Change};
use crate::db::conversations::{self as conversation_store, ConversationDoc};
use crate::db::messages::{self as store, MessageDoc, NewMessage, Page, Sent};
use crate::db::reads;
use crate::domain;
use crate::memberships::Membership;
use crate::state::AppState;
use crate::views::{message_view, message_views};

/// Whether `me` may write to a conversation they belong to: always in a group; in a direct
/// conversation only while friends (a block ends the friendship).
pub async fn can_write(state: &AppState, conversation: &ConversationDoc, me: Uuid) -> Result<bool> {
    may_write(state, Membership::of(conversation, me), me).await
}

/// [`can_write`] from what `me`'s membership says of the conversation.
async fn may_write(state: &AppState, membership: Membership, me: Uuid) -> Result<bool> {
    if membership.is_group {
        return Ok(true);
    }
    let other = membership.other.unwrap_or(me);
    state.friends.are_friends(me, other).await
}

/// Refuses writes (send, edit, typing) to a direct conversation without the friendship.
pub async fn require_writable(
    state: &AppState,
    conversation: &ConversationDoc,
    me: Uuid,
) -> Result<()> {
    if can_write(state, conversation, me).await? {
        Ok(())
    } else {
        Err(ApiError::Forbidden(ErrorCode::NotFriends))
    }
}

/// What [`send`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// A new message.
    New(MessageView),
    /// A retry of an earlier send (same nonce): the message stored then.
    Repeated(MessageView),
}

/// Sends a message (members only; in a direct conversation only while friends; within the
/// sender's rate). A nonce the sender used before in this conversation returns the earlier
/// message instead.
pub async fn send(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    request: SendMessage,
) -> Result<Stored> {
    state.limits.message(me)?;
    let attachments = domain::attachment_ids(&request.attachment_ids)?;
    let text = if attachments.is_empty() {
        domain::message_text("text", &request.text)?
    } else {
        domain::optional_text("text", &request.text)?
    };
    let nonce = domain::nonce(request.nonce.as_deref())?;
    let reply_to = request
        .reply_to
        .as_deref()
        .map(|id| domain::object_id("reply_to", id, ErrorCode::MessageNotFound))
        .transpose()?;
    // Remembered after the first send: the transaction checks the membership again.
    let membership = state
        .memberships
        .of(&state.store, domain::conversation_id(conversation)?, me)
        .await?;
    if !may_write(state, membership, me).await? {
        return Err(ApiError::Forbidden(ErrorCode::NotFriends));
    }
    if let Some(reply_to) = reply_to {
        // A message of another conversation is as unknown here as one that does not exist.
        store::find(&state.store, membership.conversation, reply_to).await?;
    }
    if request.mentions.len() > domain::MAX_MENTIONS {
        return Err(ApiError::field(
            "mentions",
            "too_many",
            format!("Mention at most {} members.", domain::MAX_MENTIONS),
        ));
    }
    if request.mention_everyone && !membership.is_group {
        return Err(ApiError::BadRequest(
            ErrorCode::NotAGroup,
            "@everyone is for groups.".to_owned(),
        ));
    }
    // Whom it mentions among the members, and whether `@everyone` is the admin's, is
    // settled when it is stored (against the members and admin then).
    let new = NewMessage {
        conversation_id: membership.conversation,
        sender: me,
        text,
        reply_to,
        nonce,
        mentions: request.mentions,
        mentions_everyone: request.mention_everyone,
        attachments,
        in_group: membership.is_group,
    };
    match store::send(&state.store, new).await? {
        Sent::Repeated(message) => Ok(Stored::Repeated(message_view(state, &message).await?)),
        Sent::New(message, conversation) => {
            crate::previews::spawn_for(state, &message);
            let view = message_view(state, &message).await?;
            state
                .publish(DomainEvent::MessageCreated(MessageEvent {
                    audience: conversation.member_uuids(),
                    message: view.clone(),
                }))
                .await;
            Ok(Stored::New(view))
        }
    }
}

/// History, newest first (`before` pages back); with `after`, the messages after one, oldest
/// first (to catch up); with both, those between the two, oldest first; with `around`, the
/// page centred on one, oldest first. Deleted messages keep their place with empty text.
pub async fn history(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    query: HistoryQuery,
) -> Result<MessagePage> {
    let limit = usize::try_from(domain::HISTORY_PAGES.resolve(query.limit)?).unwrap_or(usize::MAX);
    let conversation = member_conversation(state, me, conversation).await?;
    let position = |id: String| {
        let conversation = conversation.id;
        async move {
            let id = domain::message_id(&id)?;
            Ok::<_, ApiError>(store::find(&state.store, conversation, id).await?.seq)
        }
    };
    // `around` wins over `before` and `after` (a parameter the schema allows is never refused).
    if let Some(around) = query.around {
        let seq = position(around).await?;
        let older = i64::try_from(limit / 2).unwrap_or(0);
        let newer = i64::try_from(limit).unwrap_or(0) - older;
        let page = Page::Between(seq - older - 1, seq + newer);
        let (messages, _) = page_of(state, &conversation, page, limit).await?;
        let has_more = messages.first().is_some_and(|first| first.seq > 1);
        return Ok(MessagePage { messages, has_more });
    }
    let page = match (query.before, query.after) {
        (Some(before), Some(after)) => {
            Page::Between(position(after).await?, position(before).await?)
        }
        (Some(before), None) => Page::Before(position(before).await?),
        (None, Some(after)) => Page::After(position(after).await?),
        (None, None) => Page::Latest(conversation.last_seq),
    };
    let (messages, has_more) = page_of(state, &conversation, page, limit).await?;
    Ok(MessagePage { messages, has_more })
}

/// Changes the text of `me`'s own message.
pub async fn edit(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    message: &str,
    request: EditMessage,
) -> Result<MessageView> {
    let text = domain::message_text("text", &request.text)?;
    let conversation = member_conversation(state, me, conversation).await?;
    require_writable(state, &conversation, me).await?;
    let preview = domain::preview(&text);
    let change = Change::Edit { author: me, text };
    let message = changed(state, &conversation, me, message, change).await?;
    conversation_store::refresh_preview(&state.store, conversation.id, message.id, &preview)
        .await?;
    let view = message_view(state, &message).await?;
    state
        .publish(DomainEvent::MessageUpdated(MessageEvent {
            audience: conversation.member_uuids(),
            message: view.clone(),
        }))
        .await;
    Ok(view)
}

/// Deletes `me`'s own message: its text goes, its place in the history stays.
pub async fn delete(state: &AppState, me: Uuid, conversation: &str, message: &str) -> Result<()> {
    let conversation = member_conversation(state, me, conversation).await?;
    let change = Change::Delete { author: me };
    let message = changed(state, &conversation, me, message, change).await?;
    state.files.purge.notify_one();
    conversation_store::refresh_preview(&state.store, conversation.id, message.id, "").await?;
    let view = message_view(state, &message).await?;
    state
        .publish(DomainEvent::MessageDeleted(MessageEvent {
            audience: conversation.member_uuids(),
            message: view,
        }))
        .await;
    Ok(())
}

/// Applies an edit or deletion; the message after it.
async fn changed(
    state: &AppState,
    conversation: &ConversationDoc,
    me: Uuid,
    message: &str,
    change: Change,
) -> Result<MessageDoc> {
    let id = domain::message_id(message)?;
    match changes::apply(&state.store, conversation.id, Some(me), id, change).await? {
        Applied::Changed(message) | Applied::Unchanged(message) => Ok(message),
    }
}

/// Moves `me`'s read position to a message (positions only move forward, past their own
/// messages too); tells the other member of a direct conversation (read receipt, while
/// friends) and `me`'s other devices.
pub async fn read_up_to(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    message: &str,
) -> Result<()> {
    let conversation = member_conversation(state, me, conversation).await?;
    let message = store::find(&state.store, conversation.id, domain::message_id(message)?).await?;
    // Their own newer message already moved them there (and no event goes back in time).
    if conversation.sent_past(me, message.seq) {
        return Ok(());
    }
    let Some(read) =
        reads::mark_read(&state.store, conversation.id, me, message.id, message.seq).await?
    else {
        return Ok(());
    };
    let audience = if conversation.is_group || !can_write(state, &conversation, me).await? {
        vec![me]
    } else {
        conversation.member_uuids()
    };
    state
        .publish(DomainEvent::ReadUpdated(ReadEvent {
            audience,
            conversation_id: conversation.id.to_hex(),
            read: read.view(),
        }))
        .await;
    Ok(())
}

/// Who should see `me` typing in a conversation: its other members. Refuses non-members, and
/// starting to type where `me` may not write.
pub async fn typing_audience(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    starting: bool,
) -> Result<Vec<Uuid>> {
    let conversation = member_conversation(state, me, conversation).await?;
    if starting {
        require_writable(state, &conversation, me).await?;
    }
    Ok(conversation
        .participants
        .into_iter()
        .filter(|member| *member != me)
        .collect())
}

/// Up to `limit` messages of a page, and whether there are more.
pub(crate) async fn page_of(
    state: &AppState,
    conversation: &ConversationDoc,
    page: Page,
    limit: usize,
) -> Result<(Vec<MessageView>, bool)> {
    let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let mut messages = store::history(&state.store, conversation.id, page, fetch).await?;
    let more = messages.len() > limit;
    messages.truncate(limit);
    Ok((
        message_views(state, conversation.id, &messages).await?,
        more,
    ))
}

pub(crate) async fn member_conversation(
    state: &AppState,
    me: Uuid,
    id: &str,
) -> Result<ConversationDoc> {
    conversation_store::find_for_member(&state.store, domain::conversation_id(id)?, me).await
}
