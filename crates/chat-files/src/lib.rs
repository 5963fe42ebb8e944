//! Files of the chat services, on one storage layer: avatars (user-service), message
//! attachments and group pictures (message-service).
//!
//! - [`storage`]: where bytes live, a local directory or any S3-compatible store
//!   ([`object_store`]), chosen by [`StorageConfig`].
//! - [`intake`]: an upload body read as it streams, cut off at its size limit, its type
//!   sniffed from the bytes, then either streamed into storage as it is or, for images,
//!   handed to [`images`].
//! - [`images`]: decoding under pixel and memory limits, orientation applied, metadata
//!   stripped by re-encoding, a thumbnail.
//! - [`records`]: the metadata of a stored file in MongoDB ([`FileDoc`]).
//! - [`serve`]: download responses (`Range`, caching, the headers that keep a file from
//!   running as a page).

pub mod images;
pub mod intake;
pub mod quota;
pub mod records;
pub mod serve;
pub mod sniff;
pub mod storage;

pub use intake::{Intake, IntakeLimits, Received};
pub use quota::Quota;
pub use records::{FileDoc, FileKind, ThumbnailDoc};
pub use storage::{Storage, StorageConfig};
