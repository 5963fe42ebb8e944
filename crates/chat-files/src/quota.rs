//! [`Quota`]: how many bytes of files each user keeps, with a cap that two parallel uploads
//! cannot both slip under. Each user's total is one document (`storage_usage`), and a
//! reservation is one conditional increment: it applies only while the total stays within
//! the cap, so of two uploads that do not both fit exactly one passes.

use bson::doc;
use chat_models::ApiError;
use mongodb::Collection;
use serde::{Deserialize, Serialize};

/// One user's total.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsageDoc {
    /// The user's uuid.
    #[serde(rename = "_id")]
    pub owner: String,
    /// Bytes kept.
    pub bytes: i64,
}

/// Per-user byte totals under a cap.
#[derive(Debug, Clone)]
pub struct Quota {
    usage: Collection<UsageDoc>,
    /// Most bytes one user may keep.
    pub limit: u64,
}

impl Quota {
    /// Totals in `usage`, capped at `limit` bytes per user.
    pub fn new(usage: Collection<UsageDoc>, limit: u64) -> Self {
        Self { usage, limit }
    }

    /// Adds `bytes` to `owner`'s total if it stays within the cap; `false` if it would not.
    pub async fn reserve(&self, owner: &str, bytes: u64) -> Result<bool, ApiError> {
        let Some(room) = self.limit.checked_sub(bytes) else {
            return Ok(false);
        };
        let (bytes, room) = (to_i64(bytes), to_i64(room));
        // The total exists before it is compared (two first uploads may both create it: one
        // insert wins, the other finds it there).
        if let Err(error) = self
            .usage
            .update_one(
                doc! { "_id": owner },
                doc! { "$setOnInsert": { "bytes": 0_i64 } },
            )
            .upsert(true)
            .await
        {
            if !is_duplicate(&error) {
                return Err(ApiError::unavailable(error));
            }
        }
        let reserved = self
            .usage
            .update_one(
                doc! { "_id": owner, "bytes": { "$lte": room } },
                doc! { "$inc": { "bytes": bytes } },
            )
            .await
            .map_err(ApiError::unavailable)?;
        Ok(reserved.modified_count == 1)
    }

    /// Takes `bytes` off `owner`'s total (a file was removed).
    pub async fn release(&self, owner: &str, bytes: u64) -> Result<(), ApiError> {
        self.usage
            .update_one(
                doc! { "_id": owner },
                doc! { "$inc": { "bytes": -to_i64(bytes) } },
            )
            .await
            .map_err(ApiError::unavailable)?;
        Ok(())
    }

    /// Bytes `owner` keeps.
    pub async fn used(&self, owner: &str) -> Result<u64, ApiError> {
        let usage = self
            .usage
            .find_one(doc! { "_id": owner })
            .await
            .map_err(ApiError::unavailable)?;
        Ok(usage.map_or(0, |usage| u64::try_from(usage.bytes).unwrap_or(0)))
    }

    /// Forgets `owner`'s total (a deleted account).
    pub async fn forget(&self, owner: &str) -> Result<(), ApiError> {
        self.usage
            .delete_one(doc! { "_id": owner })
            .await
            .map_err(ApiError::unavailable)?;
        Ok(())
    }
}

fn to_i64(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

fn is_duplicate(error: &mongodb::error::Error) -> bool {
    matches!(
        error.kind.as_ref(),
        mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(write))
            if write.code == 11000
    )
}
