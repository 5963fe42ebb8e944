//! Group writes on `conversations`. Each one is conditional on what the caller checked (still
//! the admin, still a member, still room), so a check and its change are one atomic step;
//! `None` (or `false`) means the condition no longer held.

use bson::oid::ObjectId;
use bson::{doc, Bson, DateTime as BsonDateTime, Document};
use chat_models::Result;
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::conversations::{delete_where, ConversationDoc, Marks};
use super::{uuids, Store};

/// A new group of `members` (its admin first) with these details.
pub fn new(members: Vec<Uuid>, name: String, description: Option<String>) -> ConversationDoc {
    let now = BsonDateTime::now();
    ConversationDoc {
        id: ObjectId::new(),
        admin: members.first().copied(),
        participants: members,
        is_group: true,
        group_name: Some(name),
        group_picture: None,
        description,
        last_message: None,
        last_seq: 0,
        version: 0,
        pin_count: 0,
        direct_key: None,
        hidden_for: Vec::new(),
        created_at: now,
        updated_at: now,
        marks: Some(Marks::new()),
    }
}

/// Stores a new group.
pub async fn insert(store: &Store, group: &ConversationDoc) -> Result<()> {
    store.conversations.insert_one(group).await?;
    Ok(())
}

/// Changes to a group's details: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new description, or none.
    pub description: Option<Option<String>>,
    /// A new picture URL, or none.
    pub picture: Option<Option<String>>,
}

impl DetailChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none() && self.picture.is_none()
    }
}

/// Renames, describes or pictures a group, if `admin` still administers it.
pub async fn update_details(
    store: &Store,
    id: ObjectId,
    admin: Uuid,
    changes: DetailChanges,
) -> Result<Option<ConversationDoc>> {
    let mut set = doc! { "updatedAt": BsonDateTime::now() };
    let mut unset = Document::new();
    if let Some(name) = changes.name {
        set.insert("groupName", name);
    }
    for (field, change) in [
        ("description", changes.description),
        ("groupPicture", changes.picture),
    ] {
        match change {
            Some(Some(value)) => {
                set.insert(field, value);
            }
            Some(None) => {
                unset.insert(field, "");
            }
            None => {}
        }
    }
    let mut update = doc! { "$set": set };
    if !unset.is_empty() {
        update.insert("$unset", unset);
    }
    update_if(store, id, admin_is(admin), update).await
}

/// Adds `new` members, if `admin` still administers the group and it stays within `max`.
pub async fn add_members_if_room(
    store: &Store,
    id: ObjectId,
    admin: Uuid,
    new: &[Uuid],
    max: usize,
) -> Result<Option<ConversationDoc>> {
    let Some(last_free) = max.checked_sub(new.len()) else {
        return Ok(None);
    };
    let mut condition = admin_is(admin);
    // Room for all of them: no member yet at the index the last one would need.
    condition.insert(
        format!("participants.{last_free}"),
        doc! { "$exists": false },
    );
    let update = doc! {
        "$addToSet": { "participants": { "$each": uuids::bson_list(new) } },
        "$set": { "updatedAt": BsonDateTime::now() },
    };
    let update = forgetting_sent_reads(update, new);
    update_if(store, id, condition, update).await
}

/// Removes `member`, if `admin` still administers the group and they are still in it.
pub async fn remove_member(
    store: &Store,
    id: ObjectId,
    admin: Uuid,
    member: Uuid,
) -> Result<Option<ConversationDoc>> {
    let update = doc! {
        "$pull": { "participants": uuids::bson(member) },
        "$set": { "updatedAt": BsonDateTime::now() },
    };
    let update = forgetting_sent_reads(update, &[member]);
    update_if(store, id, admin_and_member(admin, member), update).await
}

/// Makes `member` the admin, if `admin` still is and `member` is still in the group.
pub async fn transfer_admin(
    store: &Store,
    id: ObjectId,
    admin: Uuid,
    member: Uuid,
) -> Result<Option<ConversationDoc>> {
    let mut condition = admin_is(admin);
    condition.insert("participants", uuids::bson(member));
    let update =
        doc! { "$set": { "admin": uuids::bson(member), "updatedAt": BsonDateTime::now() } };
    update_if(store, id, condition, update).await
}

/// Replaces the members (and admin) of `group` as it was read, if nobody changed them since
/// (compare-and-set, for a member leaving).
pub async fn replace_members(
    store: &Store,
    group: &ConversationDoc,
    members: &[Uuid],
    admin: Uuid,
) -> Result<Option<ConversationDoc>> {
    let unchanged = doc! {
        "participants": uuids::bson_list(&group.participants),
        "admin": group.admin.map(uuids::bson),
    };
    let gone: Vec<Uuid> = group
        .participants
        .iter()
        .copied()
        .filter(|member| !members.contains(member))
        .collect();
    let update = doc! { "$set": {
        "participants": uuids::bson_list(members),
        "admin": uuids::bson(admin),
        "updatedAt": BsonDateTime::now(),
    } };
    let update = forgetting_sent_reads(update, &gone);
    update_if(store, group.id, unchanged, update).await
}

/// `update`, also forgetting the read positions that `members`' sends moved
/// ([`Marks::last`], and [`Marks::read`] as groups kept it before) as they join or leave:
/// someone who comes back starts from nothing read, as their read state is forgotten too. Their
/// newest message moves to [`Marks::left`], so their messages from before stay theirs.
fn forgetting_sent_reads(mut update: Document, members: &[Uuid]) -> Document {
    if !members.is_empty() {
        let field = |map: &str, member: &Uuid| format!("marks.{map}.{}", member.hyphenated());
        let moved: Document = members
            .iter()
            .map(|member| (field("last", member), Bson::from(field("left", member))))
            .collect();
        let unset: Document = members
            .iter()
            .map(|member| (field("read", member), Bson::from("")))
            .collect();
        update.insert("$rename", moved);
        update.insert("$unset", unset);
    }
    update
}

/// Deletes a group with its messages, if `admin` still administers it.
pub async fn delete_as_admin(store: &Store, id: ObjectId, admin: Uuid) -> Result<bool> {
    delete_where(store, id, admin_is(admin)).await
}

/// Deletes a group with its messages, if `member` is its only member.
pub async fn delete_if_sole_member(store: &Store, id: ObjectId, member: Uuid) -> Result<bool> {
    delete_where(store, id, doc! { "participants": [uuids::bson(member)] }).await
}

fn admin_is(admin: Uuid) -> Document {
    doc! { "admin": uuids::bson(admin) }
}

fn admin_and_member(admin: Uuid, member: Uuid) -> Document {
    doc! { "admin": uuids::bson(admin), "participants": uuids::bson(member) }
}

/// Applies `update` to the group if `condition` still holds; the group after the change.
async fn update_if(
    store: &Store,
    id: ObjectId,
    condition: Document,
    update: Document,
) -> Result<Option<ConversationDoc>> {
    let mut filter = doc! { "_id": id, "isGroup": true };
    filter.extend(condition);
    Ok(store
        .conversations
        .find_one_and_update(filter, update)
        .return_document(ReturnDocument::After)
        .await?)
}
