//! Bodies of message-service: conversations, messages, read state. The same types travel in
//! events and WebSocket frames. What a message carries besides its text (reactions, the quote
//! of the message it answers, a link preview) is in [`parts`].

mod parts;

pub use parts::{
    AttachmentView, ChangesPage, ChangesQuery, LinkPreview, PinsPage, Reaction, ReactionChange,
    ReplyQuote,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::user::PublicUser;
use super::{double_option, present};

/// A message as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    /// Id (24 hex characters).
    pub id: String,
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// Position in the conversation: 1, 2, 3… in the order messages were stored, with no gaps.
    pub seq: i64,
    /// The author.
    pub sender_uuid: Uuid,
    /// The text (empty once deleted).
    pub text: String,
    /// The message this one answers, if any.
    pub reply_to: Option<String>,
    /// A short quote of that message, so it can be shown without another request.
    #[serde(default)]
    pub reply: Option<ReplyQuote>,
    /// The client's nonce, echoed so the sender can match its optimistic copy.
    pub nonce: Option<String>,
    /// Members the text mentions (`@everyone`: all of them).
    #[serde(default)]
    pub mentions: Vec<Uuid>,
    /// Whether the group's admin mentioned everyone.
    #[serde(default)]
    pub mentions_everyone: bool,
    /// Reactions, in the order they were first given: each emoji with who reacted.
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// When the message was pinned (absent when it is not).
    #[serde(default)]
    pub pinned_at: Option<DateTime<Utc>>,
    /// Who pinned it.
    #[serde(default)]
    pub pinned_by: Option<Uuid>,
    /// A preview of the first link in the text, fetched by the server after sending.
    #[serde(default)]
    pub link_preview: Option<LinkPreview>,
    /// Files attached to it (none once it is deleted).
    #[serde(default)]
    pub attachments: Vec<AttachmentView>,
    /// The conversation's version at this message's last change (its creation, an edit, a
    /// deletion, a reaction, a pin, its preview): `GET …/changes?since=` returns the messages
    /// changed after a version.
    #[serde(default)]
    pub version: i64,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When it was last edited.
    pub edited_at: Option<DateTime<Utc>>,
    /// When it was deleted (it keeps its place, without text).
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The newest message of a conversation, for list previews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LastMessage {
    /// The message id.
    pub id: String,
    /// Its position.
    pub seq: i64,
    /// The author.
    pub sender_uuid: Uuid,
    /// The start of the text (at most 100 characters, `…` when cut; empty when deleted).
    pub preview: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

/// A conversation without anything specific to the caller (as carried in events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConversationInfo {
    /// Id (24 hex characters).
    pub id: String,
    /// A group (named, with an admin) or a direct conversation between two users.
    pub is_group: bool,
    /// Members, in the order they joined.
    pub participant_uuids: Vec<Uuid>,
    /// The group's admin.
    pub admin: Option<Uuid>,
    /// The group's name.
    pub name: Option<String>,
    /// The group's description.
    pub description: Option<String>,
    /// The group's picture URL.
    pub picture: Option<String>,
    /// The newest message.
    pub last_message: Option<LastMessage>,
    /// `seq` of the newest message (0 when empty).
    pub last_seq: i64,
    /// The newest change to the conversation's messages (see [`MessageView::version`]).
    #[serde(default)]
    pub version: i64,
    /// Whether members may send: always in a group; in a direct conversation, while the two
    /// are friends (history stays readable either way).
    pub can_send: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last message or change (lists are ordered by it).
    pub updated_at: DateTime<Utc>,
}

/// How far a member has read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReadStateView {
    /// The reader.
    pub user_uuid: Uuid,
    /// The newest message they have read.
    pub last_read_message_id: Option<String>,
    /// Its `seq` (0: nothing read).
    pub last_read_seq: i64,
    /// When they read it.
    pub updated_at: Option<DateTime<Utc>>,
}

/// A conversation as its member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    /// What everyone sees.
    #[serde(flatten)]
    pub info: ConversationInfo,
    /// Members' public profiles (accounts deleted a moment ago are left out).
    pub participants: Vec<PublicUser>,
    /// Messages from others after the caller's read position (deleted ones not counted).
    pub unread_count: u64,
    /// Of those, the ones that mention the caller.
    #[serde(default)]
    pub mention_count: u64,
    /// The caller's read position.
    pub last_read_seq: i64,
    /// Direct conversations: every member's read position (read receipts). Groups: empty.
    pub read_states: Vec<ReadStateView>,
}

