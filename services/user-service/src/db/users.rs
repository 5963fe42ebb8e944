//! The `users` table: plain async functions over a pool or a transaction.

use chat_models::api::user::{CurrentUser, PublicUser};
use chat_models::error::ResultExt as _;
use chat_models::{ApiError, ErrorCode, Result};
use chrono::{DateTime, Utc};
use sqlx::{MySqlExecutor, MySqlPool};
use uuid::Uuid;

/// A row of `users`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Hyphenated uuid.
    pub uuid: String,
    /// Username, case preserved.
    pub username: String,
    /// Lower-cased email.
    pub email: String,
    /// Optional bio.
    pub bio: Option<String>,
    /// Argon2id PHC string; none for an account made through a provider until a password is set.
    pub password_hash: Option<String>,
    /// Optional avatar URL.
    pub profile_picture: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl UserRow {
    /// The row's uuid (stored as CHAR(36)).
    pub fn id(&self) -> Result<Uuid> {
        Uuid::parse_str(&self.uuid).map_err(|error| {
            ApiError::Internal(anyhow::Error::new(error).context("bad uuid in users"))
        })
    }

    /// The owner's view.
    pub fn into_current(self) -> Result<CurrentUser> {
        Ok(CurrentUser {
            uuid: self.id()?,
            username: self.username,
            email: self.email,
            bio: self.bio,
            profile_picture: self.profile_picture,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }

    /// Everyone else's view.
    pub fn into_public(self) -> Result<PublicUser> {
        Ok(PublicUser {
            uuid: self.id()?,
            username: self.username,
            bio: self.bio,
            profile_picture: self.profile_picture,
            created_at: self.created_at,
        })
    }
}

const COLUMNS: &str =
    "uuid, username, email, bio, password_hash, profile_picture, created_at, updated_at";

/// Maps a duplicate-key error to the field it hit. The key name follows "for key" in the message
/// (MariaDB: `'uq_users_username'`, MySQL 8: `'users.uq_users_username'`); the duplicated value
/// comes before it and may itself look like a key name, so only the tail is inspected.
pub fn duplicate_field(message: &str) -> ApiError {
    let key = message.rsplit("for key").next().unwrap_or_default();
    if key.contains("uq_users_email") {
        ApiError::Conflict(ErrorCode::EmailTaken)
    } else {
        ApiError::Conflict(ErrorCode::UsernameTaken)
    }
}

/// New account fields.
pub struct NewUser<'a> {
    /// Fresh uuid.
    pub uuid: Uuid,
    /// Validated username.
    pub username: &'a str,
    /// Validated, lower-cased email.
    pub email: &'a str,
    /// Optional bio.
    pub bio: Option<&'a str>,
    /// Argon2id hash; none for an account made through a provider.
    pub password_hash: Option<&'a str>,
}

/// Inserts an account; 409 `username_taken`/`email_taken` on a duplicate.
#[tracing::instrument(skip_all, fields(user_id = %user.uuid))]
pub async fn insert_user(db: impl MySqlExecutor<'_>, user: &NewUser<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (uuid, username, email, bio, password_hash) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(user.uuid.hyphenated().to_string())
    .bind(user.username)
    .bind(user.email)
    .bind(user.bio)
    .bind(user.password_hash)
    .execute(db)
    .await
    .on_unique_violation(duplicate_field)?;
    Ok(())
}

/// The account with this uuid.
pub async fn fetch_user(db: impl MySqlExecutor<'_>, uuid: Uuid) -> Result<Option<UserRow>> {
    Ok(
        sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE uuid = ?"))
            .bind(uuid.hyphenated().to_string())
            .fetch_optional(db)
            .await?,
    )
}

/// The account with this username (case-insensitive).
pub async fn fetch_user_by_username(pool: &MySqlPool, username: &str) -> Result<Option<UserRow>> {
    Ok(
        sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE username = ?"))
            .bind(username)
            .fetch_optional(pool)
            .await?,
    )
}

/// The account with this (lower-cased) email.
pub async fn fetch_user_by_email(pool: &MySqlPool, email: &str) -> Result<Option<UserRow>> {
    Ok(
        sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE email = ?"))
            .bind(email)
            .fetch_optional(pool)
            .await?,
    )
}

/// Whether a username is in use (case-insensitive).
pub async fn username_exists(pool: &MySqlPool, username: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE username = ?")
            .bind(username)
            .fetch_one(pool)
            .await?
            > 0,
    )
}

