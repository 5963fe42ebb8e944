//! Changes to stored messages, each in a transaction that bumps the conversation's `version`
//! and stamps the message with it: edits, deletions, reactions, pins, link previews. Changes
//! of one conversation conflict on its document, so their versions are in commit order and a
//! client catching up with `version > since` misses none. A change that would change nothing
//! (a repeated reaction, an unpin of what is not pinned) writes nothing and bumps nothing.

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime, Document};
use chat_models::{ApiError, ErrorCode, Result};
use futures::TryStreamExt as _;
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;
use uuid::Uuid;

use super::messages::{LinkPreviewDoc, MessageDoc, ReactionDoc};
use super::{in_transaction, uuids, Store, TxError};

/// Most different emoji on one message.
pub const MAX_REACTIONS: usize = 20;
/// Most pinned messages in one conversation.
pub const MAX_PINS: i64 = 50;

/// A change to one message.
#[derive(Debug, Clone)]
pub enum Change {
    /// The author's new text.
    Edit {
        /// Who edits (must be the author).
        author: Uuid,
        /// The validated text.
        text: String,
    },
    /// The author deletes it (the text goes, the place stays).
    Delete {
        /// Who deletes (must be the author).
        author: Uuid,
    },
    /// A member reacts with an emoji (`add`) or takes it back.
    React {
        /// The member.
        user: Uuid,
        /// The validated emoji.
        emoji: String,
        /// Given, or taken back.
        add: bool,
    },
    /// Pinned (`pin`) or unpinned by a member allowed to.
    Pin {
        /// Who.
        by: Uuid,
        /// Pin, or unpin.
        pin: bool,
    },
    /// The preview of its first link, fetched after sending.
    Preview(LinkPreviewDoc),
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Changed: the message now, stamped with the new version.
    Changed(MessageDoc),
    /// Nothing to change (already so): the message as it is.
    Unchanged(MessageDoc),
}

/// Applies `change` to a message of a conversation `member` belongs to (`None`: the service
/// itself, for previews), in one transaction with the version bump.
pub async fn apply(
    store: &Store,
    conversation: ObjectId,
    member: Option<Uuid>,
    message: ObjectId,
    change: Change,
) -> Result<Applied> {
    let context = (conversation, member, message, change);
    in_transaction(
        store,
        &context,
        |store, session, (conversation, member, message, change)| {
            Box::pin(apply_once(
                store,
                session,
                *conversation,
                *member,
                *message,
                change,
            ))
        },
    )
    .await
}

async fn apply_once(
    store: &Store,
    session: &mut ClientSession,
    conversation: ObjectId,
    member: Option<Uuid>,
    id: ObjectId,
    change: &Change,
) -> Result<Applied, TxError> {
    let message = store
        .messages
        .find_one(doc! { "_id": id, "conversationId": conversation })
        .session(&mut *session)
        .await?
        .ok_or(TxError::Api(ApiError::NotFound(ErrorCode::MessageNotFound)))?;
    let Some(set) = plan(&message, change)? else {
        return Ok(Applied::Unchanged(message));
    };
    let mut filter = doc! { "_id": conversation };
    if let Some(member) = member {
        filter.insert("participants", uuids::bson(member));
    }
    let mut bump = doc! { "version": 1_i64 };
    if let Change::Pin { pin, .. } = change {
        bump.insert("pinCount", if *pin { 1_i64 } else { -1_i64 });
        if *pin {
            filter.insert("pinCount", doc! { "$not": { "$gte": MAX_PINS } });
        }
    }
    let mut update = doc! { "$inc": bump };
    if let Change::Delete { .. } = change {
        // Unread counts stop at it (see `Marks`).
        update.insert("$max", doc! { "marks.deleted": message.seq });
    }
    let Some(bumped) = store
        .conversations
        .find_one_and_update(filter, update)
        .return_document(ReturnDocument::After)
        .session(&mut *session)
        .await?
    else {
        return Err(TxError::Api(match change {
            Change::Pin { pin: true, .. } => ApiError::Conflict(ErrorCode::TooManyPins),
            _ => ApiError::NotFound(ErrorCode::ConversationNotFound),
        }));
    };
    let mut set = set;
    set.insert("version", bumped.version);
    let mut update = doc! { "$set": set };
    if let Change::Pin { pin: false, .. } = change {
        update.insert("$unset", doc! { "pinnedAt": "", "pinnedBy": "" });
    }
    if let Change::Delete { .. } = change {
        // Its files go with its text (purged after the commit).
        super::files::release_in(store, session, doc! { "messageId": id }).await?;
    }
    store
        .messages
        .find_one_and_update(doc! { "_id": id }, update)
        .return_document(ReturnDocument::After)
        .session(&mut *session)
        .await?
        .map(Applied::Changed)
        .ok_or(TxError::Api(ApiError::NotFound(ErrorCode::MessageNotFound)))
}

