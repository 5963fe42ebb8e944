//! Message search.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chat_models::api::search::{SearchPage, SearchQuery};
use chat_models::auth::AuthUser;
use chat_models::http::{AppJson, AppQuery};
use chat_models::Result;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/search/messages", get(search_messages))
}

/// # `GET /search/messages`
/// Finds messages by their current text in the caller's conversations (or one of them):
/// every word, `"phrases"`, not `-words`; the last word also as a prefix. Newest first unless
/// `sort=relevance`. Each result has the message and a snippet with the matches marked.
/// Deleted messages are never found; a member who left a group no longer finds its messages.
#[utoipa::path(get, path = "/search/messages", tag = "search", params(SearchQuery),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = SearchPage),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`: `q` (`empty`, `too_long`), `limit`, `cursor`")))]
pub async fn search_messages(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<SearchQuery>,
) -> Result<AppJson<SearchPage>> {
    Ok(AppJson(
        crate::search::messages(&state, auth.user_id, query).await?,
    ))
}
