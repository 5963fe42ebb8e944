//! Integration tests of friends-service against real MariaDB, Redis, MongoDB (or secantusd-rs)
//! and a real user-service running in the same process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod blocks;
mod keys;
mod requests;
