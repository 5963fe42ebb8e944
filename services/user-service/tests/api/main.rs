//! Integration tests of user-service against real MariaDB, MongoDB (or secantusd-rs) and Redis.
//! Each test starts the real application on its own database, Mongo database and Redis prefix.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod avatars;
mod connections;
mod errors;
mod internal;
mod oauth;
mod profile;
mod sessions;
mod tokens;
mod users;
