//! Bodies of message search (`GET /search/messages`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::message::MessageView;

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// `GET /search/messages`: what to look for, where, and which page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find (all of them; the last one also as a prefix, as the user types),
    /// `"quoted phrases"`, and `-words` that must not appear. Case and accents do not matter;
    /// a query without any word to find finds nothing.
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    /// Only in this conversation (one of the caller's).
    #[param(pattern = "^[0-9a-fA-F]{24}$")]
    pub conversation_id: Option<String>,
    /// Only messages by this user.
    pub from: Option<Uuid>,
    /// Only messages sent before this time.
    pub before: Option<DateTime<Utc>>,
    /// Only messages sent after this time.
    pub after: Option<DateTime<Utc>>,
    /// `newest` first (the default) or best match first (`relevance`).
    pub sort: Option<SearchSort>,
    /// Page size, 1-50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^([0-9]{1,3}|1000)$")]
    pub cursor: Option<String>,
}

/// The order of search results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    /// Most recent first.
    #[default]
    Newest,
    /// Best match first.
    Relevance,
}

/// A page of search results.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    /// The messages found, in the order asked for.
    pub results: Vec<SearchHit>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// One message found.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    /// The message as it is now.
    pub message: MessageView,
    /// The part of its text around the first match, in pieces; the pieces with `highlight`
    /// are the words that matched. Plain text: escape it like any message text.
    pub snippet: Vec<SnippetPart>,
}

/// A piece of a snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnippetPart {
    /// The text of this piece (`…` marks text left out at either end).
    pub text: String,
    /// Whether it is a matched word.
    pub highlight: bool,
}
