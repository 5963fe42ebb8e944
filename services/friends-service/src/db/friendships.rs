//! `friendships`: one row per direction, written and removed together.

use chat_models::Result;
use chrono::{DateTime, Utc};
use sqlx::{MySqlConnection, MySqlPool};
use uuid::Uuid;

/// A friend of the caller and since when.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FriendRow {
    /// The friend.
    pub friend_uuid: String,
    /// When they became friends.
    pub created_at: DateTime<Utc>,
}

/// Makes two users friends (both directions); a no-op if they already are.
pub async fn insert_friendship(conn: &mut MySqlConnection, a: Uuid, b: Uuid) -> Result<()> {
    let (a, b) = (a.hyphenated().to_string(), b.hyphenated().to_string());
    sqlx::query("INSERT IGNORE INTO friendships (user_uuid, friend_uuid) VALUES (?, ?), (?, ?)")
        .bind(&a)
        .bind(&b)
        .bind(&b)
        .bind(&a)
        .execute(conn)
        .await?;
    Ok(())
}

/// Those of `others` who are friends of `user`.
pub async fn friends_among(pool: &MySqlPool, user: Uuid, others: &[Uuid]) -> Result<Vec<String>> {
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let mut query =
        sqlx::QueryBuilder::new("SELECT friend_uuid FROM friendships WHERE user_uuid = ");
    query.push_bind(user.hyphenated().to_string());
    query.push(" AND friend_uuid IN (");
    let mut list = query.separated(", ");
    for other in others {
        list.push_bind(other.hyphenated().to_string());
    }
    query.push(")");
    Ok(query.build_query_scalar().fetch_all(pool).await?)
}

/// Ends a friendship (both directions); returns whether there was one.
pub async fn delete_friendship(conn: &mut MySqlConnection, a: Uuid, b: Uuid) -> Result<bool> {
    let (a, b) = (a.hyphenated().to_string(), b.hyphenated().to_string());
    let done = sqlx::query(
        "DELETE FROM friendships WHERE (user_uuid = ? AND friend_uuid = ?) OR (user_uuid = ? AND friend_uuid = ?)",
    )
    .bind(&a)
    .bind(&b)
    .bind(&b)
    .bind(&a)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A page of the caller's friends, by friend uuid, after the cursor.
pub async fn list_friends(
    pool: &MySqlPool,
    me: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<FriendRow>> {
    Ok(sqlx::query_as::<_, FriendRow>(
        "SELECT friend_uuid, created_at FROM friendships WHERE user_uuid = ? AND friend_uuid > ? \
         ORDER BY friend_uuid LIMIT ?",
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

/// Whether two users are friends.
pub async fn are_friends(pool: &MySqlPool, a: Uuid, b: Uuid) -> Result<bool> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM friendships WHERE user_uuid = ? AND friend_uuid = ?")
            .bind(a.hyphenated().to_string())
            .bind(b.hyphenated().to_string())
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}
