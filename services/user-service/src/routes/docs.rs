//! The OpenAPI document of user-service (served with the shared parts by
//! `chat_models::docs::router`).

use utoipa::OpenApi;

use super::{auth, availability, avatars, internal, keys, me, oauth, sessions, users};

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
        avatars::upload_avatar,
        avatars::remove_avatar,
        avatars::avatar,
        avatars::avatar_thumbnail,
        auth::register,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::logout_all,
        oauth::providers,
        oauth::start,
        oauth::callback,
        oauth::pending_signup,
        oauth::complete_signup,
        oauth::sign_in_methods,
        oauth::unlink,
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
    ),
    modifiers(&AtLeastOneChange)
)]
pub struct ApiDoc;

/// `PATCH /users/me` needs at least one field. utoipa 5.5 writes `#[schema(min_properties)]`
/// as `maxProperties`, so the bound is set here.
struct AtLeastOneChange;

impl utoipa::Modify for AtLeastOneChange {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let schema = openapi
            .components
            .as_mut()
            .and_then(|components| components.schemas.get_mut("UpdateMeRequest"));
        if let Some(RefOr::T(Schema::Object(object))) = schema {
            object.min_properties = Some(1);
            object.max_properties = None;
        }
    }
}
