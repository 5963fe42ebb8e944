//! Conversations: open a direct one, create and manage groups, list, get, delete.

use std::collections::HashSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::Router;
use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime, Document};
use chat_models::api::message::{
    AddMembers, ConversationPage, ConversationPageQuery, ConversationView, CreateGroup, OpenDirect,
    TransferAdmin, UpdateGroup,
};
use chat_models::auth::AuthUser;
use chat_models::events::{ConversationEvent, DomainEvent, MembershipEvent};
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::{ApiError, ErrorCode, Result};
use uuid::Uuid;

use super::{conversation_id, view, views};
use crate::db::conversations::{self as store, ConversationDoc, Opened};
use crate::db::reads;
use crate::domain;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations", get(list_conversations))
        .route("/conversations/direct", post(open_direct))
        .route("/conversations/groups", post(create_group))
        .route(
            "/conversations/{conversation_id}",
            get(get_conversation)
                .patch(update_group)
                .delete(delete_conversation),
        )
        .route(
            "/conversations/{conversation_id}/members",
            post(add_members),
        )
        .route(
            "/conversations/{conversation_id}/members/{user_uuid}",
            delete(remove_member),
        )
        .route(
            "/conversations/{conversation_id}/admin",
            put(transfer_admin),
        )
}

/// A group `me` belongs to and administers.
async fn group_as_admin(state: &AppState, id: ObjectId, me: Uuid) -> Result<ConversationDoc> {
    let group = store::find_for_member(&state.store, id, me).await?;
    if !group.is_group {
        return Err(ApiError::BadRequest(
            ErrorCode::NotAGroup,
            "Direct conversations have no admin or members to manage.".to_owned(),
        ));
    }
    if group.admin.as_deref() != Some(me.hyphenated().to_string().as_str()) {
        return Err(ApiError::Forbidden(ErrorCode::NotGroupAdmin));
    }
    Ok(group)
}

fn me_filter(me: Uuid) -> Document {
    doc! { "admin": me.hyphenated().to_string() }
}

/// Refuses unless every one of `users` is a friend of `me`.
async fn require_friends(state: &AppState, me: Uuid, users: &[Uuid]) -> Result<()> {
    let friends = state.friends.friends_among(me, users.to_vec()).await?;
    if users.iter().all(|user| friends.contains(user)) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(ErrorCode::NotFriends))
    }
}

/// # `GET /conversations`
/// The caller's conversations, most recently active first, with the last message, unread
/// count and members' profiles. A user with none gets an empty list.
#[utoipa::path(get, path = "/conversations", tag = "conversations", params(ConversationPageQuery),
    security(("bearer" = []), ("cookie" = [])), responses((status = 200, body = ConversationPage)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<ConversationPageQuery>,
) -> Result<AppJson<ConversationPage>> {
    Ok(AppJson(
        conversation_page(&state, auth.user_id, query.limit, query.cursor.as_deref()).await?,
    ))
}

/// A page of `me`'s conversations (also the `ready` frame's list).
pub async fn conversation_page(
    state: &AppState,
    me: Uuid,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<ConversationPage> {
    let limit = domain::page_limit(limit, 20, 50)?;
    let cursor = cursor.map(domain::parse_list_cursor).transpose()?;
    let mut page = store::list_for_member(&state.store, me, cursor, limit + 1).await?;
    let more = page.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        page.last()
            .map(|last| domain::list_cursor(last.updated_at.timestamp_millis(), &last.id))
    } else {
        None
    };
    Ok(ConversationPage {
        conversations: views(state, me, page).await?,
        next_cursor,
    })
}