/// What a change sets on a message (`None`: nothing to do), or why it may not happen.
fn plan(message: &MessageDoc, change: &Change) -> Result<Option<Document>, TxError> {
    let refuse = |error: ApiError| Err(TxError::Api(error));
    let deleted = message.deleted_at.is_some();
    match change {
        Change::Edit { author, .. } | Change::Delete { author }
            if message.sender_uuid != *author =>
        {
            refuse(ApiError::Forbidden(ErrorCode::NotMessageAuthor))
        }
        Change::Edit { .. } | Change::Delete { .. } if deleted => {
            refuse(ApiError::Conflict(ErrorCode::MessageDeleted))
        }
        Change::Edit { text, .. } => {
            Ok(Some(doc! { "text": text, "editedAt": BsonDateTime::now() }))
        }
        Change::Delete { .. } => Ok(Some(
            doc! { "text": "", "attachments": [], "deletedAt": BsonDateTime::now() },
        )),
        Change::React { add: true, .. } | Change::Pin { pin: true, .. } if deleted => {
            refuse(ApiError::Conflict(ErrorCode::MessageDeleted))
        }
        Change::React { user, emoji, add } => {
            match reacted(&message.reactions, *user, emoji, *add) {
                Reacted::Same => Ok(None),
                Reacted::Full => refuse(ApiError::Conflict(ErrorCode::TooManyReactions)),
                Reacted::Now(reactions) => {
                    let reactions = bson::to_bson(&reactions).map_err(|error| {
                        TxError::Api(ApiError::Internal(anyhow::Error::new(error)))
                    })?;
                    Ok(Some(doc! { "reactions": reactions }))
                }
            }
        }
        Change::Pin { pin, by } => Ok(match (pin, message.pinned_at.is_some()) {
            (true, false) => {
                Some(doc! { "pinnedAt": BsonDateTime::now(), "pinnedBy": uuids::bson(*by) })
            }
            (false, true) => Some(Document::new()),
            _ => None,
        }),
        // A message deleted (or edited) since it was sent keeps no preview of its old text.
        Change::Preview(_) if deleted || message.edited_at.is_some() => Ok(None),
        Change::Preview(preview) => {
            let preview = bson::to_bson(preview)
                .map_err(|error| TxError::Api(ApiError::Internal(anyhow::Error::new(error))))?;
            Ok(Some(doc! { "linkPreview": preview }))
        }
    }
}

/// The reactions after `user` gives (`add`) or takes back `emoji`.
#[derive(Debug, PartialEq, Eq)]
enum Reacted {
    /// No change: given already, or not given.
    Same,
    /// A new emoji, but the message has all it may have.
    Full,
    /// The new reactions.
    Now(Vec<ReactionDoc>),
}

fn reacted(reactions: &[ReactionDoc], user: Uuid, emoji: &str, add: bool) -> Reacted {
    let mut reactions = reactions.to_vec();
    let index = reactions
        .iter()
        .position(|reaction| reaction.emoji == emoji);
    match (index, add) {
        (Some(index), true) if !reactions[index].users.contains(&user) => {
            reactions[index].users.push(user);
        }
        (Some(index), false) if reactions[index].users.contains(&user) => {
            reactions[index].users.retain(|member| *member != user);
            if reactions[index].users.is_empty() {
                reactions.remove(index);
            }
        }
        (None, true) if reactions.len() >= MAX_REACTIONS => return Reacted::Full,
        (None, true) => reactions.push(ReactionDoc {
            emoji: emoji.to_owned(),
            users: vec![user],
        }),
        _ => return Reacted::Same,
    }
    Reacted::Now(reactions)
}

/// The filter and sort of the changes of a conversation after version `since`; backed by the
/// `{conversationId, version}` index.
pub fn changes_query(conversation: ObjectId, since: i64) -> (Document, Document) {
    (
        doc! { "conversationId": conversation, "version": { "$gt": since } },
        doc! { "version": 1 },
    )
}

/// Up to `limit` messages changed after `since`, oldest change first.
pub async fn changed_since(
    store: &Store,
    conversation: ObjectId,
    since: i64,
    limit: i64,
) -> Result<Vec<MessageDoc>> {
    let (filter, sort) = changes_query(conversation, since);
    Ok(store
        .messages
        .find(filter)
        .sort(sort)
        .limit(limit)
        .await?
        .try_collect()
        .await?)
}

/// The pinned messages of a conversation, most recently pinned first (at most [`MAX_PINS`]).
pub async fn pinned(store: &Store, conversation: ObjectId) -> Result<Vec<MessageDoc>> {
    Ok(store
        .messages
        .find(doc! { "conversationId": conversation, "pinnedAt": { "$exists": true } })
        .sort(doc! { "pinnedAt": -1 })
        .limit(MAX_PINS)
        .await?
        .try_collect()
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_are_idempotent_and_bounded() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let Reacted::Now(one) = reacted(&[], ann, "👍", true) else {
            panic!("a first reaction changes the message");
        };
        assert_eq!(reacted(&one, ann, "👍", true), Reacted::Same);
        let Reacted::Now(two) = reacted(&one, bob, "👍", true) else {
            panic!("a second user adds to the same emoji");
        };
        assert_eq!(
            two,
            [ReactionDoc {
                emoji: "👍".to_owned(),
                users: vec![ann, bob]
            }]
        );
        assert_eq!(reacted(&two, ann, "🎉", false), Reacted::Same);
        let Reacted::Now(back) = reacted(&two, bob, "👍", false) else {
            panic!("taking back changes it");
        };
        assert_eq!(back, one);
        assert_eq!(reacted(&one, ann, "👍", false), Reacted::Now(Vec::new()));

        let full: Vec<ReactionDoc> = (0..MAX_REACTIONS)
            .map(|n| ReactionDoc {
                emoji: format!("e{n}"),
                users: vec![bob],
            })
            .collect();
        assert_eq!(reacted(&full, ann, "new", true), Reacted::Full);
        // An emoji already there still takes more users.
        assert!(matches!(reacted(&full, ann, "e3", true), Reacted::Now(_)));
    }
}
