//! HTTP routes, one module per area, merged into one router.

mod blocks;
mod docs;
mod friends;
mod relationships;
mod requests;

use std::sync::Arc;

use axum::Router;
use chat_models::api::user::PublicUser;
use chat_models::api::PageLimit;
use chat_models::events::{DomainEvent, EventEnvelope};
use chat_models::{ApiError, ErrorCode, Result};
use sqlx::MySqlConnection;
use uuid::Uuid;

use crate::state::AppState;

pub use docs::ApiDoc;

/// Every route of the service, with its state.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(requests::router())
        .merge(friends::router())
        .merge(blocks::router())
        .merge(relationships::router())
        .with_state(state.clone())
        .merge(chat_models::health::router(Arc::new(state)))
        .merge(chat_models::docs::router(
            <ApiDoc as utoipa::OpenApi>::openapi(),
        ))
}

/// Records an event in the caller's transaction (published by the outbox relay after commit).
async fn emit(conn: &mut MySqlConnection, event: DomainEvent) -> Result<()> {
    chat_models::outbox::insert_event(conn, &EventEnvelope::now(event))
        .await
        .map_err(ApiError::Internal)
}

/// The profile of another user by uuid; 400 for oneself, 404 if unknown.
async fn other_user(state: &AppState, me: Uuid, other: Uuid) -> Result<PublicUser> {
    if me == other {
        return Err(ApiError::BadRequest(
            ErrorCode::CannotTargetSelf,
            "You cannot do this to yourself.".to_owned(),
        ));
    }
    state
        .users
        .batch(vec![other], Vec::new())
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound(ErrorCode::UserNotFound))
}

/// Page sizes of the lists: 50 unless asked, at most 100.
const PAGES: PageLimit = PageLimit::new(50, 100);
