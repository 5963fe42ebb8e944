//! `friend_requests`: listing and settling requests (inserting is in `relationships`).

use chat_models::{ApiError, ErrorCode, Result};
use chrono::{DateTime, Utc};
use sqlx::{MySqlConnection, MySqlPool};
use uuid::Uuid;

/// A row of `friend_requests`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    /// Id.
    pub request_id: u64,
    /// Who asked.
    pub sender_uuid: String,
    /// Who was asked.
    pub receiver_uuid: String,
    /// pending, accepted, rejected or cancelled (decoded as text: sqlx cannot decode MariaDB
    /// ENUMs into Rust enums).
    pub status: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "request_id, sender_uuid, receiver_uuid, status, created_at";

/// Which side of a request a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Direction {
    /// Sent to me.
    Incoming,
    /// Sent by me.
    Outgoing,
}

/// Pending requests of one direction, oldest first, after the cursor.
pub async fn list_pending(
    pool: &MySqlPool,
    me: Uuid,
    direction: Direction,
    after: Option<u64>,
    limit: u32,
) -> Result<Vec<RequestRow>> {
    let column = match direction {
        Direction::Incoming => "receiver_uuid",
        Direction::Outgoing => "sender_uuid",
    };
    Ok(sqlx::query_as::<_, RequestRow>(&format!(
        "SELECT {COLUMNS} FROM friend_requests WHERE {column} = ? AND status = 'pending' AND request_id > ? \
         ORDER BY request_id LIMIT ?"
    ))
    .bind(me.hyphenated().to_string())
    .bind(after.unwrap_or(0))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The sender and receiver of a request, if it exists (to lock the pair before settling it).
pub async fn parties_of(pool: &MySqlPool, request_id: u64) -> Result<Option<(Uuid, Uuid)>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT sender_uuid, receiver_uuid FROM friend_requests WHERE request_id = ?",
    )
    .bind(request_id)
    .fetch_optional(pool)
    .await?;
    row.map(|(sender, receiver)| Ok((super::parse_uuid(&sender)?, super::parse_uuid(&receiver)?)))
        .transpose()
}

/// Who may settle a request, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// The receiver accepts.
    Accept,
    /// The receiver declines.
    Reject,
    /// The sender withdraws.
    Cancel,
}

/// Settles a pending request inside the caller's transaction; 404 `request_not_found` unless it
/// is pending and `actor` is on the side allowed to settle it this way.
pub async fn settle(
    conn: &mut MySqlConnection,
    request_id: u64,
    actor: Uuid,
    how: Settle,
) -> Result<RequestRow> {
    let row = sqlx::query_as::<_, RequestRow>(&format!(
        "SELECT {COLUMNS} FROM friend_requests WHERE request_id = ? FOR UPDATE"
    ))
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ApiError::NotFound(ErrorCode::RequestNotFound))?;
    let actor = actor.hyphenated().to_string();
    let allowed = match how {
        Settle::Accept | Settle::Reject => row.receiver_uuid == actor,
        Settle::Cancel => row.sender_uuid == actor,
    };
    if row.status != "pending" || !allowed {
        return Err(ApiError::NotFound(ErrorCode::RequestNotFound));
    }
    let status = match how {
        Settle::Accept => "accepted",
        Settle::Reject => "rejected",
        Settle::Cancel => "cancelled",
    };
    sqlx::query("UPDATE friend_requests SET status = ? WHERE request_id = ?")
        .bind(status)
        .bind(request_id)
        .execute(&mut *conn)
        .await?;
    Ok(row)
}

/// Cancels whatever is pending between two users (a block ends it).
pub async fn cancel_between(
    conn: &mut MySqlConnection,
    a: Uuid,
    b: Uuid,
) -> Result<Vec<RequestRow>> {
    let (a, b) = (a.hyphenated().to_string(), b.hyphenated().to_string());
    let rows = sqlx::query_as::<_, RequestRow>(&format!(
        "SELECT {COLUMNS} FROM friend_requests WHERE status = 'pending' \
         AND ((sender_uuid = ? AND receiver_uuid = ?) OR (sender_uuid = ? AND receiver_uuid = ?)) FOR UPDATE"
    ))
    .bind(&a)
    .bind(&b)
    .bind(&b)
    .bind(&a)
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        sqlx::query("UPDATE friend_requests SET status = 'cancelled' WHERE request_id = ?")
            .bind(row.request_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows)
}
