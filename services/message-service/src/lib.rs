//! message-service: conversations (direct and groups), messages and read state in MongoDB,
//! and the real-time WebSocket gateway. Profiles come from user-service's internal batch route
//! and friendships from friends-service's; every change is published to the Redis event
//! stream, which every instance's gateway reads to reach the sockets it holds.

pub mod config;
pub mod db;
pub mod domain;
pub mod gateway;
mod routes;
pub mod startup;
pub mod state;

pub use routes::ApiDoc;
