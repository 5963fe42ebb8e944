//! message-service: conversations (direct and groups), messages and read state in MongoDB,
//! and the real-time WebSocket gateway. Profiles come from user-service's internal batch route
//! and friendships from friends-service's; every change is published to the Redis event
//! stream, which every instance's gateway reads to reach the sockets it holds.
//!
//! Layout: use cases in [`conversations`], [`groups`], [`messaging`], [`reactions`], [`pins`],
//! [`catch_up`], [`search`], [`previews`], [`notifications`] (delivered by [`push`]) and [`event_handlers`] (with [`views`]), over the store in [`db`] and the rules in [`domain`]; the REST routes
//! (`routes`) and the [`gateway`] are adapters over the use cases and never call each other;
//! [`startup`] assembles them.

pub mod catch_up;
pub mod config;
pub mod conversations;
pub mod db;
pub mod domain;
pub mod egress;
pub mod event_handlers;
pub mod files;
pub mod gateway;
pub mod groups;
pub mod limits;
pub mod memberships;
pub mod messaging;
pub mod notices;
pub mod notifications;
pub mod outbox;
pub mod pins;
pub mod presence;
pub mod previews;
pub mod push;
pub mod reactions;
mod routes;
pub mod search;
pub mod startup;
pub mod state;
pub mod views;

pub use routes::{ApiDoc, UPLOAD_ROUTES};
