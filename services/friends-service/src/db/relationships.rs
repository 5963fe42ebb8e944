//! Reading how a pair stands, and writing requests with the pair key the schema checks.

use chat_models::error::ResultExt as _;
use chat_models::{ApiError, ErrorCode, Result};
use sqlx::MySqlConnection;
use uuid::Uuid;

use crate::domain::{ordered_pair, Facts, Pending};

/// Locks the pair for the rest of the caller's transaction: every transaction changing how two
/// users stand takes this lock first, so they run one after another per pair and each decides
/// on the state the previous one committed (the pool reads with READ COMMITTED).
pub async fn lock_pair(conn: &mut MySqlConnection, a: Uuid, b: Uuid) -> Result<()> {
    let (a, b) = (a.hyphenated().to_string(), b.hyphenated().to_string());
    let (low, high) = ordered_pair(&a, &b);
    sqlx::query(
        "INSERT INTO pair_locks (pair_low, pair_high) VALUES (?, ?) \
         ON DUPLICATE KEY UPDATE pair_low = pair_low",
    )
    .bind(low)
    .bind(high)
    .execute(conn)
    .await?;
    Ok(())
}

/// Everything stored about `me` and `other`, in one round trip.
pub async fn fetch_facts(conn: &mut MySqlConnection, me: Uuid, other: Uuid) -> Result<Facts> {
    let (me, other) = (me.hyphenated().to_string(), other.hyphenated().to_string());
    let (low, high) = ordered_pair(&me, &other);
    let row: (i64, i64, i64, Option<u64>, Option<String>) = sqlx::query_as(
        "SELECT \
           EXISTS(SELECT 1 FROM blocks WHERE blocker_uuid = ? AND blocked_uuid = ?), \
           EXISTS(SELECT 1 FROM blocks WHERE blocker_uuid = ? AND blocked_uuid = ?), \
           EXISTS(SELECT 1 FROM friendships WHERE user_uuid = ? AND friend_uuid = ?), \
           (SELECT request_id FROM friend_requests \
              WHERE pair_low = ? AND pair_high = ? AND status = 'pending'), \
           (SELECT sender_uuid FROM friend_requests \
              WHERE pair_low = ? AND pair_high = ? AND status = 'pending')",
    )
    .bind(&me)
    .bind(&other)
    .bind(&other)
    .bind(&me)
    .bind(&me)
    .bind(&other)
    .bind(low)
    .bind(high)
    .bind(low)
    .bind(high)
    .fetch_one(conn)
    .await?;
    let (i_blocked, they_blocked, friends, request_id, sender) = row;
    let pending = request_id.map(|request_id| Pending {
        request_id,
        sent_by_me: sender.as_deref() == Some(&me),
    });
    Ok(Facts {
        i_blocked: i_blocked != 0,
        they_blocked: they_blocked != 0,
        friends: friends != 0,
        pending,
    })
}

/// Inserts a pending request. The unique pair key refuses a second pending request between the
/// pair (either direction) with `request_already_sent`, whatever the code above it did.
pub async fn insert_request(
    conn: &mut MySqlConnection,
    sender: Uuid,
    receiver: Uuid,
) -> Result<u64> {
    let (sender, receiver) = (
        sender.hyphenated().to_string(),
        receiver.hyphenated().to_string(),
    );
    let (low, high) = ordered_pair(&sender, &receiver);
    let done = sqlx::query(
        "INSERT INTO friend_requests (sender_uuid, receiver_uuid, pair_low, pair_high) VALUES (?, ?, ?, ?)",
    )
    .bind(&sender)
    .bind(&receiver)
    .bind(low)
    .bind(high)
    .execute(conn)
    .await
    .on_unique_violation(|_| ApiError::Conflict(ErrorCode::RequestAlreadySent))?;
    Ok(done.last_insert_id())
}

/// Number of requests `sender` has pending (for the outgoing cap).
pub async fn count_outgoing(conn: &mut MySqlConnection, sender: Uuid) -> Result<u64> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM friend_requests WHERE sender_uuid = ? AND status = 'pending'",
    )
    .bind(sender.hyphenated().to_string())
    .fetch_one(conn)
    .await?;
    Ok(u64::try_from(count).unwrap_or_default())
}
