//! The OpenAPI document (`/openapi.json`) and interactive docs (`/docs`).

use axum::Router;
use chat_models::http::AccessTokenSecurity;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use super::{conversations, health, messages};

/// message-service's API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "message-service", description = "Conversations, messages and read state of the chat platform. \
        Ids of conversations and messages are 24 hexadecimal characters. \
        Errors are always `{\"error\": {\"code\", \"message\", \"details\"?}}`."),
    paths(
        health::health, health::ready,
        conversations::list_conversations, conversations::open_direct, conversations::create_group,
        conversations::get_conversation, conversations::update_group, conversations::add_members,
        conversations::remove_member, conversations::transfer_admin, conversations::delete_conversation,
        messages::send_message, messages::history, messages::edit_message, messages::delete_message,
        messages::mark_read,
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
