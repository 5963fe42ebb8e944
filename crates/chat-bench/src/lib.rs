//! The chat platform's load generator: scenarios that drive a running stack over its public
//! HTTP and WebSocket APIs and return their results as JSON (see `docs/benchmarks.md`).
//!
//! 1. [`fanout`]: WebSocket message fan-out, latency, lost and duplicated deliveries;
//! 2. [`connections`]: idle WebSockets, connect rate, server memory per socket;
//! 3. [`http`]: authenticated reads and writes at increasing concurrency;
//! 4. [`flood`]: scenario 3 with and without a login flood, and what the flood gets back;
//! 5. [`resume`]: clients dropping and resuming while messages flow;
//! 7. [`push`]: web pushes to a group whose members are all away, decrypted as a browser would;
//! 8. [`uploads`]: large attachments uploaded at once, throughput and server memory;
//! 9. [`sends`]: one busy group, sends spread over conversations, and the store's raw cost;
//! 10. [`ceiling`]: fan-out at rising rates until p99 passes a bound or a delivery is lost;
//! 11. [`scale`]: the conversation list by page size, and history, unread and resume by size;
//! 12. [`instances`]: CPU per delivered frame with 1, 2 and 4 instances at the same load each.
//!
//! (6, search, is message-service's `search_bench` example: the index alone, no servers.)

pub mod ceiling;
pub mod chart;
pub mod connections;
pub mod fanout;
pub mod flood;
pub mod http;
pub mod instances;
pub mod push;
pub mod resume;
pub mod scale;
pub mod sends;
pub mod setup;
pub mod stats;
pub mod uploads;
pub mod ws;
