//! The stored conversation, and what every member sees of it.

use bson::oid::ObjectId;
use bson::DateTime as BsonDateTime;
use chat_models::api::message::{ConversationInfo, LastMessage};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::uuids;

/// A stored conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDoc {
    /// Id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Members, in the order they joined.
    #[serde(with = "uuids::list")]
    pub participants: Vec<Uuid>,
    /// Group or direct.
    pub is_group: bool,
    /// The group's admin.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "uuids::option"
    )]
    pub admin: Option<Uuid>,
    /// The group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The group's picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_picture: Option<String>,
    /// The group's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The newest message, for previews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<LastMessageDoc>,
    /// `seq` of the newest message; incremented by every send, inside its transaction.
    #[serde(default)]
    pub last_seq: i64,
    /// Incremented by every change to its messages (sends included), inside the change's
    /// transaction; a changed message keeps the version of its last change.
    #[serde(default)]
    pub version: i64,
    /// How many of its messages are pinned.
    #[serde(default)]
    pub pin_count: i64,
    /// Direct conversations only: both uuids in order, unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_key: Option<String>,
    /// Members who deleted (hid) this direct conversation; cleared by the next message.
    #[serde(default, with = "uuids::list")]
    pub hidden_for: Vec<Uuid>,
    /// Creation time.
    pub created_at: BsonDateTime,
    /// Last message or change.
    pub updated_at: BsonDateTime,
}

/// The preview of the newest message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastMessageDoc {
    /// The message.
    pub message_id: ObjectId,
    /// Its position.
    pub seq: i64,
    /// The start of its text.
    pub text: String,
    /// Its author.
    #[serde(with = "uuids::one")]
    pub sender_uuid: Uuid,
    /// When it was sent.
    pub timestamp: BsonDateTime,
}

impl ConversationDoc {
    /// Whether `user` is a member.
    pub fn has_member(&self, user: Uuid) -> bool {
        self.participants.contains(&user)
    }

    /// Members as uuids.
    pub fn member_uuids(&self) -> Vec<Uuid> {
        self.participants.clone()
    }

    /// The member of a direct conversation who is not `me`.
    pub fn other_member(&self, me: Uuid) -> Option<Uuid> {
        self.participants
            .iter()
            .copied()
            .find(|member| *member != me)
    }

    /// What every member sees; `can_send` comes from friends-service for direct conversations.
    pub fn info(&self, can_send: bool) -> ConversationInfo {
        ConversationInfo {
            id: self.id.to_hex(),
            is_group: self.is_group,
            participant_uuids: self.participants.clone(),
            admin: self.admin,
            name: self.group_name.clone(),
            description: self.description.clone(),
            picture: self.group_picture.clone(),
            last_message: self.last_message.as_ref().map(|last| LastMessage {
                id: last.message_id.to_hex(),
                seq: last.seq,
                sender_uuid: last.sender_uuid,
                preview: last.text.clone(),
                created_at: last.timestamp.to_chrono(),
            }),
            last_seq: self.last_seq,
            version: self.version,
            can_send,
            created_at: self.created_at.to_chrono(),
            updated_at: self.updated_at.to_chrono(),
        }
    }
}
