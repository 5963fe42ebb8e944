//! `refresh_tokens` in MongoDB: one document per issued refresh token, hashed. A session is a
//! family of tokens sharing `sessionId`; exactly one of them is live at a time.

use bson::{doc, oid::ObjectId, DateTime as BsonDateTime};
use chat_models::api::user::SignInMethod;
use chat_models::Result;
use chrono::{DateTime, Utc};
use futures::TryStreamExt as _;
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A stored refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshTokenDoc {
    /// Document id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Owner.
    pub user_uuid: String,
    /// SHA-256 (hex) of the token; the token itself is never stored.
    pub token_hash: String,
    /// The session (token family).
    pub session_id: String,
    /// When the session first signed in.
    pub session_created_at: BsonDateTime,
    /// TTL-indexed: MongoDB removes the document after this time.
    pub expires_at: BsonDateTime,
    /// When this token was issued.
    pub created_at: BsonDateTime,
    /// Set when rotated or revoked.
    pub revoked_at: Option<BsonDateTime>,
    /// Hash of the token that replaced this one (set only by rotation).
    pub replaced_by_token: Option<String>,
    /// `User-Agent` at sign-in.
    pub user_agent: Option<String>,
    /// How the session signed in (documents from before providers read as password).
    #[serde(default)]
    pub sign_in_method: SignInMethod,
}

impl RefreshTokenDoc {
    /// The session id as a uuid (unparseable ids never come from us; they read as nil).
    pub fn session_uuid(&self) -> Uuid {
        Uuid::parse_str(&self.session_id).unwrap_or_default()
    }

    /// The owner as a uuid.
    pub fn user_id(&self) -> Uuid {
        Uuid::parse_str(&self.user_uuid).unwrap_or_default()
    }
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Rotation {
    /// The token was live; it is now replaced by the new one.
    Rotated,
    /// The token had already been rotated: a replay. The whole session is now revoked.
    Reused {
        /// The session's owner.
        user_id: Uuid,
        /// The revoked session.
        session_id: Uuid,
    },
    /// Unknown, expired or revoked by sign-out.
    Invalid,
}

/// Typed access to `refresh_tokens`.
#[derive(Clone, Debug)]
pub struct RefreshTokenStore {
    col: Collection<RefreshTokenDoc>,
}

impl RefreshTokenStore {
    /// Collection name.
    pub const COLLECTION: &'static str = "refresh_tokens";

    /// The store in `db`.
    pub fn new(db: &Database) -> Self {
        Self {
            col: db.collection(Self::COLLECTION),
        }
    }

    /// Creates the indexes the queries below need, plus the TTL index. Idempotent.
    pub async fn ensure_indexes(&self) -> mongodb::error::Result<()> {
        let indexes = [
            IndexModel::builder()
                .keys(doc! { "tokenHash": 1 })
                .options(
                    IndexOptions::builder()
                        .unique(true)
                        .name("tokenHash_unique".to_owned())
                        .build(),
                )
                .build(),
            IndexModel::builder()
                .keys(doc! { "expiresAt": 1 })
                .options(
                    IndexOptions::builder()
                        .expire_after(std::time::Duration::ZERO)
                        .name("expiresAt_ttl".to_owned())
                        .build(),
                )
                .build(),
            IndexModel::builder()
                .keys(doc! { "userUuid": 1, "expiresAt": -1 })
                .build(),
            IndexModel::builder().keys(doc! { "sessionId": 1 }).build(),
            IndexModel::builder()
                .keys(doc! { "revokedAt": 1 })
                .options(
                    IndexOptions::builder()
                        .name("revokedAt".to_owned())
                        .sparse(true)
                        .build(),
                )
                .build(),
        ];
        self.col.create_indexes(indexes).await?;
        Ok(())
    }

    /// Stores a newly issued token.
    pub async fn insert(&self, token: &RefreshTokenDoc) -> Result<()> {
        self.col.insert_one(token).await?;
        Ok(())
    }

