//! Request and response bodies shared with clients (the frontend mirrors these types).

pub mod friend;
pub mod message;
pub mod user;
pub mod ws;

use serde::{Deserialize, Deserializer};

/// Deserialises a field that distinguishes "absent" (`None`) from "null" (`Some(None)`), so a
/// PATCH can clear a field with `null` and leave it alone by omitting it.
/// Use with `#[serde(default, deserialize_with = "double_option")]`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
