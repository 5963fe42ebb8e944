//! Files, as use cases: upload an attachment (within the sender's quota), download one
//! (members of its conversation only), remove an unsent upload; set, clear and serve a
//! group's picture (admin only; any signed-in user sees it); and the sweeper that removes
//! what nothing keeps any more (see [`crate::db::files`]).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use bson::oid::ObjectId;
use bson::DateTime as BsonDateTime;
use chat_files::intake::human_size;
use chat_files::records::FileKind;
use chat_files::serve::{self, Part};
use chat_files::{FileDoc, Intake, IntakeLimits, Quota};
use chat_models::api::message::{AttachmentView, ConversationView};
use chat_models::{ApiError, ErrorCode, Result};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::db::conversations as conversation_store;
use crate::db::files as store;
use crate::db::messages::AttachmentDoc;
use crate::state::AppState;

/// Released files purged per round of the sweeper.
const PURGE_BATCH: i64 = 100;

/// The file parts of the service.
#[derive(Clone, Debug)]
pub struct Files {
    /// Receives uploads into storage.
    pub intake: Intake,
    /// Each user's bytes of attachments.
    pub quota: Quota,
    /// This service's public address, without a trailing `/`.
    pub public_url: String,
    /// What an attachment may be.
    pub attachments: IntakeLimits,
    /// What a group picture may be.
    pub pictures: IntakeLimits,
    /// How long an upload may wait to be attached.
    pub unattached_ttl: Duration,
    /// Wakes the sweeper (something was released).
    pub purge: Arc<Notify>,
}

impl Files {
    /// The id of a group picture URL of ours (`None`: someone else's URL).
    fn own_picture(&self, url: &str) -> Option<ObjectId> {
        chat_files::records::id_in_url(url, &self.public_url, "group-pictures")
    }

    fn picture_url(&self, id: ObjectId) -> String {
        format!("{}/group-pictures/{}", self.public_url, id.to_hex())
    }
}

/// Stores an upload of `me`'s for a message they will send; refused when it is too large,
/// over their quota, or a broken image.
pub async fn upload_attachment(
    state: &AppState,
    me: Uuid,
    name: Option<&str>,
    body: Body,
    declared: Option<u64>,
) -> Result<AttachmentView> {
    let files = &state.files;
    let owner = me.hyphenated().to_string();
    // Refused before reading when it cannot fit (the reservation below is what counts).
    if let Some(declared) = declared {
        if files.quota.used(&owner).await?.saturating_add(declared) > files.quota.limit {
            return Err(over_quota(files.quota.limit));
        }
    }
    let id = ObjectId::new();
    let received = files
        .intake
        .receive(body, declared, FileKind::Attachment, id, &files.attachments)
        .await?;
    let file = FileDoc::new(
        id,
        FileKind::Attachment,
        me,
        name.unwrap_or_default(),
        received,
        None,
    );
    if !files
        .quota
        .reserve(&owner, file.size.unsigned_abs())
        .await?
    {
        files.intake.remove(&file.keys()).await;
        return Err(over_quota(files.quota.limit));
    }
    if let Err(error) = store::insert(&state.store, &file).await {
        files.intake.remove(&file.keys()).await;
        let _ = files.quota.release(&owner, file.size.unsigned_abs()).await;
        return Err(error);
    }
    Ok(AttachmentDoc::of(&file).view(&files.public_url))
}

/// A download of an attachment: for members of its conversation, or its uploader before it
/// is sent; everyone else gets the same 404 as for a file that does not exist.
pub async fn download_attachment(
    state: &AppState,
    me: Uuid,
    id: &str,
    part: Part,
    request: &HeaderMap,
) -> Result<Response> {
    let file = live(state, id, FileKind::Attachment).await?;
    let allowed = match file.conversation_id {
        Some(conversation) if file.message_id.is_some() => {
            match conversation_store::find_for_member(&state.store, conversation, me).await {
                Ok(_) => true,
                Err(ApiError::NotFound(_)) => false,
                Err(error) => return Err(error),
            }
        }
        _ => file.owner_uuid == me.hyphenated().to_string(),
    };
    if !allowed {
        return Err(not_found());
    }
    serve::download(&state.files.intake.storage, &file, part, request, not_found).await
}

/// Removes an upload of `me`'s that no message carries yet.
pub async fn remove_upload(state: &AppState, me: Uuid, id: &str) -> Result<()> {
    let id = ObjectId::parse_str(id).map_err(|_| not_found())?;
    if !store::release_unattached(&state.store, me, id).await? {
        return Err(not_found());
    }
    state.files.purge.notify_one();
    Ok(())
}

