//! Changing a public profile: the row, then `user.updated` on the event stream, so services
//! that remember profiles (message-service's conversation lists) forget theirs at once.

use chat_models::events::DomainEvent;
use chat_models::Result;
use uuid::Uuid;

use crate::db::users::{self, ProfileChanges};
use crate::state::AppState;

/// Applies `changes` to `user`'s profile and announces it. The change stands if the
/// announcement fails (logged): others then show the old profile until they ask again.
pub async fn update(state: &AppState, user: Uuid, changes: ProfileChanges) -> Result<()> {
    users::update_profile(&state.db, user, changes).await?;
    let announced = state
        .events
        .publish(DomainEvent::UserUpdated { user_uuid: user })
        .await;
    if let Err(error) = announced {
        tracing::warn!(error = %error, user_id = %user, "user.updated not published");
    }
    Ok(())
}
