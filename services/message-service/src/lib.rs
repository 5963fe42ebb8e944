//! message-service: conversations (direct and groups), messages and read state in MongoDB.
//! Profiles come from user-service's internal batch route and friendships from
//! friends-service's; every change is published to the Redis event stream for the real-time
//! gateway.

pub mod config;
pub mod db;
pub mod domain;
mod routes;
pub mod startup;
pub mod state;

pub use routes::ApiDoc;