    /// When the live session `session_id` of `user_id` signed in; none once it is revoked.
    pub async fn session_started(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<Option<DateTime<Utc>>> {
        let filter = doc! {
            "userUuid": user_id.to_string(),
            "sessionId": session_id.to_string(),
            "revokedAt": null,
        };
        Ok(self
            .col
            .find_one(filter)
            .await?
            .map(|token| token.session_created_at.to_chrono()))
    }

    /// The token with this hash, live or not.
    pub async fn find_by_hash(&self, token_hash: &str) -> Result<Option<RefreshTokenDoc>> {
        Ok(self.col.find_one(doc! { "tokenHash": token_hash }).await?)
    }

    /// Replaces the live token `old` by `new` (a document of the same session).
    ///
    /// The successor is inserted *before* the old token is retired, and the retirement is a
    /// compare-and-set on "still live". So the session always has a live document that a
    /// concurrent sign-out or reuse detection will find and revoke, and of several callers
    /// presenting the same token exactly one wins; a loser removes its successor again.
    pub async fn rotate(&self, old: &RefreshTokenDoc, new: &RefreshTokenDoc) -> Result<Rotation> {
        self.col.insert_one(new).await?;
        let now = BsonDateTime::now();
        let retired = self
            .col
            .update_one(
                doc! { "_id": old.id, "revokedAt": null, "expiresAt": { "$gt": now } },
                doc! { "$set": { "revokedAt": now, "replacedByToken": &new.token_hash } },
            )
            .await?;
        if retired.modified_count == 1 {
            return Ok(Rotation::Rotated);
        }
        self.col.delete_one(doc! { "_id": new.id }).await?;
        self.judge_spent(&old.token_hash).await
    }

    /// What presenting a token that is not live means: a replay of a rotated token (revoke
    /// the session) or merely an expired or signed-out one.
    pub async fn judge_spent(&self, token_hash: &str) -> Result<Rotation> {
        match self.find_by_hash(token_hash).await? {
            Some(token) if token.replaced_by_token.is_some() => {
                self.revoke_session(&token.user_uuid, &token.session_id)
                    .await?;
                Ok(Rotation::Reused {
                    user_id: token.user_id(),
                    session_id: token.session_uuid(),
                })
            }
            _ => Ok(Rotation::Invalid),
        }
    }

    /// The live token of each active session of a user, newest sign-in first. A session shows
    /// once even in the instant of a rotation, when it briefly has two live tokens.
    pub async fn active_sessions(&self, user_id: Uuid) -> Result<Vec<RefreshTokenDoc>> {
        let filter = doc! {
            "userUuid": user_id.to_string(),
            "revokedAt": null,
            "expiresAt": { "$gt": BsonDateTime::now() },
        };
        let mut tokens: Vec<RefreshTokenDoc> = self.col.find(filter).await?.try_collect().await?;
        tokens.sort_by_key(|token| std::cmp::Reverse((token.session_created_at, token.created_at)));
        let mut seen = std::collections::HashSet::new();
        tokens.retain(|token| seen.insert(token.session_id.clone()));
        Ok(tokens)
    }

    /// Revokes one session's live token; returns whether it was active.
    pub async fn revoke_session(&self, user_uuid: &str, session_id: &str) -> Result<bool> {
        let done = self
            .col
            .update_many(
                doc! { "userUuid": user_uuid, "sessionId": session_id, "revokedAt": null },
                doc! { "$set": { "revokedAt": BsonDateTime::now() } },
            )
            .await?;
        Ok(done.modified_count > 0)
    }

    /// Revokes every active session of a user except `keep`; returns the revoked session ids.
    pub async fn revoke_all(&self, user_id: Uuid, keep: Option<Uuid>) -> Result<Vec<Uuid>> {
        let sessions: Vec<Uuid> = self
            .active_sessions(user_id)
            .await?
            .iter()
            .map(RefreshTokenDoc::session_uuid)
            .filter(|session| Some(*session) != keep)
            .collect();
        if sessions.is_empty() {
            return Ok(sessions);
        }
        let ids: Vec<String> = sessions.iter().map(Uuid::to_string).collect();
        self.col
            .update_many(
                doc! { "userUuid": user_id.to_string(), "sessionId": { "$in": ids }, "revokedAt": null },
                doc! { "$set": { "revokedAt": BsonDateTime::now() } },
            )
            .await?;
        Ok(sessions)
    }

    /// Sessions signed out since `since` (their tokens revoked, not rotated), with when; for
    /// rebuilding the revocation list in Redis.
    pub async fn revoked_since(&self, since: DateTime<Utc>) -> Result<Vec<(Uuid, DateTime<Utc>)>> {
        let filter = doc! {
            "revokedAt": { "$gte": bson_time(since) },
            "replacedByToken": null,
        };
        let tokens: Vec<RefreshTokenDoc> = self.col.find(filter).await?.try_collect().await?;
        Ok(tokens
            .iter()
            .filter_map(|token| Some((token.session_uuid(), token.revoked_at?.to_chrono())))
            .collect())
    }

    /// Removes every token of a user (account deletion).
    pub async fn delete_for_user(&self, user_id: Uuid) -> Result<()> {
        self.col
            .delete_many(doc! { "userUuid": user_id.to_string() })
            .await?;
        Ok(())
    }
}

/// A chrono time as a BSON date.
pub fn bson_time(time: DateTime<Utc>) -> BsonDateTime {
    BsonDateTime::from_chrono(time)
}

impl RefreshTokenStore {
    /// The owner of a token, live or not (for per-account rate limits before rotation).
    pub async fn owner_of(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(self
            .col
            .find_one(doc! { "tokenHash": token_hash })
            .await?
            .map(|token| token.user_uuid))
    }
}
