//! Storage in MySQL (`chat_friends`): plain async functions over a pool, connection or
//! transaction, one module per table.

pub mod blocks;
pub mod friendships;
pub mod relationships;
pub mod requests;

use chat_models::{ApiError, Result};
use uuid::Uuid;

/// A uuid stored as CHAR(36).
pub fn parse_uuid(value: &str) -> Result<Uuid> {
    Uuid::parse_str(value).map_err(|error| {
        ApiError::Internal(anyhow::Error::new(error).context("bad uuid in storage"))
    })
}

/// Removes every row that mentions a user (their account was deleted). Idempotent.
pub async fn delete_user_data(pool: &sqlx::MySqlPool, user: Uuid) -> Result<()> {
    let user = user.hyphenated().to_string();
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM friendships WHERE user_uuid = ? OR friend_uuid = ?")
        .bind(&user)
        .bind(&user)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM friend_requests WHERE sender_uuid = ? OR receiver_uuid = ?")
        .bind(&user)
        .bind(&user)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM blocks WHERE blocker_uuid = ? OR blocked_uuid = ?")
        .bind(&user)
        .bind(&user)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM pair_locks WHERE pair_low = ? OR pair_high = ?")
        .bind(&user)
        .bind(&user)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
