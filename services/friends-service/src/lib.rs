//! friends-service: friend requests, friendships and blocks (issue 3, in progress).
//!
//! What is here so far: the schema (`migrations/friends`), the relationship rules as pure
//! functions, and the queries that read a pair's facts. Routes, the user-service client and
//! the `user.deleted` consumer come next; there is no binary until they do.

pub mod db;
pub mod domain;

/// Migrations of `chat_friends`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/friends");
