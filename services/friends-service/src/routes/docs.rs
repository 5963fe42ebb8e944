//! The OpenAPI document (`/openapi.json`) and interactive docs (`/docs`).

use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
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
        relationships::get_relationship, relationships::pair_status,
    ),
    components(schemas(chat_models::error::ErrorBody, chat_models::ErrorCode)),
    modifiers(&Security),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                chat_models::auth::ACCESS_COOKIE,
            ))),
        );
    }
}

pub fn router() -> Router {
    SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .into()
}
