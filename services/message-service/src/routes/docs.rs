//! The OpenAPI document of message-service (served with the shared parts by
//! `chat_models::docs::router`).

use utoipa::OpenApi;

use super::{conversations, groups, messages, reactions};

/// message-service's API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "message-service",
        description = "Conversations, messages and read state of the chat platform. \
        Ids of conversations and messages are 24 hexadecimal characters. \
        Errors are always `{\"error\": {\"code\", \"message\", \"details\"?}}`."
    ),
    paths(
        conversations::list_conversations,
        conversations::open_direct,
        conversations::get_conversation,
        conversations::delete_conversation,
        groups::create_group,
        groups::update_group,
        groups::add_members,
        groups::remove_member,
        groups::transfer_admin,
        messages::send_message,
        messages::history,
        messages::edit_message,
        messages::delete_message,
        messages::mark_read,
        messages::changes,
        reactions::add_reaction,
        reactions::remove_reaction,
        reactions::pin_message,
        reactions::unpin_message,
        reactions::list_pins,
    )
)]
pub struct ApiDoc;
