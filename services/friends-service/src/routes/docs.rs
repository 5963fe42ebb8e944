//! The OpenAPI document (`/openapi.json`) and interactive docs (`/docs`).

use axum::Router;
use chat_models::http::AccessTokenSecurity;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use super::{blocks, friends, health, relationships, requests};

/// friends-service's API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "friends-service", description = "Friend requests, friendships and blocks of the chat platform. \
        Errors are always `{\"error\": {\"code\", \"message\", \"details\"?}}`."),
    paths(
        health::health, health::ready,
        requests::send_request, requests::list_incoming, requests::list_outgoing,
        requests::accept_request, requests::reject_request, requests::cancel_request,
        friends::list_friends, friends::remove_friend,
        blocks::block_user, blocks::unblock_user, blocks::list_blocks,
        relationships::get_relationship, relationships::pair_status, relationships::check_friends, relationships::all_friends,
    ),
    components(schemas(chat_models::error::ErrorBody, chat_models::ErrorCode)),
    modifiers(&AccessTokenSecurity),
)]
pub struct ApiDoc;

pub fn router() -> Router {
    SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .into()
}