/// Makes an uploaded image a group's picture (admin only).
pub async fn set_group_picture(
    state: &AppState,
    me: Uuid,
    group: &str,
    body: Body,
    declared: Option<u64>,
) -> Result<ConversationView> {
    let group = crate::groups::as_admin(state, crate::domain::conversation_id(group)?, me).await?;
    let files = &state.files;
    let id = ObjectId::new();
    let received = files
        .intake
        .receive(body, declared, FileKind::GroupPicture, id, &files.pictures)
        .await?;
    let file = FileDoc::new(
        id,
        FileKind::GroupPicture,
        me,
        "group-picture",
        received,
        Some(group.id),
    );
    if let Err(error) = store::insert(&state.store, &file).await {
        files.intake.remove(&file.keys()).await;
        return Err(error);
    }
    let picture = Some(files.picture_url(id));
    match crate::groups::change_picture(state, me, group.id, picture).await {
        Ok(view) => Ok(view),
        Err(error) => {
            // No longer admin, or the group went away: the picture is not kept.
            store::release_pictures_except(&state.store, group.id, None).await?;
            files.purge.notify_one();
            Err(error)
        }
    }
}

/// Removes a group's picture (admin only).
pub async fn clear_group_picture(
    state: &AppState,
    me: Uuid,
    group: &str,
) -> Result<ConversationView> {
    let group = crate::groups::as_admin(state, crate::domain::conversation_id(group)?, me).await?;
    crate::groups::change_picture(state, me, group.id, None).await
}

/// After a group's picture changed to `picture`: releases the uploaded pictures it no longer
/// shows.
pub async fn picture_changed(
    state: &AppState,
    group: ObjectId,
    picture: Option<&str>,
) -> Result<()> {
    let keep = picture.and_then(|url| state.files.own_picture(url));
    if store::release_pictures_except(&state.store, group, keep).await? > 0 {
        state.files.purge.notify_one();
    }
    Ok(())
}

/// A group picture, for any signed-in user.
pub async fn download_picture(
    state: &AppState,
    id: &str,
    part: Part,
    request: &HeaderMap,
) -> Result<Response> {
    let file = live(state, id, FileKind::GroupPicture).await?;
    serve::download(&state.files.intake.storage, &file, part, request, not_found).await
}

/// Releases what a deleted account uploaded, and forgets its quota.
pub async fn forget_user(state: &AppState, user: Uuid) -> Result<()> {
    store::release_all_of(&state.store, user).await?;
    state
        .files
        .quota
        .forget(&user.hyphenated().to_string())
        .await?;
    state.files.purge.notify_one();
    Ok(())
}

/// Removes uploads left unattached past their time and every released file, now and then
/// and whenever something is released. Runs on every instance; they may overlap safely.
pub async fn sweep(state: AppState) {
    let interval = state.files.unattached_ttl.min(Duration::from_secs(60));
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = state.files.purge.notified() => {}
        }
        if let Err(error) = sweep_once(&state).await {
            error.report();
        }
    }
}

/// One round of [`sweep`]; how many files it removed.
pub async fn sweep_once(state: &AppState) -> Result<usize> {
    let ttl = i64::try_from(state.files.unattached_ttl.as_millis()).unwrap_or(i64::MAX);
    let cutoff = BsonDateTime::from_millis(BsonDateTime::now().timestamp_millis() - ttl);
    store::release_stale_uploads(&state.store, cutoff).await?;
    let mut removed = 0;
    loop {
        let batch = store::released(&state.store, PURGE_BATCH).await?;
        if batch.is_empty() {
            return Ok(removed);
        }
        for file in &batch {
            // Bytes first: a record is only forgotten once nothing of it is left.
            file.delete_bytes(&state.files.intake.storage)
                .await
                .map_err(ApiError::unavailable)?;
            store::forget(&state.store, file).await?;
            removed += 1;
        }
        metrics::counter!("files_purged_total").increment(batch.len() as u64);
    }
}

async fn live(state: &AppState, id: &str, kind: FileKind) -> Result<FileDoc> {
    let id = ObjectId::parse_str(id).map_err(|_| not_found())?;
    store::find_live(&state.store, id, kind)
        .await?
        .ok_or_else(not_found)
}

fn not_found() -> ApiError {
    ApiError::NotFound(ErrorCode::FileNotFound)
}

fn over_quota(limit: u64) -> ApiError {
    ApiError::TooLarge(
        ErrorCode::QuotaExceeded,
        format!(
            "This file does not fit in your {} of storage; delete some files first.",
            human_size(limit)
        ),
    )
}
