//! Memberships remembered: a send's first question, "does this person belong to this
//! conversation, and is it a group or a direct conversation with whom?", answered from memory
//! after the first time, so a send costs the store its transaction alone.
//!
//! With a membership, only what never changes is remembered: whether the conversation is a
//! group and, for a direct one, its other member. The membership itself can end (a member
//! leaves or is removed, a group or an account is deleted), so the send's transaction checks it
//! again on the conversation's document, and also resolves mentions and `@everyone` against
//! the members and admin as they are then: a remembered membership that ended makes that send
//! refused there (the same `404`) instead of before it. Removals and deletions this instance
//! sees on the event stream forget at once; anything else is forgotten after
//! `DIRECTORY_CACHE_TTL_SECS`. Only memberships found are remembered, never their absence: a
//! member just added is asked for.

use std::time::Duration;

use bson::oid::ObjectId;
use chat_models::events::DomainEvent;
use chat_models::Result;
use uuid::Uuid;

use crate::db::conversations::{self as store, ConversationDoc};
use crate::db::Store;

/// What does not change about a conversation a member belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    /// The conversation.
    pub conversation: ObjectId,
    /// A group (else a direct conversation).
    pub is_group: bool,
    /// In a direct conversation, the other member.
    pub other: Option<Uuid>,
}

impl Membership {
    /// What `member` may remember of `conversation`.
    pub fn of(conversation: &ConversationDoc, member: Uuid) -> Self {
        Self {
            conversation: conversation.id,
            is_group: conversation.is_group,
            other: (!conversation.is_group)
                .then(|| conversation.other_member(member))
                .flatten(),
        }
    }
}

/// Memberships found, per instance.
#[derive(Clone, Debug)]
pub struct Memberships {
    found: Option<moka::sync::Cache<(ObjectId, Uuid), Membership>>,
}

impl Memberships {
    /// Up to `capacity` memberships, each for `ttl` (none for a zero `ttl`).
    pub fn new(ttl: Duration, capacity: u64) -> Self {
        Self {
            found: (!ttl.is_zero()).then(|| {
                moka::sync::Cache::builder()
                    .time_to_live(ttl)
                    .max_capacity(capacity)
                    .support_invalidation_closures()
                    .build()
            }),
        }
    }

    /// `user`'s membership of `conversation`: remembered, or looked up (`404` for anyone who
    /// does not belong to it).
    pub async fn of(
        &self,
        store: &Store,
        conversation: ObjectId,
        user: Uuid,
    ) -> Result<Membership> {
        if let Some(found) = self
            .found
            .as_ref()
            .and_then(|found| found.get(&(conversation, user)))
        {
            return Ok(found);
        }
        let doc = store::find_for_member(store, conversation, user).await?;
        let membership = Membership::of(&doc, user);
        if let Some(found) = &self.found {
            found.insert((conversation, user), membership);
        }
        Ok(membership)
    }

    /// Forgets the memberships an event says ended.
    pub fn forget_ended(&self, event: &DomainEvent) {
        let Some(found) = &self.found else {
            return;
        };
        match event {
            DomainEvent::MemberRemoved(event) => {
                if let Ok(conversation) = ObjectId::parse_str(&event.conversation.id) {
                    for user in &event.user_uuids {
                        found.invalidate(&(conversation, *user));
                    }
                }
            }
            DomainEvent::ConversationDeleted {
                audience,
                conversation_id,
            } => {
                if let Ok(conversation) = ObjectId::parse_str(conversation_id) {
                    for user in audience {
                        found.invalidate(&(conversation, *user));
                    }
                }
            }
            DomainEvent::UserDeleted { user_uuid } => {
                let user = *user_uuid;
                // Rare: the whole memory is walked once.
                let _ = found.invalidate_entries_if(move |(_, member), _| *member == user);
            }
            _ => {}
        }
    }
}
