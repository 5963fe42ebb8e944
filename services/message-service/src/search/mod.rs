//! Message search: `GET /search/messages` finds, among the conversations the caller belongs to
//! now, the messages whose current text matches.
//!
//! The index is a candidate finder, MongoDB is the truth: membership is read from MongoDB on
//! every query (a member removed from a group stops finding its messages at once), and every
//! hit is checked against the stored message (deleted ones dropped, the snippet made from the
//! current text), so an index a moment behind never shows what is gone.
//!
//! The index is fed from the event stream ([`feed`]): sends and edits upsert a message,
//! deletions remove it, a deleted conversation or account removes theirs. Two backends:
//! [`embedded`] (Tantivy; each instance keeps its own, tails the stream from the position its
//! last commit recorded and rebuilds from MongoDB when that position is gone from the stream)
//! and [`opensearch`] (one shared index, fed once by a consumer group), chosen by `SEARCH_URL`.

pub mod embedded;
pub mod feed;
pub mod opensearch;
pub mod query;

use std::collections::HashMap;
use std::sync::Arc;

use bson::oid::ObjectId;
use chat_models::api::message::MessageView;
use chat_models::api::search::{SearchHit, SearchPage, SearchQuery, SearchSort};
use chat_models::api::PageLimit;
use chat_models::events::DomainEvent;
use chat_models::{ApiError, FieldError, Result};
use uuid::Uuid;

use crate::db::conversations as conversation_store;
use crate::db::messages::{self as message_store, Searchable};
use crate::state::AppState;
use query::Parsed;

/// Search pages: 20 results unless asked, at most 50.
pub const SEARCH_PAGES: PageLimit = PageLimit::new(20, 50);
/// How deep pages go: results after the first 1,000 are not served (refine the query).
pub const MAX_OFFSET: usize = 1_000;

/// A message as the index holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Message id (hex).
    pub id: String,
    /// Conversation id (hex).
    pub conversation: String,
    /// Author.
    pub sender: String,
    /// Sent at, in milliseconds since the epoch.
    pub at_ms: i64,
    /// Current text.
    pub text: String,
    /// The message's version (it only grows).
    pub version: i64,
}

impl From<&MessageView> for Entry {
    fn from(message: &MessageView) -> Self {
        Self {
            id: message.id.clone(),
            conversation: message.conversation_id.clone(),
            sender: message.sender_uuid.to_string(),
            at_ms: message.created_at.timestamp_millis(),
            text: message.text.clone(),
            version: message.version,
        }
    }
}

impl From<Searchable> for Entry {
    fn from(message: Searchable) -> Self {
        Self {
            id: message.id.to_hex(),
            conversation: message.conversation_id.to_hex(),
            sender: message.sender_uuid.to_string(),
            at_ms: message.timestamp.timestamp_millis(),
            text: message.text,
            version: message.version,
        }
    }
}

/// A change to the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Add a message or replace its text.
    Upsert(Entry),
    /// A message was deleted.
    Remove(String),
    /// A conversation and its messages are gone.
    RemoveConversation(String),
    /// An account is gone, and the text of its messages with it.
    RemoveSender(String),
}

/// What an event changes in the index (most events change nothing).
pub fn ops_for(event: &DomainEvent) -> Option<Op> {
    use DomainEvent as E;
    match event {
        E::MessageCreated(event) | E::MessageUpdated(event)
            if event.message.deleted_at.is_none() =>
        {
            Some(Op::Upsert(Entry::from(&event.message)))
        }
        E::MessageCreated(event) | E::MessageUpdated(event) | E::MessageDeleted(event) => {
            Some(Op::Remove(event.message.id.clone()))
        }
        E::ConversationDeleted {
            conversation_id, ..
        } => Some(Op::RemoveConversation(conversation_id.clone())),
        E::UserDeleted { user_uuid } => Some(Op::RemoveSender(user_uuid.to_string())),
        _ => None,
    }
}

/// One query as a backend runs it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The words.
    pub parsed: Parsed,
    /// The conversations to look in (hex ids; never empty).
    pub conversations: Vec<String>,
    /// Only this author.
    pub from: Option<String>,
    /// Only after this time (ms, exclusive).
    pub after_ms: Option<i64>,
    /// Only before this time (ms, exclusive).
    pub before_ms: Option<i64>,
    /// The order.
    pub sort: SearchSort,
    /// Matches to skip.
    pub offset: usize,
    /// Most matches to return.
    pub limit: usize,
}

