//! How two users stand, and what a friend request does given that: pure functions, so every
//! rule is decided in one `match` and unit-tested without a database.

use chat_models::{ApiError, ErrorCode};

pub use chat_models::api::friend::Relationship;

/// A pending request between the two, seen from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// Its id.
    pub request_id: u64,
    /// Whether the caller sent it.
    pub sent_by_me: bool,
}

/// Everything stored about a pair, read in one transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// The caller blocked the other user.
    pub i_blocked: bool,
    /// The other user blocked the caller.
    pub they_blocked: bool,
    /// They are friends.
    pub friends: bool,
    /// A pending request, if any (at most one per pair, enforced by the database).
    pub pending: Option<Pending>,
}

impl Facts {
    /// The one relationship these facts amount to. Blocks win: blocking removes friendships and
    /// requests, and of a mutual block the caller sees their own.
    pub fn relationship(&self) -> Relationship {
        match (
            self.i_blocked,
            self.they_blocked,
            self.friends,
            self.pending,
        ) {
            (true, _, _, _) => Relationship::Blocked,
            (false, true, _, _) => Relationship::BlockedBy,
            (false, false, true, _) => Relationship::Friends,
            (
                false,
                false,
                false,
                Some(Pending {
                    request_id,
                    sent_by_me: true,
                }),
            ) => Relationship::Outgoing { request_id },
            (
                false,
                false,
                false,
                Some(Pending {
                    request_id,
                    sent_by_me: false,
                }),
            ) => Relationship::Incoming { request_id },
            (false, false, false, None) => Relationship::None,
        }
    }
}

/// What sending a friend request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendDecision {
    /// Create a pending request.
    CreateRequest,
    /// They already asked: accept their request instead of making a second one.
    AcceptTheirs {
        /// Their pending request.
        request_id: u64,
    },
}

/// Decides a friend request from the relationship and the caller's pending outgoing count.
/// Being blocked answers the same generic refusal a client cannot tell from other refusals.
pub fn decide_send(
    relationship: Relationship,
    outgoing_pending: u64,
    cap: u64,
) -> Result<SendDecision, ApiError> {
    match relationship {
        Relationship::None if outgoing_pending >= cap => {
            Err(ApiError::Conflict(ErrorCode::TooManyPendingRequests))
        }
        Relationship::None => Ok(SendDecision::CreateRequest),
        Relationship::Incoming { request_id } => Ok(SendDecision::AcceptTheirs { request_id }),
        Relationship::Outgoing { .. } => Err(ApiError::Conflict(ErrorCode::RequestAlreadySent)),
        Relationship::Friends => Err(ApiError::Conflict(ErrorCode::AlreadyFriends)),
        Relationship::Blocked => Err(ApiError::Conflict(ErrorCode::UserBlocked)),
        Relationship::BlockedBy => Err(ApiError::Forbidden(ErrorCode::RequestNotAllowed)),
    }
}

/// The two uuids of a pair in the order the `friend_requests` pair key stores them.
pub fn ordered_pair<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a < b {
        (a, b)
    } else {
        (b, a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts::default()
    }

    #[test]
    fn blocks_take_precedence_over_everything() {
        let pending = Some(Pending {
            request_id: 1,
            sent_by_me: true,
        });
        let all = Facts {
            i_blocked: true,
            they_blocked: true,
            friends: true,
            pending,
        };
        assert_eq!(all.relationship(), Relationship::Blocked);
        let blocked_by = Facts {
            they_blocked: true,
            friends: true,
            ..facts()
        };
        assert_eq!(blocked_by.relationship(), Relationship::BlockedBy);
        assert_eq!(
            Facts {
                friends: true,
                pending,
                ..facts()
            }
            .relationship(),
            Relationship::Friends
        );
    }

    #[test]
    fn pending_requests_read_from_the_callers_side() {
        let mine = Facts {
            pending: Some(Pending {
                request_id: 7,
                sent_by_me: true,
            }),
            ..facts()
        };
        let theirs = Facts {
            pending: Some(Pending {
                request_id: 7,
                sent_by_me: false,
            }),
            ..facts()
        };
        assert_eq!(
            mine.relationship(),
            Relationship::Outgoing { request_id: 7 }
        );
        assert_eq!(
            theirs.relationship(),
            Relationship::Incoming { request_id: 7 }
        );
        assert_eq!(facts().relationship(), Relationship::None);
    }

    #[test]
    fn sending_follows_the_relationship() {
        assert_eq!(
            decide_send(Relationship::None, 0, 100).unwrap(),
            SendDecision::CreateRequest
        );
        assert_eq!(
            decide_send(Relationship::Incoming { request_id: 3 }, 0, 100).unwrap(),
            SendDecision::AcceptTheirs { request_id: 3 }
        );
        let code = |relationship| decide_send(relationship, 0, 100).unwrap_err().code();
        assert_eq!(
            code(Relationship::Outgoing { request_id: 3 }),
            ErrorCode::RequestAlreadySent
        );
        assert_eq!(code(Relationship::Friends), ErrorCode::AlreadyFriends);
        assert_eq!(code(Relationship::Blocked), ErrorCode::UserBlocked);
        assert_eq!(code(Relationship::BlockedBy), ErrorCode::RequestNotAllowed);
    }

    #[test]
    fn the_outgoing_cap_applies_to_new_requests_only() {
        let capped = decide_send(Relationship::None, 100, 100).unwrap_err();
        assert_eq!(capped.code(), ErrorCode::TooManyPendingRequests);
        // Accepting their request is always allowed, even at the cap.
        let accept = decide_send(Relationship::Incoming { request_id: 1 }, 100, 100).unwrap();
        assert_eq!(accept, SendDecision::AcceptTheirs { request_id: 1 });
    }

    #[test]
    fn pairs_are_ordered() {
        assert_eq!(ordered_pair("b", "a"), ("a", "b"));
        assert_eq!(ordered_pair("a", "b"), ("a", "b"));
    }

    #[test]
    fn relationships_serialise_as_the_documented_statuses() {
        let json = serde_json::to_value(Relationship::Outgoing { request_id: 4 }).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "status": "outgoing", "request_id": 4 })
        );
        let json = serde_json::to_value(Relationship::BlockedBy).unwrap();
        assert_eq!(json, serde_json::json!({ "status": "blocked_by" }));
    }
}
