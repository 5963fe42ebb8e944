//! Bodies of friends-service: requests, friendships, blocks, relationships.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::user::PublicUser;

/// How another user stands with the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Relationship {
    /// Nothing between them.
    None,
    /// The caller's request to them is pending.
    Outgoing {
        /// The pending request.
        request_id: u64,
    },
    /// Their request to the caller is pending.
    Incoming {
        /// The pending request.
        request_id: u64,
    },
    /// Friends.
    Friends,
    /// The caller blocked them.
    Blocked,
    /// They blocked the caller.
    BlockedBy,
}

/// `POST /friends/requests`: name the user by exactly one of the two (the document says so
/// with a `oneOf`; both or neither is `422 one_target`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendFriendRequest {
    /// The other user's username (case-insensitive).
    #[serde(default, deserialize_with = "crate::api::present")]
    pub username: Option<String>,
    /// The other user's uuid.
    #[serde(default, deserialize_with = "crate::api::present")]
    pub user_uuid: Option<Uuid>,
}

/// Where a request or block stands afterwards.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RelationshipView {
    /// The other user.
    pub user: PublicUser,
    /// How they stand now.
    pub relationship: Relationship,
}

/// A pending request with the other user's profile.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FriendRequestView {
    /// Id, for accept/reject/cancel.
    pub request_id: u64,
    /// The other user (sender of an incoming request, receiver of an outgoing one).
    pub user: PublicUser,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

/// A page of pending requests, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FriendRequestPage {
    /// The requests.
    pub requests: Vec<FriendRequestView>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_cursor: Option<u64>,
}

/// A user and since when (a friend, or a blocked user).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserSince {
    /// The user.
    pub user: PublicUser,
    /// Since when.
    pub since: DateTime<Utc>,
}

/// A page of users (friends or blocks), ordered by uuid.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserSincePage {
    /// The users.
    pub users: Vec<UserSince>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_cursor: Option<Uuid>,
}

/// Paging of request lists.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestPageQuery {
    /// Page size, 1-100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor from the previous page (`next_cursor`).
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// Paging of friends and blocks.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserPageQuery {
    /// Page size, 1-100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub after: Option<Uuid>,
}

/// `GET /internal/relationships?a=&b=`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairQuery {
    /// One user.
    pub a: Uuid,
    /// The other.
    pub b: Uuid,
}

/// What message-service needs to know about a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PairStatus {
    /// They are friends.
    pub friends: bool,
    /// Either blocked the other.
    pub blocked: bool,
}

/// `POST /internal/friends/check`: which of `others` are friends of `user_uuid`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FriendsCheckRequest {
    /// The user whose friends are asked about.
    pub user_uuid: Uuid,
    /// The users to check (at most 500).
    pub others: Vec<Uuid>,
}

/// The answer to [`FriendsCheckRequest`]. A block always ends a friendship, so these are also
/// users neither side has blocked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FriendsCheckResponse {
    /// Those of `others` who are friends of the user.
    pub friends: Vec<Uuid>,
}