/// # `POST /conversations/direct`
/// The direct conversation with a friend: created the first time (201), the same one after
/// that (200), whoever opens it and however many times at once.
#[utoipa::path(post, path = "/conversations/direct", tag = "conversations", request_body = OpenDirect,
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 201, body = ConversationView, description = "Created"),
    (status = 200, body = ConversationView, description = "It already existed"),
    (status = 400, body = chat_models::error::ErrorBody, description = "`cannot_target_self`"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_friends`")))]
pub async fn open_direct(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<OpenDirect>,
) -> Result<(StatusCode, AppJson<ConversationView>)> {
    let (me, other) = (auth.user_id, request.user_uuid);
    if me == other {
        return Err(ApiError::BadRequest(
            ErrorCode::CannotTargetSelf,
            "You cannot open a conversation with yourself.".to_owned(),
        ));
    }
    require_friends(&state, me, &[other]).await?;
    let (conversation, opened) =
        store::open_direct(&state.store, me, other, domain::direct_key(me, other)).await?;
    let audience = match opened {
        Opened::Created => Some(conversation.member_uuids()),
        Opened::Reopened => Some(vec![me]),
        Opened::Existing => None,
    };
    if let Some(audience) = audience {
        state
            .publish(DomainEvent::ConversationCreated(ConversationEvent {
                audience,
                conversation: conversation.info(true),
            }))
            .await;
    }
    let status = if opened == Opened::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, AppJson(view(&state, me, conversation).await?)))
}

/// # `POST /conversations/groups`
/// A group with the caller as admin and some of their friends as members.
#[utoipa::path(post, path = "/conversations/groups", tag = "conversations", request_body = CreateGroup,
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 201, body = ConversationView),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_friends`: a member is not your friend"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`")))]
pub async fn create_group(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<CreateGroup>,
) -> Result<(StatusCode, AppJson<ConversationView>)> {
    let me = auth.user_id;
    let name = domain::group_name(&request.name)?;
    let description = domain::description(request.description.as_deref())?;
    let mut seen = HashSet::from([me]);
    let members: Vec<Uuid> = request
        .member_uuids
        .into_iter()
        .filter(|member| seen.insert(*member))
        .collect();
    let max = state.settings.max_group_members;
    if members.len() + 1 > max {
        return Err(ApiError::field(
            "member_uuids",
            "too_many",
            format!("A group has at most {max} members, you included."),
        ));
    }
    require_friends(&state, me, &members).await?;
    let now = BsonDateTime::now();
    let participants = std::iter::once(me)
        .chain(members)
        .map(|user| user.hyphenated().to_string())
        .collect();
    let group = ConversationDoc {
        id: ObjectId::new(),
        participants,
        is_group: true,
        admin: Some(me.hyphenated().to_string()),
        group_name: Some(name),
        group_picture: None,
        description,
        last_message: None,
        last_seq: 0,
        direct_key: None,
        hidden_for: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    store::insert_group(&state.store, &group).await?;
    state
        .publish(DomainEvent::ConversationCreated(ConversationEvent {
            audience: group.member_uuids(),
            conversation: group.info(true),
        }))
        .await;
    Ok((StatusCode::CREATED, AppJson(view(&state, me, group).await?)))
}

/// # `GET /conversations/{conversation_id}`
/// One conversation of the caller's (404 for anyone else).
#[utoipa::path(get, path = "/conversations/{conversation_id}", tag = "conversations",
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ConversationView),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`")))]
pub async fn get_conversation(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<ConversationView>> {
    let conversation =
        store::find_for_member(&state.store, conversation_id(&id)?, auth.user_id).await?;
    Ok(AppJson(view(&state, auth.user_id, conversation).await?))
}

/// # `PATCH /conversations/{conversation_id}`
/// Renames a group or changes its description or picture (admin only; `null` clears the
/// description or picture).
#[utoipa::path(patch, path = "/conversations/{conversation_id}", tag = "groups", request_body = UpdateGroup,
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ConversationView),
    (status = 400, body = chat_models::error::ErrorBody, description = "`not_a_group`"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`")))]
pub async fn update_group(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(request): AppJson<UpdateGroup>,
) -> Result<AppJson<ConversationView>> {
    let me = auth.user_id;
    let group = group_as_admin(&state, conversation_id(&id)?, me).await?;
    let (mut set, mut unset) = (Document::new(), Document::new());
    if let Some(name) = &request.name {
        set.insert("groupName", domain::group_name(name)?);
    }
    for (field, value) in [
        (
            "description",
            request
                .description
                .as_ref()
                .map(|value| domain::description(value.as_deref())),
        ),
        (
            "groupPicture",
            request
                .picture
                .as_ref()
                .map(|value| domain::picture(value.as_deref())),
        ),
    ] {
        match value.transpose()? {
            Some(Some(value)) => {
                set.insert(field, value);
            }
            Some(None) => {
                unset.insert(field, "");
            }
            None => {}
        }
    }
    if set.is_empty() && unset.is_empty() {
        return Ok(AppJson(view(&state, me, group).await?));
    }
    set.insert("updatedAt", BsonDateTime::now());
    let mut update = doc! { "$set": set };
    if !unset.is_empty() {
        update.insert("$unset", unset);
    }
    let group = store::update_group_if(&state.store, group.id, me_filter(me), update)
        .await?
        .ok_or(ApiError::Forbidden(ErrorCode::NotGroupAdmin))?;
    announce_update(&state, &group).await;
    Ok(AppJson(view(&state, me, group).await?))
}

