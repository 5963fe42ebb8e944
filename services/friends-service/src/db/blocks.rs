//! `blocks`: who blocked whom.

use chat_models::Result;
use chrono::{DateTime, Utc};
use sqlx::{MySqlConnection, MySqlPool};
use uuid::Uuid;

/// A user the caller blocked and since when.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlockRow {
    /// The blocked user.
    pub blocked_uuid: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Blocks a user; returns whether the block is new.
pub async fn insert_block(
    conn: &mut MySqlConnection,
    blocker: Uuid,
    blocked: Uuid,
) -> Result<bool> {
    let done = sqlx::query("INSERT IGNORE INTO blocks (blocker_uuid, blocked_uuid) VALUES (?, ?)")
        .bind(blocker.hyphenated().to_string())
        .bind(blocked.hyphenated().to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Lifts a block; returns whether there was one.
pub async fn delete_block(pool: &MySqlPool, blocker: Uuid, blocked: Uuid) -> Result<bool> {
    let done = sqlx::query("DELETE FROM blocks WHERE blocker_uuid = ? AND blocked_uuid = ?")
        .bind(blocker.hyphenated().to_string())
        .bind(blocked.hyphenated().to_string())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A page of the users the caller blocked, after the cursor.
pub async fn list_blocks(
    pool: &MySqlPool,
    me: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<BlockRow>> {
    Ok(sqlx::query_as::<_, BlockRow>(
        "SELECT blocked_uuid, created_at FROM blocks WHERE blocker_uuid = ? AND blocked_uuid > ? \
         ORDER BY blocked_uuid LIMIT ?",
    )
    .bind(me.hyphenated().to_string())
    .bind(
        after
            .map(|uuid| uuid.hyphenated().to_string())
            .unwrap_or_default(),
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Whether either user blocked the other.
pub async fn either_blocked(pool: &MySqlPool, a: Uuid, b: Uuid) -> Result<bool> {
    let (a, b) = (a.hyphenated().to_string(), b.hyphenated().to_string());
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM blocks WHERE (blocker_uuid = ? AND blocked_uuid = ?) OR (blocker_uuid = ? AND blocked_uuid = ?) LIMIT 1",
    )
    .bind(&a)
    .bind(&b)
    .bind(&b)
    .bind(&a)
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}
