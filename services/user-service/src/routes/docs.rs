//! The OpenAPI document (`/openapi.json`) and interactive docs (`/docs`).

use axum::Router;
use chat_models::http::AccessTokenSecurity;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use super::{auth, health, internal, me, sessions, users};

/// user-service's API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "user-service", description = "Accounts, sign-in, sessions and profiles of the chat platform. \
        Errors are always `{\"error\": {\"code\", \"message\", \"details\"?}}`."),
    paths(
        health::health, health::ready, health::jwks,
        auth::register, auth::login, auth::refresh, auth::logout, auth::logout_all,
        auth::check_email, auth::check_username,
        sessions::list_sessions, sessions::revoke_session,
        me::get_me, me::update_me, me::change_password, me::delete_me,
        users::get_user, users::get_user_by_username, users::search_users,
        internal::batch_users,
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
