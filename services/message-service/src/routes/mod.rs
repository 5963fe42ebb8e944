//! HTTP routes, one module per area: each handler extracts, calls a use case
//! (`crate::conversations`, `crate::groups`, `crate::messaging`) and maps its answer.

mod conversations;
mod docs;
mod files;
mod groups;
mod messages;
mod push;
mod reactions;
mod search;

use std::sync::Arc;

use axum::Router;

use crate::state::AppState;

pub use docs::ApiDoc;
pub use files::UPLOAD_ROUTES;

/// Every REST route of the service, with its state; health and docs as on every service.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(conversations::router())
        .merge(groups::router())
        .merge(files::router())
        .merge(messages::router())
        .merge(reactions::router())
        .merge(push::router())
        .merge(search::router())
        .with_state(state.clone())
        .merge(chat_models::health::router(Arc::new(state)))
        .merge(chat_models::docs::router(
            <ApiDoc as utoipa::OpenApi>::openapi(),
        ))
}
