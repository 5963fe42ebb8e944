//! `files`: attachments and group pictures ([`FileDoc`]), and `storage_usage`, each user's
//! bytes of attachments (the quota).
//!
//! A file lives while something keeps it: an upload waits to be attached (for
//! `UPLOAD_UNATTACHED_TTL_SECS`), an attachment lives with its message, a group picture with
//! its group while it is the picture. What removes the keeper marks the file released
//! (`releasedAt`) in the same transaction, and [`purge`] then removes its bytes, its record and
//! its share of the quota. So a crash between the two leaves a released file that the next
//! sweep removes, never a message pointing at missing bytes.

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime, Document};
use chat_files::records::{self, FileKind};
use chat_files::FileDoc;
use chat_models::{ApiError, ErrorCode, Result};
use futures::TryStreamExt as _;
use mongodb::ClientSession;
use uuid::Uuid;

use super::{in_transaction, uuids, Store, TxError};

/// Records a stored file.
pub async fn insert(store: &Store, file: &FileDoc) -> Result<()> {
    store.files.insert_one(file).await?;
    Ok(())
}

/// A file of `kind` that is not released.
pub async fn find_live(store: &Store, id: ObjectId, kind: FileKind) -> Result<Option<FileDoc>> {
    Ok(records::find_live(&store.files, id, kind).await?)
}

/// Attaches `ids` (the sender's own, unattached, live uploads) to a message, inside the
/// send's transaction; refuses with `attachment_not_found` unless every one is such an
/// upload. The files in the order asked.
pub(super) async fn claim(
    store: &Store,
    session: &mut ClientSession,
    sender: Uuid,
    ids: &[ObjectId],
    conversation: ObjectId,
    message: ObjectId,
) -> Result<Vec<FileDoc>, TxError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let filter = doc! {
        "_id": { "$in": ids },
        "ownerUuid": uuids::bson(sender),
        "kind": "attachment",
        "messageId": { "$exists": false },
        "releasedAt": { "$exists": false },
    };
    let found: Vec<FileDoc> = store
        .files
        .find(filter.clone())
        .session(&mut *session)
        .await?
        .stream(&mut *session)
        .try_collect()
        .await?;
    if found.len() != ids.len() {
        return Err(TxError::Api(ApiError::NotFound(
            ErrorCode::AttachmentNotFound,
        )));
    }
    let claimed = store
        .files
        .update_many(
            filter,
            doc! { "$set": { "messageId": message, "conversationId": conversation } },
        )
        .session(&mut *session)
        .await?;
    if usize::try_from(claimed.modified_count).ok() != Some(ids.len()) {
        return Err(TxError::Api(ApiError::NotFound(
            ErrorCode::AttachmentNotFound,
        )));
    }
    let mut ordered = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(file) = found.iter().find(|file| file.id == *id) {
            ordered.push(file.clone());
        }
    }
    Ok(ordered)
}

/// Marks released, inside a transaction, the live files matching `filter`.
pub(super) async fn release_in(
    store: &Store,
    session: &mut ClientSession,
    filter: Document,
) -> Result<(), TxError> {
    let mut filter = filter;
    filter.insert("releasedAt", doc! { "$exists": false });
    store
        .files
        .update_many(
            filter,
            doc! { "$set": { "releasedAt": BsonDateTime::now() } },
        )
        .session(&mut *session)
        .await?;
    Ok(())
}

/// Marks released the live files matching `filter` (outside any transaction).
async fn release(store: &Store, filter: Document) -> Result<u64> {
    Ok(records::release(&store.files, filter).await?)
}

/// Releases one unattached upload of `owner` (they removed it before sending); whether there
/// was one.
pub async fn release_unattached(store: &Store, owner: Uuid, id: ObjectId) -> Result<bool> {
    Ok(release(
        store,
        doc! {
            "_id": id,
            "ownerUuid": uuids::bson(owner),
            "kind": "attachment",
            "messageId": { "$exists": false },
        },
    )
    .await?
        == 1)
}

/// Releases uploads still unattached that were made before `cutoff`.
pub async fn release_stale_uploads(store: &Store, cutoff: BsonDateTime) -> Result<u64> {
    release(
        store,
        doc! {
            "kind": "attachment",
            "messageId": { "$exists": false },
            "createdAt": { "$lt": cutoff },
        },
    )
    .await
}

/// Releases the pictures of a group other than `keep` (the one it shows now, if ours).
pub async fn release_pictures_except(
    store: &Store,
    group: ObjectId,
    keep: Option<ObjectId>,
) -> Result<u64> {
    let mut filter = doc! { "kind": "group_picture", "conversationId": group };
    if let Some(keep) = keep {
        filter.insert("_id", doc! { "$ne": keep });
    }
    release(store, filter).await
}

/// Releases every attachment `owner` uploaded (a deleted account).
pub async fn release_all_of(store: &Store, owner: Uuid) -> Result<u64> {
    release(
        store,
        doc! { "ownerUuid": uuids::bson(owner), "kind": "attachment" },
    )
    .await
}

/// Up to `limit` released files.
pub async fn released(store: &Store, limit: i64) -> Result<Vec<FileDoc>> {
    Ok(records::released(&store.files, limit).await?)
}

/// Forgets a released file whose bytes are gone: its record, and its size off its owner's
/// total (attachments), in one transaction, so the quota is credited once however many
/// instances purge it.
pub async fn forget(store: &Store, file: &FileDoc) -> Result<()> {
    in_transaction(store, file, |store, session, file| {
        Box::pin(async move {
            let deleted = store
                .files
                .delete_one(doc! { "_id": file.id, "releasedAt": { "$exists": true } })
                .session(&mut *session)
                .await?
                .deleted_count;
            if deleted == 1 && file.kind == FileKind::Attachment {
                store
                    .storage_usage
                    .update_one(
                        doc! { "_id": &file.owner_uuid },
                        doc! { "$inc": { "bytes": -file.size } },
                    )
                    .session(&mut *session)
                    .await?;
            }
            Ok(())
        })
    })
    .await
}
