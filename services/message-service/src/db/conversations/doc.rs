//! The stored conversation, and what every member sees of it.

use std::collections::HashMap;

use bson::oid::ObjectId;
use bson::DateTime as BsonDateTime;
use chat_models::api::message::{ConversationInfo, LastMessage};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::reads::ReadStateDoc;
use crate::db::uuids;

/// A stored conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDoc {
    /// Id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Members, in the order they joined.
    #[serde(with = "uuids::list")]
    pub participants: Vec<Uuid>,
    /// Group or direct.
    pub is_group: bool,
    /// The group's admin.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "uuids::option"
    )]
    pub admin: Option<Uuid>,
    /// The group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The group's picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_picture: Option<String>,
    /// The group's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The newest message, for previews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<LastMessageDoc>,
    /// `seq` of the newest message; incremented by every send, inside its transaction.
    #[serde(default)]
    pub last_seq: i64,
    /// Incremented by every change to its messages (sends included), inside the change's
    /// transaction; a changed message keeps the version of its last change.
    #[serde(default)]
    pub version: i64,
    /// How many of its messages are pinned.
    #[serde(default)]
    pub pin_count: i64,
    /// Direct conversations only: both uuids in order, unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_key: Option<String>,
    /// Members who deleted (hid) this direct conversation; cleared by the next message.
    #[serde(default, with = "uuids::list")]
    pub hidden_for: Vec<Uuid>,
    /// Creation time.
    pub created_at: BsonDateTime,
    /// Last message or change.
    pub updated_at: BsonDateTime,
    /// What a reader's unread count can be worked out from (see [`Marks`]); absent in
    /// conversations stored before marks were kept, until their next message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marks: Option<Marks>,
}

/// The newest messages of a conversation that an unread count must not simply count, kept
/// by the transactions that store, delete or blank them.
///
/// `seq` has no gaps, so the messages after a reader's position `p` are `lastSeq - p`, of
/// which the unread ones are those not deleted and not the reader's. When nothing the
/// reader sent, nothing deleted and nothing mentioning the reader comes after `p` (all
/// after [`Marks::since`], so all marked), the counts are `lastSeq - p` unread and no
/// mention, without reading a message; otherwise they are counted. A mark may be higher
/// than the truth (a mention of someone who is not a member), never lower.
///
/// A member's newest message is the latest of their marks in [`Marks::read`], [`Marks::last`],
/// [`Marks::left`] and [`Marks::sent`]; a send writes one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Marks {
    /// `seq` from which messages are marked (0: since the conversation began; later for a
    /// conversation stored before marks were kept). Absent: nothing is known yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// The newest deleted (or blanked) message.
    #[serde(default)]
    pub deleted: i64,
    /// The newest message mentioning everyone.
    #[serde(default)]
    pub everyone: i64,
    /// Each member's newest message, by uuid, as sends stored before 2026-12-07 kept it
    /// beside their read mark; read, no longer written.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub sent: HashMap<String, i64>,
    /// The newest message mentioning each member, by uuid.
    #[serde(default)]
    pub mentioned: HashMap<String, i64>,
    /// In a direct conversation, each member's newest message, which is also their read
    /// position as their own sends moved it (a sender has read up to their newest message),
    /// by uuid: written by the transaction that numbers the message, so a send writes no read
    /// state of its own. A member's position is the later of this and their read state
    /// ([`ConversationDoc::read_state_of`]). Groups wrote it before 2026-12-07; it is unset
    /// when the member leaves or joins one.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub read: HashMap<String, SentRead>,
    /// In a group, what [`Marks::read`] is in a direct conversation, as the `seq` alone:
    /// groups show no receipts, and every send rewrites a group's document, so its size is
    /// paid on each one. Moved to [`Marks::left`] when the member leaves or joins the group
    /// (their read state is forgotten then too).
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub last: HashMap<String, i64>,
    /// The newest message of each member who left or joined a group since their last send:
    /// no longer a read position, still a message of theirs that is not unread for them.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub left: HashMap<String, i64>,
}

/// A member's newest message, as their read position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentRead {
    /// Its position.
    pub seq: i64,
    /// The message.
    pub message_id: ObjectId,
    /// When it was sent.
    pub at: BsonDateTime,
}

impl Marks {
    /// Marks of a new conversation: everything marked from the start.
    pub fn new() -> Self {
        Self {
            since: Some(0),
            ..Self::default()
        }
    }

    /// Whether `reader`'s counts after position `read` are simply the messages after it
    /// (`lastSeq - read`) unread, and no mention.
    pub fn only_unread_after(&self, reader: Uuid, read: i64) -> bool {
        let key = reader.hyphenated().to_string();
        let after = |mark: Option<i64>| mark.is_some_and(|seq| seq > read);
        self.since.is_some_and(|since| since <= read)
            && self.deleted <= read
            && self.everyone <= read
            && !after(self.newest_of(&key))
            && !after(self.mentioned.get(&key).copied())
    }

