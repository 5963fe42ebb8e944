//! Groups, as use cases: create one of friends, change its details, add and remove members,
//! leave, hand admin over, delete. Every change is conditional in the store on what was
//! checked here (still admin, still a member, still room), so a race cannot slip between.

use std::collections::HashSet;

use bson::oid::ObjectId;
use chat_models::api::message::{
    AddMembers, ConversationView, CreateGroup, TransferAdmin, UpdateGroup,
};
use chat_models::events::{ConversationEvent, DomainEvent, MembershipEvent};
use chat_models::{ApiError, ErrorCode, Result};
use uuid::Uuid;

use crate::conversations::{announce_deleted, require_friends};
use crate::db::conversations::{self as conversation_store, ConversationDoc};
use crate::db::groups::{self as store, DetailChanges};
use crate::db::reads;
use crate::domain;
use crate::state::AppState;
use crate::views::view;

/// A group with `me` as admin and some of their friends as members.
pub async fn create(state: &AppState, me: Uuid, request: CreateGroup) -> Result<ConversationView> {
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
    require_friends(state, me, &members).await?;
    let group = store::new(
        std::iter::once(me).chain(members).collect(),
        name,
        description,
    );
    store::insert(&state.store, &group).await?;
    state
        .publish(DomainEvent::ConversationCreated(ConversationEvent {
            audience: group.member_uuids(),
            conversation: group.info(true),
        }))
        .await;
    view(state, me, group).await
}

/// Renames a group or changes its description or picture (admin only; `null` clears the
/// description or picture).
pub async fn update(
    state: &AppState,
    me: Uuid,
    id: &str,
    request: UpdateGroup,
) -> Result<ConversationView> {
    let group = as_admin(state, domain::conversation_id(id)?, me).await?;
    let changes = DetailChanges {
        name: request
            .name
            .as_deref()
            .map(domain::group_name)
            .transpose()?,
        description: request
            .description
            .map(|value| domain::description(value.as_deref()))
            .transpose()?,
        picture: request
            .picture
            .map(|value| domain::picture(value.as_deref()))
            .transpose()?,
    };
    if changes.is_empty() {
        return view(state, me, group).await;
    }
    let picture_changed = changes.picture.is_some();
    let group = store::update_details(&state.store, group.id, me, changes)
        .await?
        .ok_or(ApiError::Forbidden(ErrorCode::NotGroupAdmin))?;
    if picture_changed {
        crate::files::picture_changed(state, group.id, group.group_picture.as_deref()).await?;
    }
    announce_update(state, &group).await;
    view(state, me, group).await
}

/// Sets or clears a group's picture URL (admin only), releasing an uploaded picture it
/// replaces.
pub(crate) async fn change_picture(
    state: &AppState,
    me: Uuid,
    id: ObjectId,
    picture: Option<String>,
) -> Result<ConversationView> {
    let changes = DetailChanges {
        name: None,
        description: None,
        picture: Some(picture),
    };
    let group = store::update_details(&state.store, id, me, changes)
        .await?
        .ok_or(ApiError::Forbidden(ErrorCode::NotGroupAdmin))?;
    crate::files::picture_changed(state, group.id, group.group_picture.as_deref()).await?;
    announce_update(state, &group).await;
    view(state, me, group).await
}

/// Adds friends of the admin to a group (admin only), within the member cap.
pub async fn add_members(
    state: &AppState,
    me: Uuid,
    id: &str,
    request: AddMembers,
) -> Result<ConversationView> {
    let group = as_admin(state, domain::conversation_id(id)?, me).await?;
    let mut seen: HashSet<Uuid> = group.participants.iter().copied().collect();
    let new: Vec<Uuid> = request
        .user_uuids
        .into_iter()
        .filter(|user| seen.insert(*user))
        .collect();
    if new.is_empty() {
        return view(state, me, group).await;
    }
    let max = state.settings.max_group_members;
    if group.participants.len() + new.len() > max {
        return Err(ApiError::Conflict(ErrorCode::GroupFull));
    }
    require_friends(state, me, &new).await?;
    let Some(group) = store::add_members_if_room(&state.store, group.id, me, &new, max).await?
    else {
        // Someone changed the group meanwhile: report what stands in the way now.
        let group = as_admin(state, group.id, me).await?;
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
    view(state, me, group).await
}

/// `me` leaves the group (their own uuid), or the admin removes another member.
pub async fn remove_member(state: &AppState, me: Uuid, id: &str, user: Uuid) -> Result<()> {
    let id = domain::conversation_id(id)?;
    if user == me {
        let group = conversation_store::find_for_member(&state.store, id, me).await?;
        if !group.is_group {
            return Err(ApiError::BadRequest(
                ErrorCode::NotAGroup,
                "Leave a direct conversation by deleting it.".to_owned(),
            ));
        }
        return leave(state, id, me).await;
    }
    let group = as_admin(state, id, me).await?;
    if !group.has_member(user) {
        return Err(ApiError::NotFound(ErrorCode::MemberNotFound));
    }
    let group = store::remove_member(&state.store, id, me, user)
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::MemberNotFound))?;
    reads::forget(&state.store, id, user).await?;
    announce_removed(state, &group, user, me).await;
    Ok(())
}

