//! [`FileDoc`]: what we know of a stored file, in the owning service's MongoDB (`files`).
//! The bytes are in [`crate::Storage`] under [`FileDoc::key`] (and the thumbnail's key).

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime, Document};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

/// What a file is for: its size limit, who may read it, what removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Attached to a message (members of its conversation read it).
    Attachment,
    /// A profile picture (signed-in users read it).
    Avatar,
    /// A group's picture (signed-in users read it).
    GroupPicture,
}

impl FileKind {
    /// The first part of its storage keys.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Attachment => "attachments",
            Self::Avatar => "avatars",
            Self::GroupPicture => "group-pictures",
        }
    }
}

/// A stored file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDoc {
    /// Id (also in its URLs).
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// What it is for.
    pub kind: FileKind,
    /// Who uploaded it (a user uuid).
    pub owner_uuid: String,
    /// The name it was uploaded with, cleaned (shown, and offered when downloading).
    pub name: String,
    /// Size in bytes of what is stored.
    pub size: i64,
    /// SHA-256 of what is stored, hex (also its `ETag`).
    pub sha256: String,
    /// The media type its bytes show (never the one the client claimed).
    pub content_type: String,
    /// Width in pixels, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    /// Height in pixels, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    /// The thumbnail, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<ThumbnailDoc>,
    /// The conversation it belongs to (a group picture's group; an attachment's
    /// conversation once attached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ObjectId>,
    /// The message it is attached to (unset: not attached yet, and swept if it stays so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<ObjectId>,
    /// Uploaded at.
    pub created_at: BsonDateTime,
    /// When what kept it went away (its message, group or account, or the wait to be
    /// attached ran out): a released file is no longer served and is purged, bytes first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<BsonDateTime>,
}

/// A stored thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThumbnailDoc {
    /// Size in bytes.
    pub size: i64,
    /// Media type.
    pub content_type: String,
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
}

impl FileDoc {
    /// The record of an upload `owner` made (just received, kept by nothing yet unless it
    /// belongs to `conversation`), named as `name` cleaned.
    pub fn new(
        id: ObjectId,
        kind: FileKind,
        owner: uuid::Uuid,
        name: &str,
        received: crate::Received,
        conversation: Option<ObjectId>,
    ) -> Self {
        let to_i32 = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
        Self {
            id,
            kind,
            owner_uuid: owner.hyphenated().to_string(),
            name: crate::intake::clean_name(name),
            size: i64::try_from(received.size).unwrap_or(i64::MAX),
            sha256: received.sha256,
            content_type: received.content_type,
            width: received.dimensions.map(|(width, _)| to_i32(width)),
            height: received.dimensions.map(|(_, height)| to_i32(height)),
            thumbnail: received.thumbnail,
            conversation_id: conversation,
            message_id: None,
            created_at: BsonDateTime::now(),
            released_at: None,
        }
    }

    /// Deletes its bytes (and its thumbnail's) from `storage`: the first step of purging it.
    pub async fn delete_bytes(&self, storage: &crate::Storage) -> anyhow::Result<()> {
        for key in self.keys() {
            storage.delete(&key).await?;
        }
        Ok(())
    }

    /// The storage key of its bytes.
    pub fn key(&self) -> String {
        format!("{}/{}", self.kind.prefix(), self.id.to_hex())
    }

    /// The storage key of its thumbnail.
    pub fn thumbnail_key(&self) -> String {
        format!("{}/{}.thumb", self.kind.prefix(), self.id.to_hex())
    }

    /// Both keys.
    pub fn keys(&self) -> Vec<String> {
        let mut keys = vec![self.key()];
        if self.thumbnail.is_some() {
            keys.push(self.thumbnail_key());
        }
        keys
    }
}

/// Creates the indexes a `files` collection needs (idempotent): files of a message, of a
/// conversation, of an owner, unattached ones by age and released ones (the sweeper).
pub async fn ensure_indexes(files: &Collection<FileDoc>) -> mongodb::error::Result<()> {
    let named = |name: &str| IndexOptions::builder().name(name.to_owned()).build();
    files
        .create_indexes([
            IndexModel::builder()
                .keys(doc! { "messageId": 1 })
                .options(named("messageId"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "conversationId": 1 })
                .options(named("conversationId"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "ownerUuid": 1, "kind": 1 })
                .options(named("owner_kind"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "kind": 1, "messageId": 1, "createdAt": 1 })
                .options(named("kind_unattached_age"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "releasedAt": 1 })
                .options(
                    IndexOptions::builder()
                        .name("released".to_owned())
                        .partial_filter_expression(doc! { "releasedAt": { "$exists": true } })
                        .build(),
                )
                .build(),
        ])
        .await?;
    Ok(())
}

/// A file of `kind` that is not released.
pub async fn find_live(
    files: &Collection<FileDoc>,
    id: ObjectId,
    kind: FileKind,
) -> mongodb::error::Result<Option<FileDoc>> {
    files
        .find_one(doc! {
            "_id": id,
            "kind": kind_bson(kind),
            "releasedAt": { "$exists": false },
        })
        .await
}

/// Marks released the live files matching `filter`; how many.
pub async fn release(
    files: &Collection<FileDoc>,
    mut filter: Document,
) -> mongodb::error::Result<u64> {
    filter.insert("releasedAt", doc! { "$exists": false });
    Ok(files
        .update_many(
            filter,
            doc! { "$set": { "releasedAt": BsonDateTime::now() } },
        )
        .await?
        .modified_count)
}

/// Up to `limit` released files, to purge.
pub async fn released(
    files: &Collection<FileDoc>,
    limit: i64,
) -> mongodb::error::Result<Vec<FileDoc>> {
    use futures::TryStreamExt as _;
    files
        .find(doc! { "releasedAt": { "$exists": true } })
        .limit(limit)
        .await?
        .try_collect()
        .await
}

/// The id of a file URL `{base}/{path}/{id}` of ours (`None`: any other URL).
pub fn id_in_url(url: &str, base: &str, path: &str) -> Option<ObjectId> {
    let id = url
        .strip_prefix(base)?
        .strip_prefix('/')?
        .strip_prefix(path)?
        .strip_prefix('/')?;
    ObjectId::parse_str(id).ok()
}

/// `kind` as stored.
pub fn kind_bson(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Attachment => "attachment",
        FileKind::Avatar => "avatar",
        FileKind::GroupPicture => "group_picture",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_file_urls_name_an_id() {
        let id = ObjectId::new();
        let base = "http://chat.example:5001";
        let url = format!("{base}/avatars/{}", id.to_hex());
        assert_eq!(id_in_url(&url, base, "avatars"), Some(id));
        assert_eq!(id_in_url(&url, base, "group-pictures"), None);
        assert_eq!(id_in_url(&url, "http://other.example", "avatars"), None);
        assert_eq!(
            id_in_url(&format!("{base}/avatars/nope"), base, "avatars"),
            None
        );
        assert_eq!(
            id_in_url("https://cdn.example/a.png", base, "avatars"),
            None
        );
    }
}
