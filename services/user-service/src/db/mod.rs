//! Storage: accounts in MySQL (`users`; events go through `chat_models::outbox`), refresh
//! tokens in MongoDB.

pub mod identities;
pub mod refresh_tokens;
pub mod users;