    /// The newest message of the member with uuid `key`, as far as the marks know.
    fn newest_of(&self, key: &str) -> Option<i64> {
        let read = self.read.get(key).map(|sent| sent.seq);
        let marks = [&self.last, &self.left, &self.sent].map(|marks| marks.get(key).copied());
        marks.into_iter().fold(read, Option::max)
    }
}

/// A member's newest message as their read position, as far as their mark tells it.
struct SentPosition {
    seq: i64,
    message_id: Option<ObjectId>,
    at: Option<BsonDateTime>,
}

/// The preview of the newest message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastMessageDoc {
    /// The message.
    pub message_id: ObjectId,
    /// Its position.
    pub seq: i64,
    /// The start of its text.
    pub text: String,
    /// Its author.
    #[serde(with = "uuids::one")]
    pub sender_uuid: Uuid,
    /// When it was sent.
    pub timestamp: BsonDateTime,
}

impl ConversationDoc {
    /// `user`'s read position: the later of their read state `stored` (moved by reading) and
    /// their newest message (moved by sending, see [`Marks::read`]).
    pub fn read_state_of(&self, user: Uuid, stored: Option<ReadStateDoc>) -> Option<ReadStateDoc> {
        let sent = self.sent_read(user).filter(|sent| {
            stored
                .as_ref()
                .is_none_or(|state| state.last_read_seq < sent.seq)
        });
        match sent {
            Some(sent) => Some(ReadStateDoc {
                conversation_id: self.id,
                user_uuid: user,
                last_read_seq: sent.seq,
                last_read_message_id: sent.message_id,
                updated_at: sent.at,
            }),
            None => stored,
        }
    }

    /// `user`'s read position as a `seq`: the later of `stored` (their read state's, 0 for
    /// none) and their newest message.
    pub fn position_of(&self, user: Uuid, stored: i64) -> i64 {
        self.sent_read(user)
            .map_or(stored, |sent| sent.seq.max(stored))
    }

    /// Whether `user`'s read position is at `seq` or past it by their own sends.
    pub fn sent_past(&self, user: Uuid, seq: i64) -> bool {
        self.sent_read(user).is_some_and(|sent| sent.seq >= seq)
    }

    /// `user`'s newest message as their read position ([`Marks::read`], [`Marks::last`]):
    /// its message and time only where the mark keeps them.
    fn sent_read(&self, user: Uuid) -> Option<SentPosition> {
        let marks = self.marks.as_ref()?;
        let key = user.hyphenated().to_string();
        let read = marks.read.get(&key).map(|sent| SentPosition {
            seq: sent.seq,
            message_id: Some(sent.message_id),
            at: Some(sent.at),
        });
        let last = marks.last.get(&key).map(|seq| SentPosition {
            seq: *seq,
            message_id: None,
            at: None,
        });
        match (read, last) {
            (Some(read), Some(last)) if last.seq > read.seq => Some(last),
            (read, last) => read.or(last),
        }
    }

    /// Whether `user` is a member.
    pub fn has_member(&self, user: Uuid) -> bool {
        self.participants.contains(&user)
    }

    /// Members as uuids.
    pub fn member_uuids(&self) -> Vec<Uuid> {
        self.participants.clone()
    }

    /// The member of a direct conversation who is not `me`.
    pub fn other_member(&self, me: Uuid) -> Option<Uuid> {
        self.participants
            .iter()
            .copied()
            .find(|member| *member != me)
    }