/// `user` leaves a group: a leaving admin hands admin to the longest-standing member, and the
/// last member leaving deletes the group. The change applies only to the membership it was
/// computed from, retried if the group changed meanwhile; nothing happens if they are not (or
/// no longer) a member.
pub async fn leave(state: &AppState, id: ObjectId, user: Uuid) -> Result<()> {
    for _ in 0..10 {
        let Some(group) = conversation_store::find_if_member(&state.store, id, user).await? else {
            return Ok(());
        };
        let (remaining, admin) = domain::after_leaving(&group.participants, group.admin, user);
        let Some(admin) = admin else {
            if store::delete_if_sole_member(&state.store, id, user).await? {
                announce_deleted(state, vec![user], id).await;
                return Ok(());
            }
            continue;
        };
        if let Some(group) = store::replace_members(&state.store, &group, &remaining, admin).await?
        {
            reads::forget(&state.store, id, user).await?;
            announce_removed(state, &group, user, user).await;
            return Ok(());
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!(
        "group {id} kept changing while a member left"
    )))
}

/// Makes another member the group's admin (admin only).
pub async fn transfer_admin(
    state: &AppState,
    me: Uuid,
    id: &str,
    request: TransferAdmin,
) -> Result<ConversationView> {
    let group = as_admin(state, domain::conversation_id(id)?, me).await?;
    if !group.has_member(request.user_uuid) {
        return Err(ApiError::NotFound(ErrorCode::MemberNotFound));
    }
    if request.user_uuid == me {
        return view(state, me, group).await;
    }
    let group = store::transfer_admin(&state.store, group.id, me, request.user_uuid)
        .await?
        .ok_or(ApiError::Forbidden(ErrorCode::NotGroupAdmin))?;
    announce_update(state, &group).await;
    view(state, me, group).await
}

/// Deletes a group with its messages (admin only).
pub async fn delete(state: &AppState, me: Uuid, id: ObjectId) -> Result<()> {
    let group = as_admin(state, id, me).await?;
    if !store::delete_as_admin(&state.store, id, me).await? {
        return Err(ApiError::Forbidden(ErrorCode::NotGroupAdmin));
    }
    state.files.purge.notify_one();
    announce_deleted(state, group.member_uuids(), id).await;
    Ok(())
}

/// A group `me` belongs to and administers.
pub(crate) async fn as_admin(state: &AppState, id: ObjectId, me: Uuid) -> Result<ConversationDoc> {
    let group = conversation_store::find_for_member(&state.store, id, me).await?;
    if !group.is_group {
        return Err(ApiError::BadRequest(
            ErrorCode::NotAGroup,
            "Direct conversations have no admin or members to manage.".to_owned(),
        ));
    }
    if group.admin != Some(me) {
        return Err(ApiError::Forbidden(ErrorCode::NotGroupAdmin));
    }
    Ok(group)
}

async fn announce_update(state: &AppState, group: &ConversationDoc) {
    state
        .publish(DomainEvent::ConversationUpdated(ConversationEvent {
            audience: group.member_uuids(),
            conversation: group.info(true),
        }))
        .await;
}

/// Tells the group and the removed member that `removed` is out (`by` them, or the admin).
async fn announce_removed(state: &AppState, group: &ConversationDoc, removed: Uuid, by: Uuid) {
    let mut audience = group.member_uuids();
    audience.push(removed);
    state
        .publish(DomainEvent::MemberRemoved(MembershipEvent {
            audience,
            conversation: group.info(true),
            user_uuids: vec![removed],
            by,
        }))
        .await;
}