async fn announce_update(state: &AppState, group: &ConversationDoc) {
    state
        .publish(DomainEvent::ConversationUpdated(ConversationEvent {
            audience: group.member_uuids(),
            conversation: group.info(true),
        }))
        .await;
}

/// # `POST /conversations/{conversation_id}/members`
/// Adds friends of the admin to a group (admin only), within the member cap.
#[utoipa::path(post, path = "/conversations/{conversation_id}/members", tag = "groups", request_body = AddMembers,
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ConversationView),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`, `not_friends`"),
    (status = 409, body = chat_models::error::ErrorBody, description = "`group_full`")))]
pub async fn add_members(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(request): AppJson<AddMembers>,
) -> Result<AppJson<ConversationView>> {
    let me = auth.user_id;
    let group = group_as_admin(&state, conversation_id(&id)?, me).await?;
    let mut seen: HashSet<Uuid> = group.member_uuids().into_iter().collect();
    let new: Vec<Uuid> = request
        .user_uuids
        .into_iter()
        .filter(|user| seen.insert(*user))
        .collect();
    if new.is_empty() {
        return Ok(AppJson(view(&state, me, group).await?));
    }
    let max = state.settings.max_group_members;
    if group.participants.len() + new.len() > max {
        return Err(ApiError::Conflict(ErrorCode::GroupFull));
    }
    require_friends(&state, me, &new).await?;
    // Atomic with the checks: still admin, and still room (no member at index max - new).
    let mut condition = me_filter(me);
    condition.insert(
        format!("participants.{}", max - new.len()),
        doc! { "$exists": false },
    );
    let added: Vec<String> = new
        .iter()
        .map(|user| user.hyphenated().to_string())
        .collect();
    let update = doc! {
        "$addToSet": { "participants": { "$each": added } },
        "$set": { "updatedAt": BsonDateTime::now() },
    };
    let Some(group) = store::update_group_if(&state.store, group.id, condition, update).await?
    else {
        // Someone changed the group meanwhile: report what stands in the way now.
        let group = group_as_admin(&state, group.id, me).await?;
        return Err(if group.participants.len() + new.len() > max {
            ApiError::Conflict(ErrorCode::GroupFull)
        } else {
            ApiError::Forbidden(ErrorCode::NotGroupAdmin)
        });
    };
    reads::forget_many(&state.store, group.id, &new).await?;
    state
        .publish(DomainEvent::MembersAdded(MembershipEvent {
            audience: group.member_uuids(),
            conversation: group.info(true),
            user_uuids: new,
            by: me,
        }))
        .await;
    Ok(AppJson(view(&state, me, group).await?))
}

/// # `DELETE /conversations/{conversation_id}/members/{user_uuid}`
/// Your own uuid: leave the group (a leaving admin hands admin to the longest-standing member;
/// the last member leaving deletes the group). Another member's: remove them (admin only).
#[utoipa::path(delete, path = "/conversations/{conversation_id}/members/{user_uuid}", tag = "groups",
    params(("conversation_id" = String, Path), ("user_uuid" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204),
    (status = 400, body = chat_models::error::ErrorBody, description = "`not_a_group`"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`, `member_not_found`")))]
pub async fn remove_member(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath((id, user)): AppPath<(String, Uuid)>,
) -> Result<StatusCode> {
    let (id, me) = (conversation_id(&id)?, auth.user_id);
    if user == me {
        let group = store::find_for_member(&state.store, id, me).await?;
        if !group.is_group {
            return Err(ApiError::BadRequest(
                ErrorCode::NotAGroup,
                "Leave a direct conversation by deleting it.".to_owned(),
            ));
        }
        leave_group(&state, id, me).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    let group = group_as_admin(&state, id, me).await?;
    if !group.has_member(user) {
        return Err(ApiError::NotFound(ErrorCode::MemberNotFound));
    }
    let target = user.hyphenated().to_string();
    let mut condition = me_filter(me);
    condition.insert("participants", &target);
    let update = doc! {
        "$pull": { "participants": &target },
        "$set": { "updatedAt": BsonDateTime::now() },
    };
    let group = store::update_group_if(&state.store, id, condition, update)
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::MemberNotFound))?;
    reads::forget(&state.store, id, user).await?;
    let mut audience = group.member_uuids();
    audience.push(user);
    state
        .publish(DomainEvent::MemberRemoved(MembershipEvent {
            audience,
            conversation: group.info(true),
            user_uuids: vec![user],
            by: me,
        }))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `user` leaves a group: the change applies only to the membership it was computed from
