//! The stored message and what it carries, and how clients see it.

use bson::oid::ObjectId;
use bson::DateTime as BsonDateTime;
use chat_files::FileDoc;
use chat_models::api::message::{AttachmentView, LinkPreview, MessageView, Reaction, ReplyQuote};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::uuids;
use crate::domain::{files_summary, preview};

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDoc {
    /// Id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Its conversation.
    pub conversation_id: ObjectId,
    /// Position in the conversation (1, 2, 3…).
    pub seq: i64,
    /// Author.
    #[serde(with = "uuids::one")]
    pub sender_uuid: Uuid,
    /// Text (empty once deleted).
    pub text: String,
    /// Sent at.
    pub timestamp: BsonDateTime,
    /// The message this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ObjectId>,
    /// Client nonce (absent when none was sent: the unique index only covers present ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Members mentioned (all of them for `@everyone`).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "uuids::list")]
    pub mentions: Vec<Uuid>,
    /// `@everyone`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentions_everyone: bool,
    /// Reactions, each emoji once with its users, in the order first given. An array, never
    /// an emoji as a field name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionDoc>,
    /// When it was pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_at: Option<BsonDateTime>,
    /// Who pinned it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "uuids::option"
    )]
    pub pinned_by: Option<Uuid>,
    /// The preview of its first link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_preview: Option<LinkPreviewDoc>,
    /// Its files, as they were when attached (their records are in `files`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentDoc>,
    /// The conversation's version at this message's last change (0: before versions).
    #[serde(default)]
    pub version: i64,
    /// Last edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<BsonDateTime>,
    /// Deletion (the message keeps its place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<BsonDateTime>,
}

/// One emoji on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionDoc {
    /// The emoji.
    pub emoji: String,
    /// Who reacted with it, in order.
    #[serde(with = "uuids::list")]
    pub users: Vec<Uuid>,
}

/// A stored link preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkPreviewDoc {
    /// The link.
    pub url: String,
    /// The page's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// The site's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentDoc {
    /// The file's id.
    pub id: ObjectId,
    /// Its cleaned name.
    pub name: String,
    /// Bytes.
    pub size: i64,
    /// Media type from its bytes.
    pub content_type: String,
    /// Width (images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    /// Height (images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    /// Whether it has a thumbnail.
    #[serde(default)]
    pub thumbnail: bool,
}

impl AttachmentDoc {
    /// What a message keeps of a file.
    pub fn of(file: &FileDoc) -> Self {
        Self {
            id: file.id,
            name: file.name.clone(),
            size: file.size,
            content_type: file.content_type.clone(),
            width: file.width,
            height: file.height,
            thumbnail: file.thumbnail.is_some(),
        }
    }

    /// As members see it; `files_url` is where this service's files are downloaded.
    pub fn view(&self, files_url: &str) -> AttachmentView {
        let url = format!("{files_url}/attachments/{}", self.id.to_hex());
        AttachmentView {
            id: self.id.to_hex(),
            name: self.name.clone(),
            size: self.size,
            content_type: self.content_type.clone(),
            width: self.width,
            height: self.height,
            thumbnail_url: self.thumbnail.then(|| format!("{url}/thumbnail")),
            url,
        }
    }
}

impl MessageDoc {
    /// The conversation list's preview of it: the start of its text, or its first file's
    /// name when it has no text.
    pub fn preview(&self) -> String {
        match self.attachments.first() {
            Some(file) if self.text.is_empty() => {
                preview(&files_summary(&file.name, self.attachments.len()))
            }
            _ => preview(&self.text),
        }
    }

    /// As clients see it, with the quote of the message it answers when known; `files_url`
    /// is where attachments are downloaded.
    pub fn view_with(&self, reply: Option<ReplyQuote>, files_url: &str) -> MessageView {
        MessageView {
            id: self.id.to_hex(),
            conversation_id: self.conversation_id.to_hex(),
            seq: self.seq,
            sender_uuid: self.sender_uuid,
            text: self.text.clone(),
            reply_to: self.reply_to.map(|id| id.to_hex()),
            reply,
            nonce: self.nonce.clone(),
            mentions: self.mentions.clone(),
            mentions_everyone: self.mentions_everyone,
            reactions: self
                .reactions
                .iter()
                .map(|reaction| Reaction {
                    emoji: reaction.emoji.clone(),
                    count: reaction.users.len() as u64,
                    user_uuids: reaction.users.clone(),
                })
                .collect(),
            pinned_at: self.pinned_at.map(BsonDateTime::to_chrono),
            pinned_by: self.pinned_by,
            link_preview: self.link_preview.as_ref().map(|preview| LinkPreview {
                url: preview.url.clone(),
                title: preview.title.clone(),
                description: preview.description.clone(),
                image_url: preview.image_url.clone(),
                site_name: preview.site_name.clone(),
            }),
            attachments: self
                .attachments
                .iter()
                .map(|file| file.view(files_url))
                .collect(),
            version: self.version,
            created_at: self.timestamp.to_chrono(),
            edited_at: self.edited_at.map(BsonDateTime::to_chrono),
            deleted_at: self.deleted_at.map(BsonDateTime::to_chrono),
        }
    }

    /// The quote of this message in a reply to it.
    pub fn quote(&self) -> ReplyQuote {
        ReplyQuote {
            id: self.id.to_hex(),
            sender_uuid: self.sender_uuid,
            preview: self.preview(),
            deleted: self.deleted_at.is_some(),
        }
    }

    /// How many react with `emoji`.
    pub fn reactions_of(&self, emoji: &str) -> u64 {
        self.reactions
            .iter()
            .find(|reaction| reaction.emoji == emoji)
            .map_or(0, |reaction| reaction.users.len() as u64)
    }
}
