//! Validated account fields. Each `parse` turns raw input into a value that is known to be valid,
//! or into a field error with a stable code.

use chat_models::api::rules;
use chat_models::{ApiError, FieldError};
use secrecy::{ExposeSecret, SecretString};

/// 3-32 characters of `A-Z a-z 0-9 _ . -` ([`rules::USERNAME`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Validates a username, exactly as sent (the document's pattern allows no spaces).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let length = rules::length(raw);
        if length < 3 {
            return Err(FieldError::new(
                "username",
                "too_short",
                "Use at least 3 characters.",
            ));
        }
        if length > 32 {
            return Err(FieldError::new(
                "username",
                "too_long",
                "Use at most 32 characters.",
            ));
        }
        if !rules::is_username(raw) {
            return Err(FieldError::new(
                "username",
                "invalid_characters",
                "Use only letters, digits, '_', '.' and '-'.",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The username as given (case preserved).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address ([`rules::EMAIL`]), lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Validates and normalises an address.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if rules::length(raw) > rules::EMAIL_MAX {
            return Err(FieldError::new(
                "email",
                "too_long",
                "Use at most 254 characters.",
            ));
        }
        if !rules::is_email(raw) {
            return Err(FieldError::new(
                "email",
                "invalid_format",
                "This is not a valid email address.",
            ));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 8-128 characters (counted as Unicode scalar values). Never trimmed, never logged.
pub struct Password(SecretString);

impl Password {
    /// Validates a new password. `field` names it in errors (`password`, `new_password`).
    pub fn parse(raw: String, field: &'static str) -> Result<Self, FieldError> {
        let length = raw.chars().count();
        if length < 8 {
            return Err(FieldError::new(
                field,
                "too_short",
                "Use at least 8 characters.",
            ));
        }
        if length > 128 {
            return Err(FieldError::new(
                field,
                "too_long",
                "Use at most 128 characters.",
            ));
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// The secret, for hashing.
    pub fn into_secret(self) -> SecretString {
        self.0
    }

    /// Whether two passwords are equal (to refuse a "change" to the same one).
    pub fn same_as(&self, other: &str) -> bool {
        self.0.expose_secret() == other
    }
}

/// Up to 500 characters; blank means no bio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bio(Option<String>);

impl Bio {
    /// Validates a bio (its length as sent); `None` or blank clears it, else it is kept
    /// without the blanks around it.
    pub fn parse(raw: Option<&str>) -> Result<Self, FieldError> {
        if raw.is_some_and(|value| rules::length(value) > 500) {
            return Err(FieldError::new(
                "bio",
                "too_long",
                "Use at most 500 characters.",
            ));
        }
        let value = raw.map(rules::trim_blank).filter(|value| !value.is_empty());
        Ok(Self(value.map(str::to_owned)))
    }

    /// The bio, if any.
    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

/// An `http(s)://` avatar URL ([`rules::PICTURE_URL`]), or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfilePicture(Option<String>);

impl ProfilePicture {
    /// Validates an avatar URL; `None` or blank clears it.
    pub fn parse(raw: Option<&str>) -> Result<Self, FieldError> {
        let Some(value) = raw.filter(|value| !rules::is_blank(value)) else {
            return Ok(Self(None));
        };
        if rules::length(value) > rules::URL_MAX {
            return Err(FieldError::new(
                "profile_picture",
                "too_long",
                "Use at most 2048 characters.",
            ));
        }
        if !rules::is_picture_url(value) {
            return Err(FieldError::new(
                "profile_picture",
                "invalid_url",
                "Use an http(s):// URL.",
            ));
        }
        Ok(Self(Some(value.to_owned())))
    }

    /// The URL, if any.
    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

/// Collects field errors so a request reports all of them at once.
#[derive(Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    /// Keeps the value, or records its error.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|error| self.0.push(error)).ok()
    }

    /// `Ok` when nothing failed, else a 422 listing every failure.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_length_and_charset_rules() {
        assert_eq!(Username::parse("ann_1.x-y").unwrap().as_str(), "ann_1.x-y");
        assert_eq!(Username::parse("ab").unwrap_err().code, "too_short");
        assert_eq!(
            Username::parse(&"a".repeat(33)).unwrap_err().code,
            "too_long"
        );
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        for bad in [
            "bad name",
            "émile",
            "a@b.c",
            "semi;colon",
            "tab\tx",
            " ann ",
        ] {
            assert_eq!(
                Username::parse(bad).unwrap_err().code,
                "invalid_characters",
                "{bad}"
            );
        }
    }

    #[test]
    fn emails_are_validated_and_lowercased() {
        assert_eq!(
            Email::parse("Ann@Example.COM").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            " ann@example.com",
            "ann",
            "ann@",
            "@example.com",
            "ann@@example.com",
            "a b@example.com",
        ] {
            assert_eq!(
                Email::parse(bad).unwrap_err().code,
                "invalid_format",
                "{bad}"
            );
        }
    }

    #[test]
    fn passwords_are_8_to_128_chars() {
        assert_eq!(
            Password::parse("1234567".into(), "password")
                .err()
                .unwrap()
                .code,
            "too_short"
        );
        assert!(Password::parse("12345678".into(), "password").is_ok());
        assert!(Password::parse("é".repeat(128), "password").is_ok());
        assert_eq!(
            Password::parse("x".repeat(129), "password")
                .err()
                .unwrap()
                .code,
            "too_long"
        );
    }

    #[test]
    fn bios_can_be_cleared_and_are_capped() {
        assert_eq!(Bio::parse(Some("  ")).unwrap().into_inner(), None);
        assert_eq!(Bio::parse(None).unwrap().into_inner(), None);
        assert_eq!(
            Bio::parse(Some(" hi ")).unwrap().into_inner().as_deref(),
            Some("hi")
        );
        assert!(Bio::parse(Some(&"b".repeat(500))).is_ok());
        assert_eq!(
            Bio::parse(Some(&"b".repeat(501))).unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn profile_pictures_must_be_http_urls() {
        assert!(ProfilePicture::parse(Some("https://cdn.example/a.png")).is_ok());
        assert_eq!(
            ProfilePicture::parse(Some("javascript:alert(1)"))
                .unwrap_err()
                .code,
            "invalid_url"
        );
        assert_eq!(ProfilePicture::parse(None).unwrap().into_inner(), None);
    }
}
