//! `user_identities`: provider identities linked to accounts, keyed by (provider, subject).

use chat_models::api::oauth::{LinkedIdentity, Provider};
use chat_models::{ApiError, ErrorCode, Result};
use chrono::{DateTime, Utc};
use sqlx::{MySqlExecutor, MySqlPool};
use uuid::Uuid;

/// An identity as a provider vouches for it.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Who vouches.
    pub provider: Provider,
    /// The provider's stable id of the person (`sub`, GitHub's numeric id).
    pub subject: String,
    /// The verified email the provider gave, if any.
    pub email: Option<String>,
}

/// Why an identity could not be linked.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    /// The identity belongs to another account.
    IdentityInUse,
    /// The account already has another identity of this provider.
    ProviderAlreadyLinked,
}

/// The account an identity is linked to.
pub async fn owner(pool: &MySqlPool, provider: Provider, subject: &str) -> Result<Option<Uuid>> {
    let owner: Option<String> = sqlx::query_scalar(
        "SELECT user_uuid FROM user_identities WHERE provider = ? AND subject = ?",
    )
    .bind(provider.as_str())
    .bind(subject)
    .fetch_optional(pool)
    .await?;
    owner
        .map(|uuid| {
            Uuid::parse_str(&uuid).map_err(|error| {
                ApiError::Internal(anyhow::Error::new(error).context("bad uuid in user_identities"))
            })
        })
        .transpose()
}

/// Links `identity` to `user`. Linking it again to the same account is a success; the unique
/// keys decide races (two accounts linking one identity, one account linking two of a
/// provider), so no check-then-insert gap exists.
pub async fn link(
    db: &MySqlPool,
    user: Uuid,
    identity: &Identity,
) -> Result<std::result::Result<(), LinkRefusal>> {
    match insert(db, user, identity).await {
        Ok(_) => Ok(Ok(())),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            let key = error.message().rsplit("for key").next().unwrap_or_default();
            if key.contains("uq_identities_user_provider") {
                let linked: Option<String> = sqlx::query_scalar(
                    // A binary collation reads as bytes; the subject is text.
                    "SELECT CONVERT(subject USING utf8mb4) FROM user_identities \
                     WHERE user_uuid = ? AND provider = ?",
                )
                .bind(user.hyphenated().to_string())
                .bind(identity.provider.as_str())
                .fetch_optional(db)
                .await?;
                if linked.as_deref() == Some(identity.subject.as_str()) {
                    return Ok(Ok(()));
                }
                return Ok(Err(LinkRefusal::ProviderAlreadyLinked));
            }
            let owner: Option<String> = sqlx::query_scalar(
                "SELECT user_uuid FROM user_identities WHERE provider = ? AND subject = ?",
            )
            .bind(identity.provider.as_str())
            .bind(&identity.subject)
            .fetch_optional(db)
            .await?;
            if owner.as_deref() == Some(user.hyphenated().to_string().as_str()) {
                Ok(Ok(()))
            } else {
                Ok(Err(LinkRefusal::IdentityInUse))
            }
        }
        Err(error) => Err(error.into()),
    }
}

/// Inserts the link row; a unique violation comes back as it is, for the caller to judge.
pub async fn insert(
    db: impl MySqlExecutor<'_>,
    user: Uuid,
    identity: &Identity,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_identities (provider, subject, user_uuid, email) VALUES (?, ?, ?, ?)",
    )
    .bind(identity.provider.as_str())
    .bind(&identity.subject)
    .bind(user.hyphenated().to_string())
    .bind(&identity.email)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct IdentityRow {
    provider: String,
    email: Option<String>,
    created_at: DateTime<Utc>,
}

/// The identities linked to `user`, oldest first.
pub async fn list(db: impl MySqlExecutor<'_>, user: Uuid) -> Result<Vec<LinkedIdentity>> {
    let rows: Vec<IdentityRow> = sqlx::query_as(
        "SELECT provider, email, created_at FROM user_identities WHERE user_uuid = ? \
         ORDER BY created_at, provider",
    )
    .bind(user.hyphenated().to_string())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(LinkedIdentity {
                provider: Provider::parse(&row.provider)?,
                email: row.email,
                linked_at: row.created_at,
            })
        })
        .collect())
}

/// Unlinks `provider` from `user`, unless it is the account's last way to sign in. The account
/// row is locked first, so two unlinks (or an unlink and a password removal) cannot together
/// leave an account nobody can sign in to.
pub async fn unlink(pool: &MySqlPool, user: Uuid, provider: Provider) -> Result<()> {
    let uuid = user.hyphenated().to_string();
    let mut tx = pool.begin().await?;
    let has_password: Option<bool> =
        sqlx::query_scalar("SELECT password_hash IS NOT NULL FROM users WHERE uuid = ? FOR UPDATE")
            .bind(&uuid)
            .fetch_optional(&mut *tx)
            .await?;
    let has_password = has_password.ok_or(ApiError::NotFound(ErrorCode::UserNotFound))?;
    let providers: Vec<String> =
        sqlx::query_scalar("SELECT provider FROM user_identities WHERE user_uuid = ?")
            .bind(&uuid)
            .fetch_all(&mut *tx)
            .await?;
    if !providers.iter().any(|linked| linked == provider.as_str()) {
        return Err(ApiError::NotFound(ErrorCode::IdentityNotFound));
    }
    if !has_password && providers.len() == 1 {
        return Err(ApiError::Conflict(ErrorCode::LastSignInMethod));
    }
    sqlx::query("DELETE FROM user_identities WHERE user_uuid = ? AND provider = ?")
        .bind(&uuid)
        .bind(provider.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
