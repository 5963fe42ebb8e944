//! message-service against real MongoDB (or secantusd-rs), MariaDB and Redis, with user- and
//! friends-service running in the same process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench_smoke;
mod changes;
mod conversations;
mod faults;
mod files;
mod limits;
mod messages;
mod previews;
mod push;
mod search;
mod shared;
mod turns;
mod unread;
mod ws;
