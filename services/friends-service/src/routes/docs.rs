//! The OpenAPI document of friends-service (served with the shared parts by
//! `chat_models::docs::router`).

use utoipa::OpenApi;

use super::{blocks, friends, relationships, requests};

/// friends-service's API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "friends-service",
        description = "Friend requests, friendships and blocks of the chat platform. \
        Errors are always `{\"error\": {\"code\", \"message\", \"details\"?}}`."
    ),
    paths(
        requests::send_request,
        requests::list_incoming,
        requests::list_outgoing,
        requests::accept_request,
        requests::reject_request,
        requests::cancel_request,
        friends::list_friends,
        friends::remove_friend,
        blocks::block_user,
        blocks::unblock_user,
        blocks::list_blocks,
        relationships::get_relationship,
        relationships::pair_status,
        relationships::check_friends,
        relationships::all_friends,
    )
)]
pub struct ApiDoc;
