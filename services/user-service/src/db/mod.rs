//! Storage: accounts in MySQL (`users`, `outbox_events`), refresh tokens in MongoDB.

pub mod outbox;
pub mod refresh_tokens;
pub mod users;