    /// What every member sees; `can_send` comes from friends-service for direct conversations.
    pub fn info(&self, can_send: bool) -> ConversationInfo {
        ConversationInfo {
            id: self.id.to_hex(),
            is_group: self.is_group,
            participant_uuids: self.participants.clone(),
            admin: self.admin,
            name: self.group_name.clone(),
            description: self.description.clone(),
            picture: self.group_picture.clone(),
            last_message: self.last_message.as_ref().map(|last| LastMessage {
                id: last.message_id.to_hex(),
                seq: last.seq,
                sender_uuid: last.sender_uuid,
                preview: last.text.clone(),
                created_at: last.timestamp.to_chrono(),
            }),
            last_seq: self.last_seq,
            version: self.version,
            can_send,
            created_at: self.created_at.to_chrono(),
            updated_at: self.updated_at.to_chrono(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_tell_the_counts_only_when_nothing_marked_comes_after_the_position() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let marks = Marks {
            since: Some(10),
            deleted: 12,
            everyone: 14,
            sent: HashMap::from([(ann.hyphenated().to_string(), 16)]),
            mentioned: HashMap::from([(bob.hyphenated().to_string(), 18)]),
            read: HashMap::new(),
            last: HashMap::new(),
            left: HashMap::new(),
        };
        // Positions before `since`: messages there were never marked.
        assert!(!marks.only_unread_after(bob, 9));
        // A deletion, a mention of everyone, the reader's own message, a mention of the
        // reader: each after the position sends it to be counted.
        assert!(!marks.only_unread_after(bob, 11));
        assert!(!marks.only_unread_after(bob, 13));
        assert!(!marks.only_unread_after(ann, 15));
        assert!(!marks.only_unread_after(bob, 17));
        // Past all of them.
        assert!(marks.only_unread_after(ann, 16));
        assert!(marks.only_unread_after(bob, 18));
        // Nothing known yet.
        assert!(!Marks::default().only_unread_after(ann, 100));
        assert!(Marks::new().only_unread_after(ann, 0));
    }

    #[test]
    fn a_position_is_the_later_of_the_read_state_and_the_newest_message_sent() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let sent = ObjectId::new();
        let at = BsonDateTime::from_millis(1_000);
        let conversation = ConversationDoc {
            last_seq: 9,
            version: 9,
            marks: Some(Marks {
                read: HashMap::from([(
                    ann.hyphenated().to_string(),
                    SentRead {
                        seq: 5,
                        message_id: sent,
                        at,
                    },
                )]),
                ..Marks::new()
            }),
            ..crate::db::conversations::new_direct(ann, bob)
        };
        let stored = |seq: i64| ReadStateDoc {
            conversation_id: conversation.id,
            user_uuid: ann,
            last_read_seq: seq,
            last_read_message_id: Some(ObjectId::new()),
            updated_at: None,
        };
        let of = |state| {
            conversation
                .read_state_of(ann, state)
                .map(|s| s.last_read_seq)
        };
        assert_eq!(of(None), Some(5));
        assert_eq!(of(Some(stored(3))), Some(5));
        assert_eq!(
            conversation
                .read_state_of(ann, Some(stored(3)))
                .and_then(|state| state.last_read_message_id),
            Some(sent)
        );
        assert_eq!(of(Some(stored(5))), Some(5));
        assert_eq!(of(Some(stored(7))), Some(7));
        assert_eq!(
            conversation
                .read_state_of(bob, None)
                .map(|s| s.last_read_seq),
            None
        );
        assert_eq!(
            [0, 3, 5, 7].map(|stored| conversation.position_of(ann, stored)),
            [5, 5, 5, 7]
        );
        assert_eq!(conversation.position_of(bob, 2), 2);
        assert!(conversation.sent_past(ann, 5) && !conversation.sent_past(ann, 6));
        assert!(!conversation.sent_past(bob, 1));
    }

    #[test]
    fn a_members_newest_message_is_the_latest_of_their_marks_and_only_read_marks_are_positions() {
        let (ann, bob, cy) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let key = |user: Uuid| user.hyphenated().to_string();
        let before = SentRead {
            seq: 12,
            message_id: ObjectId::new(),
            at: BsonDateTime::from_millis(1_000),
        };
        let conversation = ConversationDoc {
            last_seq: 20,
            version: 20,
            marks: Some(Marks {
                // Ann sent 12 as the group's marks were kept before, then 15.
                sent: HashMap::from([(key(ann), 12), (key(bob), 9)]),
                read: HashMap::from([(key(ann), before)]),
                last: HashMap::from([(key(ann), 15)]),
                // Bob sent 17, then left (or joined again).
                left: HashMap::from([(key(bob), 17)]),
                ..Marks::new()
            }),
            ..crate::db::groups::new(vec![ann, bob, cy], "g".to_owned(), None)
        };
        let marks = conversation.marks.as_ref().expect("marks");
        assert!(!marks.only_unread_after(ann, 14) && marks.only_unread_after(ann, 15));
        assert!(!marks.only_unread_after(bob, 16) && marks.only_unread_after(bob, 17));
        assert!(marks.only_unread_after(cy, 0));
        // Ann's send moved her position; Bob's position is forgotten with his read mark.
        assert_eq!(conversation.position_of(ann, 3), 15);
        assert_eq!(conversation.position_of(bob, 3), 3);
        assert!(conversation.sent_past(ann, 15) && !conversation.sent_past(bob, 17));
        // A group's mark has no message to show: a receipt from it tells the position only.
        let state = conversation.read_state_of(ann, None).expect("a position");
        assert_eq!(
            (
                state.last_read_seq,
                state.last_read_message_id,
                state.updated_at
            ),
            (15, None, None)
        );
    }
}
