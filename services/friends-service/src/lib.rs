//! friends-service: friend requests, friendships and blocks. Profiles come from user-service's
//! internal batch route; events go out through a MySQL outbox; `user.deleted` events remove a
//! deleted user's rows.

pub mod config;
pub mod db;
pub mod domain;
mod routes;
pub mod startup;
pub mod state;

pub use routes::ApiDoc;

/// Migrations of `chat_friends`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/friends");
