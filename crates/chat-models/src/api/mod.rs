//! Request and response bodies shared with clients (the frontend mirrors these types).

pub mod friend;
pub mod message;
pub mod oauth;
pub mod push;
pub mod rules;
pub mod search;
pub mod user;
pub mod ws;

use serde::{Deserialize, Deserializer};

use crate::error::{ApiError, FieldError, Result};

/// The page sizes a list route accepts: `default` when the client names none, 1 to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit {
    /// Used when the request has no `limit`.
    pub default: u32,
    /// The largest `limit` accepted.
    pub max: u32,
}

impl PageLimit {
    /// Pages of `default` items unless asked otherwise, at most `max`.
    pub const fn new(default: u32, max: u32) -> Self {
        Self { default, max }
    }

    /// The page size for a request's `limit`; `422` (`limit`: `out_of_range`) outside 1 to
    /// `max`.
    pub fn resolve(self, requested: Option<u32>) -> Result<u32> {
        self.check(requested)
            .map_err(|field| ApiError::Validation(vec![field]))
    }

    /// [`Self::resolve`] for routes that report it with other fields' failures.
    pub fn check(self, requested: Option<u32>) -> Result<u32, FieldError> {
        let limit = requested.unwrap_or(self.default);
        if !(1..=self.max).contains(&limit) {
            return Err(FieldError::new(
                "limit",
                "out_of_range",
                format!("Use a limit from 1 to {}.", self.max),
            ));
        }
        Ok(limit)
    }
}

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

/// Deserialises an optional field that may be absent but not `null` (a PATCH field with
/// nothing to clear). Use with `#[serde(default, deserialize_with = "present")]` and
/// `#[schema(nullable = false)]`.
pub fn present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limits_default_and_stay_in_range() {
        let pages = PageLimit::new(20, 50);
        assert_eq!(pages.resolve(None).unwrap(), 20);
        assert_eq!(pages.resolve(Some(1)).unwrap(), 1);
        assert_eq!(pages.resolve(Some(50)).unwrap(), 50);
        for wrong in [0, 51] {
            let error = pages.resolve(Some(wrong)).unwrap_err();
            assert_eq!(error.code(), crate::ErrorCode::ValidationFailed);
            assert_eq!(error.body().error.details[0].field, "limit");
        }
    }
}