/// A page of conversations, most recently active first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationPage {
    /// The conversations.
    pub conversations: Vec<ConversationView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// `GET /conversations` paging.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationPageQuery {
    /// Page size, 1-50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,18}_[0-9a-fA-F]{24}$")]
    pub cursor: Option<String>,
}

/// `POST /conversations/direct`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct OpenDirect {
    /// The friend to talk to.
    pub user_uuid: Uuid,
}

/// `POST /conversations/groups`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateGroup {
    /// 1-100 characters, not blank.
    #[schema(min_length = 1, max_length = 100, pattern = r"[^ \t\n\r]")]
    pub name: String,
    /// Up to 1000 characters; blank means none.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// Friends of the caller to add (the caller joins as admin).
    #[serde(default)]
    pub member_uuids: Vec<Uuid>,
}

/// `PATCH /conversations/{id}`: omitted fields stay; `null` clears description and picture.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateGroup {
    /// New name, 1-100 characters, not blank.
    #[serde(default, deserialize_with = "present")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 100,
        pattern = r"[^ \t\n\r]"
    )]
    pub name: Option<String>,
    /// New description, up to 1000 characters; `null` or blank clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub description: Option<Option<String>>,
    /// New picture URL (`http(s)://`, printable ASCII); `null` or blank clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^([ \t\n\r]*|https?://[!-~]+)$", max_length = 2048)]
    pub picture: Option<Option<String>>,
}

/// `POST /conversations/{id}/members`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AddMembers {
    /// Friends of the admin to add.
    pub user_uuids: Vec<Uuid>,
}

/// `PUT /conversations/{id}/admin`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TransferAdmin {
    /// The member who becomes admin.
    pub user_uuid: Uuid,
}

/// `POST /conversations/{id}/messages` (and the WebSocket `message.send` frame).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct SendMessage {
    /// Up to 4000 characters, stored without the blanks around it; not blank unless the
    /// message carries attachments.
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub text: String,
    /// Ids of the caller's uploads (`POST /attachments`) to attach, at most 10, each not yet
    /// attached to another message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 10)]
    pub attachment_ids: Vec<String>,
    /// The id of a message of the same conversation this answers.
    #[serde(default)]
    #[schema(pattern = "^[0-9a-fA-F]{24}$")]
    pub reply_to: Option<String>,
    /// A client-chosen id (1-64 printable ASCII characters) for this send: a retry with the
    /// same nonce returns the message stored the first time instead of storing a duplicate.
    #[serde(default)]
    #[schema(pattern = "^[!-~]{1,64}$")]
    pub nonce: Option<String>,
    /// Members the text mentions (at most 50; others than members are dropped). The text
    /// refers to them by tokens of the client's choice; the server does not parse `@name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub mentions: Vec<Uuid>,
    /// `@everyone`: mentions every member (a group's admin only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mention_everyone: bool,
}

/// `POST /attachments?name=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, shown to members and offered when they download it (folders and
    /// control characters are dropped, and it is cut at 200 characters; `file` when absent).
    pub name: Option<String>,
}

/// `PATCH /conversations/{id}/messages/{message_id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EditMessage {
    /// The new text, 1-4000 characters, not blank.
    #[schema(min_length = 1, max_length = 4000, pattern = r"[^ \t\n\r]")]
    pub text: String,
}

/// `GET /conversations/{id}/messages` paging: newest first by default; with `after`, oldest
/// first from just after that message (to catch up).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages older than this message id.
    #[param(pattern = "^[0-9a-fA-F]{24}$")]
    pub before: Option<String>,
    /// Messages newer than this message id (ascending).
    #[param(pattern = "^[0-9a-fA-F]{24}$")]
    pub after: Option<String>,
    /// The page around this message id, it included, oldest first (to jump to a search
    /// result); `has_more` then tells whether older messages exist. `before` and `after` are
    /// then ignored.
    #[param(pattern = "^[0-9a-fA-F]{24}$")]
    pub around: Option<String>,
    /// Page size, 1-100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page of messages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessagePage {
    /// Newest first, or oldest first when paging with `after`.
    pub messages: Vec<MessageView>,
    /// Whether more messages lie beyond this page in the same direction.
    pub has_more: bool,
}

/// `POST /conversations/{id}/read`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MarkRead {
    /// The newest message read.
    pub message_id: String,
}
