//! Shared ground of the chat services: wire types (DTOs and events), the error type every route
//! answers with, JWT verification and the auth extractor, rate limiting, and the HTTP/telemetry
//! plumbing each service wires the same way.

pub mod api;
pub mod auth;
#[cfg(feature = "client")]
pub mod clients;
pub mod config;
pub mod error;
pub mod events;
pub mod http;
pub mod metrics;
#[cfg(feature = "mysql")]
pub mod outbox;
pub mod ratelimit;
pub mod telemetry;
#[cfg(feature = "test-util")]
pub mod testing;

pub use error::{ApiError, ErrorCode, FieldError, Result};
