//! The OpenAPI document of message-service (served with the shared parts by
//! `chat_models::docs::router`).

use utoipa::OpenApi;

use super::{conversations, files, groups, messages, push, reactions, search};

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
        search::search_messages,
        push::vapid_key,
        push::list_subscriptions,
        push::subscribe,
        push::unsubscribe,
        push::get_settings,
        push::update_settings,
        push::mute,
        push::unmute,
        files::upload_attachment,
        files::download_attachment,
        files::attachment_thumbnail,
        files::remove_upload,
        files::set_group_picture,
        files::clear_group_picture,
        files::group_picture,
        files::group_picture_thumbnail,
    ),
    modifiers(&KnownEmoji)
)]
pub struct ApiDoc;

/// The `{emoji}` of the reaction routes is one of the emoji the server knows (the `emojis`
/// crate, skin tones included), each spelled as the server stores it; the document lists
/// them, so a client can tell a valid reaction from an invalid one (also accepted: the
/// unqualified spellings, stored qualified).
struct KnownEmoji;

impl utoipa::Modify for KnownEmoji {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ObjectBuilder, Type};
        let known: Vec<&str> = emojis::iter()
            .flat_map(|emoji| {
                let tones = emoji.skin_tones().into_iter().flatten();
                std::iter::once(emoji).chain(tones)
            })
            .map(emojis::Emoji::as_str)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.put, &mut item.delete].into_iter().flatten() {
                let parameters = operation.parameters.iter_mut().flatten();
                for parameter in parameters.filter(|parameter| parameter.name == "emoji") {
                    let schema = ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(known.iter().copied()))
                        .build();
                    parameter.schema = Some(schema.into());
                }
            }
        }
    }
}
