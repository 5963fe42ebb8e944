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
    ),
    modifiers(&ExactlyOneTarget)
)]
pub struct ApiDoc;

/// A friend request names its user by `username` or by `user_uuid`, never both and never
/// neither: a `oneOf` of the two shapes, each admitting no other property (what the route
/// checks; the derived schema would only say "both optional").
struct ExactlyOneTarget;

impl utoipa::Modify for ExactlyOneTarget {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{AdditionalProperties, OneOfBuilder};
        use utoipa::openapi::{ObjectBuilder, Schema, Type};
        let only = |name: &str, description: &str, format: Option<&str>| {
            let mut property = ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description));
            if let Some(format) = format {
                property = property.format(Some(utoipa::openapi::SchemaFormat::Custom(
                    format.to_owned(),
                )));
            }
            ObjectBuilder::new()
                .property(name, property)
                .required(name)
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
                .build()
        };
        let schema = OneOfBuilder::new()
            .description(Some(
                "The user to ask: by username (case-insensitive) or by uuid, exactly one.",
            ))
            .item(only("username", "The other user's username.", None))
            .item(only("user_uuid", "The other user's uuid.", Some("uuid")))
            .build();
        if let Some(components) = openapi.components.as_mut() {
            components
                .schemas
                .insert("SendFriendRequest".to_owned(), Schema::OneOf(schema).into());
        }
    }
}
