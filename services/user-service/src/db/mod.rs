//! Storage: accounts in MySQL (`users`; events go through `chat_models::outbox`), refresh
//! tokens in MongoDB.

pub mod refresh_tokens;
pub mod users;
