//! The OpenAPI document of user-service (served with the shared parts by
//! `chat_models::docs::router`).

use utoipa::OpenApi;

use super::{auth, availability, internal, keys, me, sessions, users};

/// user-service's API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "user-service",
        description = "Accounts, sign-in, sessions and profiles of the chat platform. \
        Errors are always `{\"error\": {\"code\", \"message\", \"details\"?}}`."
    ),
    paths(
        keys::jwks,
        auth::register,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::logout_all,
        availability::check_email,
        availability::check_username,
        sessions::list_sessions,
        sessions::revoke_session,
        me::get_me,
        me::update_me,
        me::change_password,
        me::delete_me,
        users::get_user,
        users::get_user_by_username,
        users::search_users,
        internal::batch_users,
    )
)]
pub struct ApiDoc;
