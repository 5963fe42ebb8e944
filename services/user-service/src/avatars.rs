//! Profile pictures, as use cases: upload one (an image, cleaned and scaled to fit 1024×1024,
//! kept in the file store, recorded in MongoDB `files`), remove it, serve it to signed-in
//! users. The profile's `profile_picture` is the picture's URL, so every client keeps showing
//! whatever URL a profile has; an uploaded picture stops being kept once the profile shows
//! another (or the account goes), and the purge removes its bytes, then its record.

use std::time::Duration;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use bson::doc;
use bson::oid::ObjectId;
use chat_files::records::{self, FileKind};
use chat_files::serve::{self, Part};
use chat_files::{FileDoc, Intake, IntakeLimits};
use chat_models::{ApiError, ErrorCode, Result};
use mongodb::Collection;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::db::users::ProfileChanges;
use crate::state::AppState;

/// The avatar parts of the service.
#[derive(Clone, Debug)]
pub struct Avatars {
    /// Receives uploads into storage.
    pub intake: Intake,
    /// `files` in MongoDB.
    pub files: Collection<FileDoc>,
    /// This service's public address, without a trailing `/`.
    pub public_url: String,
    /// What an avatar may be.
    pub limits: IntakeLimits,
    /// Wakes the purge (a picture was released).
    pub purge: std::sync::Arc<Notify>,
}

impl Avatars {
    fn url(&self, id: ObjectId) -> String {
        format!("{}/avatars/{}", self.public_url, id.to_hex())
    }

    /// The id of an avatar URL of ours (`None`: someone else's URL).
    fn own(&self, url: &str) -> Option<ObjectId> {
        records::id_in_url(url, &self.public_url, "avatars")
    }
}

/// Makes an uploaded image `me`'s profile picture.
pub async fn upload(state: &AppState, me: Uuid, body: Body, declared: Option<u64>) -> Result<()> {
    let avatars = &state.avatars;
    let id = ObjectId::new();
    let received = avatars
        .intake
        .receive(body, declared, FileKind::Avatar, id, &avatars.limits)
        .await?;
    let file = FileDoc::new(id, FileKind::Avatar, me, "avatar", received, None);
    if let Err(error) = avatars.files.insert_one(&file).await {
        avatars.intake.remove(&file.keys()).await;
        return Err(error.into());
    }
    let changes = ProfileChanges {
        profile_picture: Some(Some(avatars.url(id))),
        ..ProfileChanges::default()
    };
    if let Err(error) = crate::profiles::update(state, me, changes).await {
        // The profile still shows the old picture: only the new one goes.
        records::release(&avatars.files, doc! { "_id": id }).await?;
        avatars.purge.notify_one();
        return Err(error);
    }
    release_except(state, me, Some(id)).await
}

/// Clears `me`'s profile picture.
pub async fn remove(state: &AppState, me: Uuid) -> Result<()> {
    let changes = ProfileChanges {
        profile_picture: Some(None),
        ..ProfileChanges::default()
    };
    crate::profiles::update(state, me, changes).await?;
    release_except(state, me, None).await
}

/// After `me`'s profile picture changed to `picture`: releases uploaded pictures it no longer
/// shows.
pub async fn picture_changed(state: &AppState, me: Uuid, picture: Option<&str>) -> Result<()> {
    let keep = picture.and_then(|url| state.avatars.own(url));
    release_except(state, me, keep).await
}

/// Releases `me`'s uploaded pictures other than `keep` (all of them for a deleted account).
pub async fn release_except(state: &AppState, me: Uuid, keep: Option<ObjectId>) -> Result<()> {
    let mut filter = doc! { "ownerUuid": me.hyphenated().to_string(), "kind": "avatar" };
    if let Some(keep) = keep {
        filter.insert("_id", doc! { "$ne": keep });
    }
    if records::release(&state.avatars.files, filter).await? > 0 {
        state.avatars.purge.notify_one();
    }
    Ok(())
}

/// A profile picture, for any signed-in user.
pub async fn download(
    state: &AppState,
    id: &str,
    part: Part,
    request: &HeaderMap,
) -> Result<Response> {
    let not_found = || ApiError::NotFound(ErrorCode::FileNotFound);
    let id = ObjectId::parse_str(id).map_err(|_| not_found())?;
    let file = records::find_live(&state.avatars.files, id, FileKind::Avatar)
        .await?
        .ok_or_else(not_found)?;
    serve::download(
        &state.avatars.intake.storage,
        &file,
        part,
        request,
        not_found,
    )
    .await
}

/// Removes released pictures (bytes, then record) whenever one is released, and every minute
/// for any a failure left behind.
pub async fn purge(state: AppState) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
            () = state.avatars.purge.notified() => {}
        }
        if let Err(error) = purge_once(&state).await {
            error.report();
        }
    }
}

async fn purge_once(state: &AppState) -> Result<()> {
    loop {
        let batch = records::released(&state.avatars.files, 100).await?;
        if batch.is_empty() {
            return Ok(());
        }
        for file in batch {
            file.delete_bytes(&state.avatars.intake.storage)
                .await
                .map_err(ApiError::unavailable)?;
            state
                .avatars
                .files
                .delete_one(doc! { "_id": file.id })
                .await?;
        }
    }
}