/// The configured backend.
#[derive(Clone)]
pub enum Search {
    /// This instance's own index.
    Embedded(Arc<embedded::Embedded>),
    /// A shared OpenSearch index.
    OpenSearch(Arc<opensearch::OpenSearch>),
}

impl Search {
    /// The ids of a page of matches.
    async fn find(&self, plan: Plan) -> Result<Vec<String>> {
        match self {
            Self::Embedded(index) => {
                let index = index.clone();
                tokio::task::spawn_blocking(move || index.search(&plan))
                    .await
                    .map_err(|error| ApiError::Internal(error.into()))?
                    .map_err(ApiError::Internal)
            }
            Self::OpenSearch(index) => index.search(&plan).await.map_err(ApiError::unavailable),
        }
    }
}

/// The cursor of the page after one that started at `offset`.
fn parse_cursor(cursor: Option<&str>) -> Result<usize> {
    let Some(cursor) = cursor else {
        return Ok(0);
    };
    Some(cursor)
        .filter(|cursor| !cursor.is_empty() && cursor.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|cursor| cursor.parse::<usize>().ok())
        .filter(|offset| *offset <= MAX_OFFSET)
        .ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "cursor",
                "invalid",
                "Pass the next_cursor of the previous page.",
            )])
        })
}

/// `GET /search/messages`: a page of the messages `me` can see that match.
pub async fn messages(state: &AppState, me: Uuid, query: SearchQuery) -> Result<SearchPage> {
    let limit = SEARCH_PAGES.resolve(query.limit)? as usize;
    let offset = parse_cursor(query.cursor.as_deref())?;
    let parsed = query::parse(&query.q)?;
    let conversations = match &query.conversation_id {
        Some(id) => vec![
            crate::messaging::member_conversation(state, me, id)
                .await?
                .id,
        ],
        None => conversation_store::ids_of_member(&state.store, me).await?,
    };
    if conversations.is_empty() || parsed.finds_nothing() {
        return Ok(SearchPage {
            results: Vec::new(),
            next_cursor: None,
        });
    }
    let plan = Plan {
        parsed: parsed.clone(),
        conversations: conversations.iter().map(|id| id.to_hex()).collect(),
        from: query.from.map(|user| user.to_string()),
        after_ms: query.after.map(|at| at.timestamp_millis()),
        before_ms: query.before.map(|at| at.timestamp_millis()),
        sort: query.sort.unwrap_or_default(),
        offset,
        limit: limit + 1,
    };
    let mut ids: Vec<ObjectId> = state
        .search
        .find(plan)
        .await?
        .iter()
        .filter_map(|id| ObjectId::parse_str(id).ok())
        .collect();
    let more = ids.len() > limit && offset + limit <= MAX_OFFSET;
    ids.truncate(limit);

    // The index proposes, the store decides: current text, not deleted, still a member.
    let found = message_store::live_among(&state.store, &ids, &conversations).await?;
    let mut by_conversation: HashMap<ObjectId, Vec<_>> = HashMap::new();
    for message in found {
        by_conversation
            .entry(message.conversation_id)
            .or_default()
            .push(message);
    }
    let mut views: HashMap<String, MessageView> = HashMap::new();
    for (conversation, messages) in by_conversation {
        for view in crate::views::message_views(state, conversation, &messages).await? {
            views.insert(view.id.clone(), view);
        }
    }
    let results = ids
        .iter()
        .filter_map(|id| views.remove(&id.to_hex()))
        .filter(|message| !message.text.is_empty())
        .map(|message| SearchHit {
            snippet: query::snippet(&message.text, &parsed),
            message,
        })
        .collect();
    Ok(SearchPage {
        results,
        next_cursor: more.then(|| (offset + limit).to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_offsets_up_to_the_deepest_page() {
        assert_eq!(parse_cursor(None).ok(), Some(0));
        assert_eq!(parse_cursor(Some("40")).ok(), Some(40));
        assert_eq!(parse_cursor(Some("1000")).ok(), Some(1000));
        for bad in ["", "+5", "-1", "1001", "4e2", " 4", "abc"] {
            assert!(parse_cursor(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