/// Whether an email is in use.
pub async fn email_exists(pool: &MySqlPool, email: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE email = ?")
            .bind(email)
            .fetch_one(pool)
            .await?
            > 0,
    )
}

/// Profile fields to change; `None` leaves a field alone.
#[derive(Default)]
pub struct ProfileChanges {
    /// New username.
    pub username: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// New bio (`Some(None)` clears).
    pub bio: Option<Option<String>>,
    /// New avatar (`Some(None)` clears).
    pub profile_picture: Option<Option<String>>,
}

/// Applies profile changes in one statement; 409 on a duplicate username or email.
#[tracing::instrument(skip_all, fields(user_id = %uuid))]
pub async fn update_profile(pool: &MySqlPool, uuid: Uuid, changes: ProfileChanges) -> Result<()> {
    let mut query = sqlx::QueryBuilder::<sqlx::MySql>::new("UPDATE users SET uuid = uuid");
    if let Some(username) = changes.username {
        query.push(", username = ").push_bind(username);
    }
    if let Some(email) = changes.email {
        query.push(", email = ").push_bind(email);
    }
    if let Some(bio) = changes.bio {
        query.push(", bio = ").push_bind(bio);
    }
    if let Some(picture) = changes.profile_picture {
        query.push(", profile_picture = ").push_bind(picture);
    }
    query
        .push(" WHERE uuid = ")
        .push_bind(uuid.hyphenated().to_string());
    let done = query
        .build()
        .execute(pool)
        .await
        .on_unique_violation(duplicate_field)?;
    if done.rows_affected() == 0 && fetch_user(pool, uuid).await?.is_none() {
        return Err(ApiError::NotFound(ErrorCode::UserNotFound));
    }
    Ok(())
}

/// Replaces the password hash.
pub async fn update_password_hash(pool: &MySqlPool, uuid: Uuid, hash: &str) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = ? WHERE uuid = ?")
        .bind(hash)
        .bind(uuid.hyphenated().to_string())
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes the account row; returns whether it existed.
pub async fn delete_user(db: impl MySqlExecutor<'_>, uuid: Uuid) -> Result<bool> {
    let done = sqlx::query("DELETE FROM users WHERE uuid = ?")
        .bind(uuid.hyphenated().to_string())
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Users whose username starts with `prefix` (case-insensitive), after the cursor, by username.
pub async fn search_by_prefix(
    pool: &MySqlPool,
    prefix: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<UserRow>> {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    Ok(sqlx::query_as::<_, UserRow>(&format!(
        "SELECT {COLUMNS} FROM users WHERE username LIKE ? AND username > ? ORDER BY username LIMIT ?"
    ))
    .bind(format!("{escaped}%"))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Users by uuid or username (case-insensitive), each once.
pub async fn fetch_batch(
    pool: &MySqlPool,
    uuids: &[Uuid],
    usernames: &[String],
) -> Result<Vec<UserRow>> {
    if uuids.is_empty() && usernames.is_empty() {
        return Ok(Vec::new());
    }
    let mut query =
        sqlx::QueryBuilder::<sqlx::MySql>::new(format!("SELECT {COLUMNS} FROM users WHERE FALSE"));
    if !uuids.is_empty() {
        query.push(" OR uuid IN (");
        let mut list = query.separated(", ");
        for uuid in uuids {
            list.push_bind(uuid.hyphenated().to_string());
        }
        query.push(")");
    }
    if !usernames.is_empty() {
        query.push(" OR username IN (");
        let mut list = query.separated(", ");
        for username in usernames {
            list.push_bind(username.clone());
        }
        query.push(")");
    }
    query.push(" ORDER BY username");
    Ok(query.build_query_as::<UserRow>().fetch_all(pool).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_map_to_their_field_even_when_the_value_looks_like_a_key() {
        let mariadb = "Duplicate entry 'uq_users_email' for key 'uq_users_username'";
        assert_eq!(duplicate_field(mariadb).code(), ErrorCode::UsernameTaken);
        let mysql8 = "Duplicate entry 'a@b.c' for key 'users.uq_users_email'";
        assert_eq!(duplicate_field(mysql8).code(), ErrorCode::EmailTaken);
    }
}
