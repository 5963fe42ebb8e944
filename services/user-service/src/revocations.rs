//! The revocation list in Redis, kept complete: Redis may lose its data (a restart without
//! persistence), and a signed-out session must not come back then. user-service rewrites
//! every revocation still in force from MongoDB at start-up and whenever the list's marker is
//! gone (checked every second); meanwhile every service refuses authenticated requests with
//! `503` rather than accept a token it cannot check.

use std::time::Duration;

use chat_models::auth::SessionRevocations;
use chat_models::Result;

use crate::db::refresh_tokens::RefreshTokenStore;

/// How often the marker is checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Writes the revocations still in force and the marker; returns how many.
pub async fn seed(tokens: &RefreshTokenStore, revocations: &SessionRevocations) -> Result<usize> {
    let ttl = revocations.ttl();
    let now = chrono::Utc::now();
    let since = now - chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    let in_force: Vec<_> = tokens
        .revoked_since(since)
        .await?
        .into_iter()
        .filter_map(|(session, at)| {
            // Kept as long as it would have been from the sign-out on.
            let elapsed = (now - at).to_std().unwrap_or_default();
            Some((session, ttl.checked_sub(elapsed)?))
        })
        .collect();
    revocations.seed(&in_force).await?;
    Ok(in_force.len())
}

/// Re-seeds the list whenever its marker is missing, until the task is dropped.
pub async fn keep_seeded(tokens: RefreshTokenStore, revocations: SessionRevocations) {
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        match revocations.is_seeded().await {
            Ok(true) => {}
            Ok(false) => match seed(&tokens, &revocations).await {
                Ok(count) => tracing::warn!(count, "the revocation list was gone; rebuilt it"),
                Err(error) => {
                    tracing::warn!(error = %error, "cannot rebuild the revocation list yet")
                }
            },
            Err(error) => tracing::debug!(error = %error, "revocation list not checked"),
        }
    }
}
