//! What a field accepts, said once for the services and the OpenAPI documents alike: the
//! services check these patterns and lengths, and the documents declare the same ones (the
//! schema attributes repeat the literals; the tests below compare the generated schemas with
//! the constants, so the two cannot drift). A client that follows the document is never
//! refused for the shape of a field, and anything the document rules out is refused.
//!
//! Lengths count Unicode scalar values, as JSON Schema's `minLength`/`maxLength` do. "Blank"
//! means made only of spaces, tabs and line breaks (the same four characters everywhere, so
//! the document's pattern and the server agree on every string).

use std::sync::LazyLock;

use regex::Regex;

/// A username: 3-32 of `A-Z a-z 0-9 _ . -`.
pub const USERNAME: &str = "^[A-Za-z0-9_.-]{3,32}$";
/// An email address (at most [`EMAIL_MAX`] characters): a local part of up to 64 characters
/// of `A-Z a-z 0-9 . _ % + -`, `@`, dot-separated domain labels and a final label of letters.
pub const EMAIL: &str = r"^[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$";
/// Longest email address.
pub const EMAIL_MAX: usize = 254;
/// A picture URL (at most [`URL_MAX`] characters): `http(s)://` and printable ASCII without
/// spaces, or blank (no picture).
pub const PICTURE_URL: &str = r"^([ \t\n\r]*|https?://[!-~]+)$";
/// Longest picture URL.
pub const URL_MAX: usize = 2048;
/// Contains something other than spaces, tabs and line breaks.
pub const NOT_BLANK: &str = r"[^ \t\n\r]";
/// A client's nonce: 1-64 printable ASCII characters.
pub const NONCE: &str = "^[!-~]{1,64}$";
/// A MongoDB object id (conversations, messages): 24 hex digits.
pub const OBJECT_ID: &str = "^[0-9a-fA-F]{24}$";
/// A conversation list cursor: milliseconds, `_`, an object id.
pub const LIST_CURSOR: &str = "^[0-9]{1,18}_[0-9a-fA-F]{24}$";

fn compiled(pattern: &'static str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|error| panic!("rule {pattern:?}: {error}"))
}

static USERNAME_RE: LazyLock<Regex> = LazyLock::new(|| compiled(USERNAME));
static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| compiled(EMAIL));
static PICTURE_URL_RE: LazyLock<Regex> = LazyLock::new(|| compiled(PICTURE_URL));
static NONCE_RE: LazyLock<Regex> = LazyLock::new(|| compiled(NONCE));
static LIST_CURSOR_RE: LazyLock<Regex> = LazyLock::new(|| compiled(LIST_CURSOR));

/// Whether `value` is a username.
pub fn is_username(value: &str) -> bool {
    USERNAME_RE.is_match(value)
}

/// Whether `value` is an email address.
pub fn is_email(value: &str) -> bool {
    value.chars().count() <= EMAIL_MAX && EMAIL_RE.is_match(value)
}

/// Whether `value` is a picture URL (or blank).
pub fn is_picture_url(value: &str) -> bool {
    value.chars().count() <= URL_MAX && PICTURE_URL_RE.is_match(value)
}

/// Whether `value` is a nonce.
pub fn is_nonce(value: &str) -> bool {
    NONCE_RE.is_match(value)
}

/// Whether `value` is a conversation list cursor.
pub fn is_list_cursor(value: &str) -> bool {
    LIST_CURSOR_RE.is_match(value)
}

/// The characters "blank" is made of.
pub fn is_blank_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Whether `value` is blank (empty included).
pub fn is_blank(value: &str) -> bool {
    value.chars().all(is_blank_char)
}

/// `value` without blank characters around it.
pub fn trim_blank(value: &str) -> &str {
    value.trim_matches(is_blank_char)
}

/// The length of `value` as documents count it.
pub fn length(value: &str) -> usize {
    value.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_accept_and_refuse_what_they_say() {
        assert!(is_username("ann.b-c_9"));
        assert!(!is_username("an") && !is_username(" ann") && !is_username("ann!"));
        assert!(is_email("Ann.B+tag@mail.example.com"));
        for bad in [
            "ann",
            "ann@example",
            "@example.com",
            " ann@example.com",
            "a@b.c0",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(!is_email(&format!("{}@example.com", "a".repeat(65))));
        assert!(is_picture_url("") && is_picture_url(" \n"));
        assert!(is_picture_url("https://img.test/a.png?x=1"));
        assert!(!is_picture_url("ftp://x") && !is_picture_url("https://a b"));
        assert!(!is_picture_url(&format!("https://{}", "a".repeat(URL_MAX))));
        assert!(is_nonce("n-1") && !is_nonce("") && !is_nonce("é"));
        assert!(is_blank(" \t\r\n") && !is_blank("\u{3000}"));
        assert_eq!(trim_blank("\n hi \t"), "hi");
    }

    /// The schema attributes repeat these literals: the generated schemas must say the same.
    #[test]
    fn the_documents_declare_these_rules() {
        use utoipa::PartialSchema as _;
        let register = serde_json::to_value(crate::api::user::RegisterRequest::schema()).unwrap();
        let properties = &register["properties"];
        assert_eq!(properties["username"]["pattern"], USERNAME);
        assert_eq!(properties["email"]["pattern"], EMAIL);
        assert_eq!(properties["email"]["maxLength"], EMAIL_MAX);
        let update = serde_json::to_value(crate::api::user::UpdateMeRequest::schema()).unwrap();
        assert_eq!(
            update["properties"]["profile_picture"]["pattern"],
            PICTURE_URL
        );
        assert_eq!(
            update["properties"]["profile_picture"]["maxLength"],
            URL_MAX
        );
        let send = serde_json::to_value(crate::api::message::SendMessage::schema()).unwrap();
        // A send's text may be blank when it carries attachments; an edit's may not.
        assert!(send["properties"]["text"]["pattern"].is_null());
        let edit = serde_json::to_value(crate::api::message::EditMessage::schema()).unwrap();
        assert_eq!(edit["properties"]["text"]["pattern"], NOT_BLANK);
        assert_eq!(send["properties"]["nonce"]["pattern"], NONCE);
        assert_eq!(send["properties"]["reply_to"]["pattern"], OBJECT_ID);
        let group = serde_json::to_value(crate::api::message::CreateGroup::schema()).unwrap();
        assert_eq!(group["properties"]["name"]["pattern"], NOT_BLANK);
    }
}