/// (compare-and-set on members and admin), retried if the group changed meanwhile. Nothing
/// happens if they are not (or no longer) a member.
pub async fn leave_group(state: &AppState, id: ObjectId, user: Uuid) -> Result<()> {
    let me = user.hyphenated().to_string();
    for _ in 0..10 {
        let Some(group) = state
            .store
            .conversations
            .find_one(store::member_filter(id, user))
            .await?
        else {
            return Ok(());
        };
        let (remaining, admin) =
            domain::after_leaving(&group.participants, group.admin.as_deref(), &me);
        if remaining.is_empty() {
            let only_me = doc! { "participants": [&me] };
            if store::delete_if(&state.store, id, only_me).await? {
                state
                    .publish(DomainEvent::ConversationDeleted {
                        audience: vec![user],
                        conversation_id: id.to_hex(),
                    })
                    .await;
                return Ok(());
            }
            continue;
        }
        let unchanged = doc! {
            "participants": &group.participants,
            "admin": group.admin.as_deref(),
        };
        let mut set = doc! { "participants": &remaining, "updatedAt": BsonDateTime::now() };
        if let Some(admin) = &admin {
            set.insert("admin", admin);
        }
        let update = doc! { "$set": set };
        if let Some(group) = store::update_group_if(&state.store, id, unchanged, update).await? {
            reads::forget(&state.store, id, user).await?;
            let mut audience = group.member_uuids();
            audience.push(user);
            state
                .publish(DomainEvent::MemberRemoved(MembershipEvent {
                    audience,
                    conversation: group.info(true),
                    user_uuids: vec![user],
                    by: user,
                }))
                .await;
            return Ok(());
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!(
        "group {id} kept changing while a member left"
    )))
}

/// # `PUT /conversations/{conversation_id}/admin`
/// Makes another member the group's admin (admin only).
#[utoipa::path(put, path = "/conversations/{conversation_id}/admin", tag = "groups", request_body = TransferAdmin,
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ConversationView),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`member_not_found`")))]
pub async fn transfer_admin(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(request): AppJson<TransferAdmin>,
) -> Result<AppJson<ConversationView>> {
    let me = auth.user_id;
    let group = group_as_admin(&state, conversation_id(&id)?, me).await?;
    if !group.has_member(request.user_uuid) {
        return Err(ApiError::NotFound(ErrorCode::MemberNotFound));
    }
    if request.user_uuid == me {
        return Ok(AppJson(view(&state, me, group).await?));
    }
    let target = request.user_uuid.hyphenated().to_string();
    let mut condition = me_filter(me);
    condition.insert("participants", &target);
    let update = doc! { "$set": { "admin": &target, "updatedAt": BsonDateTime::now() } };
    let group = store::update_group_if(&state.store, group.id, condition, update)
        .await?
        .ok_or(ApiError::Forbidden(ErrorCode::NotGroupAdmin))?;
    announce_update(&state, &group).await;
    Ok(AppJson(view(&state, me, group).await?))
}

/// # `DELETE /conversations/{conversation_id}`
/// A direct conversation: hidden from the caller's list (history kept; the other member keeps
/// it; the next message brings it back). A group: deleted with its messages, admin only.
#[utoipa::path(delete, path = "/conversations/{conversation_id}", tag = "conversations",
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`")))]
pub async fn delete_conversation(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode> {
    let (id, me) = (conversation_id(&id)?, auth.user_id);
    let conversation = store::find_for_member(&state.store, id, me).await?;
    let audience = if conversation.is_group {
        group_as_admin(&state, id, me).await?;
        if !store::delete_if(&state.store, id, me_filter(me)).await? {
            return Err(ApiError::Forbidden(ErrorCode::NotGroupAdmin));
        }
        conversation.member_uuids()
    } else {
        store::hide_for(&state.store, id, me).await?;
        vec![me]
    };
    state
        .publish(DomainEvent::ConversationDeleted {
            audience,
            conversation_id: id.to_hex(),
        })
        .await;
    Ok(StatusCode::NO_CONTENT)
}
