//! What a message carries besides its text, and the pages of changes and pins.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::MessageView;

/// One emoji on a message and who gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    /// The emoji (one, as Unicode).
    pub emoji: String,
    /// How many reacted with it.
    pub count: u64,
    /// Who, in the order they reacted (the caller reacted if they are among them).
    pub user_uuids: Vec<Uuid>,
}

/// A quote of the message a reply answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplyQuote {
    /// The answered message.
    pub id: String,
    /// Its author.
    pub sender_uuid: Uuid,
    /// The start of its text (empty when deleted).
    pub preview: String,
    /// Whether it was deleted since.
    pub deleted: bool,
}

/// What the page a message links to says about itself (fetched by the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LinkPreview {
    /// The link, as in the text.
    pub url: String,
    /// The page's title.
    pub title: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its image (a URL the page names; clients decide whether to load it).
    pub image_url: Option<String>,
    /// The site's name.
    pub site_name: Option<String>,
}

/// A reaction given or taken back (`reaction.added`, `reaction.removed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReactionChange {
    /// The conversation.
    pub conversation_id: String,
    /// The message.
    pub message_id: String,
    /// The emoji.
    pub emoji: String,
    /// Who reacted, or took it back.
    pub user_uuid: Uuid,
    /// How many now react with this emoji.
    pub count: u64,
    /// The message's version after the change.
    pub version: i64,
}

/// `GET /conversations/{id}/changes` paging.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The version the client has (from `version` of the conversation or of a page); 0: all.
    #[param(minimum = 0)]
    pub since: Option<i64>,
    /// Page size, 1-100 (default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Messages changed after a version, oldest change first, each in its current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangesPage {
    /// The changed messages.
    pub changes: Vec<MessageView>,
    /// The version this page brings the client to: pass it as `since` next time.
    pub version: i64,
    /// Whether more changes follow (ask again with `since=version`).
    pub has_more: bool,
}

/// The pinned messages of a conversation, most recently pinned first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PinsPage {
    /// The pinned messages (at most 50 per conversation).
    pub messages: Vec<MessageView>,
}

/// A file attached to a message, as members see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttachmentView {
    /// Id (24 hex characters).
    pub id: String,
    /// The name it was uploaded with (without folders).
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// Its media type, judged from its bytes.
    pub content_type: String,
    /// Width in pixels (images).
    #[serde(default)]
    pub width: Option<i32>,
    /// Height in pixels (images).
    #[serde(default)]
    pub height: Option<i32>,
    /// Where members download it.
    pub url: String,
    /// A small version, at most 320 pixels wide and tall (images).
    #[serde(default)]
    pub thumbnail_url: Option<String>,
}
