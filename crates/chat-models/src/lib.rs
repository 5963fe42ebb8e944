//! Shared ground of the chat services.
//!
//! Without features it is the wire vocabulary: request and response bodies and WebSocket frames
//! ([`api`]), the events services tell each other ([`events`]), the error every route answers
//! with ([`error`]) and access-token verification ([`auth`]). Features add what a service runs
//! on: `redis` (event stream, rate limits, revocations), `server` (axum plumbing, shared
//! configuration, health, the service skeleton), `mysql`, `mongo` and `client` (calls to the
//! other services' internal routes).

pub mod api;
pub mod auth;
#[cfg(feature = "client")]
pub mod clients;
pub mod config;
#[cfg(feature = "server")]
pub mod docs;
pub mod error;
pub mod events;
#[cfg(feature = "server")]
pub mod health;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "redis")]
pub mod memory;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "mysql")]
pub mod outbox;
#[cfg(feature = "redis")]
pub mod ratelimit;
#[cfg(feature = "server")]
pub mod serve;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod telemetry;
#[cfg(feature = "test-util")]
pub mod testing;

pub use error::{ApiError, ErrorCode, FieldError, Result};
