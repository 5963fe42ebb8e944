//! What a client that was away missed: the changes feed (`GET …/changes?since=`: every message
//! changed after a version, in its current state) and the socket's `resume` (new messages
//! after a `seq`, then changes of older ones after a version).

use chat_models::api::message::{ChangesPage, ChangesQuery, MessageView};
use chat_models::api::ws::ResumePoint;
use chat_models::{ApiError, Result};
use uuid::Uuid;

use crate::db::changes;
use crate::db::messages::Page;
use crate::domain;
use crate::messaging::{member_conversation, page_of};
use crate::state::AppState;
use crate::views::message_views;

/// The messages of a conversation changed after `since` (creations included), oldest change
/// first, a page at a time.
pub async fn feed(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    query: ChangesQuery,
) -> Result<ChangesPage> {
    let limit = usize::try_from(domain::CHANGES_PAGES.resolve(query.limit)?).unwrap_or(usize::MAX);
    let since = query.since.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::field(
            "since",
            "out_of_range",
            "Pass a version the server gave you (0 or more).",
        ));
    }
    let conversation = member_conversation(state, me, conversation).await?;
    let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let mut changed = changes::changed_since(&state.store, conversation.id, since, fetch).await?;
    let has_more = changed.len() > limit;
    changed.truncate(limit);
    let version = match changed.last() {
        Some(last) if has_more => last.version,
        _ => conversation.version.max(since),
    };
    Ok(ChangesPage {
        changes: message_views(state, conversation.id, &changed).await?,
        version,
        has_more,
    })
}

/// What a resuming socket of `me` missed in one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missed {
    /// Messages after `last_seq`, oldest first.
    pub messages: Vec<MessageView>,
    /// More new messages than a replay carries.
    pub truncated: bool,
    /// Older messages (up to `last_seq`) changed after `last_version`, oldest change first.
    pub changed: Vec<MessageView>,
    /// More changes than a replay carries.
    pub changes_truncated: bool,
    /// The version the replay brings the client to.
    pub version: i64,
}

/// The replay of one conversation for `resume`, each part at most the configured number.
pub async fn missed(state: &AppState, me: Uuid, point: &ResumePoint) -> Result<Missed> {
    let conversation = member_conversation(state, me, &point.conversation_id).await?;
    let max = usize::try_from(state.settings.resume_max_messages).unwrap_or(usize::MAX);
    let (messages, truncated) =
        page_of(state, &conversation, Page::After(point.last_seq), max).await?;
    let Some(since) = point.last_version else {
        return Ok(Missed {
            messages,
            truncated,
            changed: Vec::new(),
            changes_truncated: false,
            version: conversation.version,
        });
    };
    let fetch = i64::try_from(max + 1).unwrap_or(i64::MAX);
    let mut changed = changes::changed_since(&state.store, conversation.id, since, fetch).await?;
    let changes_truncated = changed.len() > max;
    changed.truncate(max);
    let version = match changed.last() {
        Some(last) if changes_truncated => last.version,
        _ => conversation.version.max(since),
    };
    // New messages come as such; only changes of what the client already had are replayed.
    changed.retain(|message| message.seq <= point.last_seq);
    Ok(Missed {
        messages,
        truncated,
        changed: message_views(state, conversation.id, &changed).await?,
        changes_truncated,
        version,
    })
}
