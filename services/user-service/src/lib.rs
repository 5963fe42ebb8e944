//! user-service: accounts, sign-in with rotating refresh tokens, sessions, profiles and user
//! lookups for the chat platform. The binary is a thin `main`; everything lives here so tests
//! can start the real application.

pub mod avatars;
pub mod config;
pub mod db;
pub mod domain;
pub mod oauth;
pub mod password;
pub mod profiles;
pub mod revocations;
mod routes;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod tokens;

pub use routes::{ApiDoc, UPLOAD_ROUTES};
