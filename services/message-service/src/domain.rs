//! Rules without I/O: validation of ids, texts, names and nonces, previews, page sizes and
//! cursors, the direct-conversation key, and who becomes admin when the admin leaves.

use bson::oid::ObjectId;
use chat_models::api::rules;
use chat_models::api::PageLimit;
use chat_models::{ApiError, ErrorCode, FieldError, Result};
use uuid::Uuid;

/// Conversation list pages: 20 unless asked, at most 50.
pub const LIST_PAGES: PageLimit = PageLimit::new(20, 50);
/// History pages: 50 messages unless asked, at most 100.
pub const HISTORY_PAGES: PageLimit = PageLimit::new(50, 100);

/// Longest message, in characters after trimming.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Longest preview in conversation lists, in characters (`…` added when cut).
pub const PREVIEW_CHARS: usize = 100;
/// Longest group name.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest group description.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// Longest client nonce.
pub const MAX_NONCE_CHARS: usize = 64;
/// Most members one message may mention by name.
pub const MAX_MENTIONS: usize = 50;
/// Changes pages: 100 messages unless asked, at most 100.
pub const CHANGES_PAGES: PageLimit = PageLimit::new(100, 100);

/// A message text: 1-4000 characters as sent, not blank; stored without the blanks around it.
pub fn message_text(field: &'static str, text: &str) -> Result<String> {
    if rules::is_blank(text) {
        return Err(ApiError::field(field, "empty", "Write something first."));
    }
    if rules::length(text) > MAX_TEXT_CHARS {
        return Err(ApiError::field(
            field,
            "too_long",
            format!("Use at most {MAX_TEXT_CHARS} characters."),
        ));
    }
    Ok(rules::trim_blank(text).to_owned())
}

/// Text that may be empty (a message with attachments), else as [`message_text`].
pub fn optional_text(field: &'static str, text: &str) -> Result<String> {
    if rules::is_blank(text) {
        return Ok(String::new());
    }
    message_text(field, text)
}

/// Most files one message carries.
pub const MAX_ATTACHMENTS: usize = 10;

/// The uploads a send attaches: at most [`MAX_ATTACHMENTS`], each named once; a malformed id
/// is as unknown as one that is not the sender's.
pub fn attachment_ids(ids: &[String]) -> Result<Vec<ObjectId>> {
    if ids.len() > MAX_ATTACHMENTS {
        return Err(ApiError::field(
            "attachment_ids",
            "too_many",
            format!("Attach at most {MAX_ATTACHMENTS} files to one message."),
        ));
    }
    let mut parsed: Vec<ObjectId> = Vec::with_capacity(ids.len());
    for id in ids {
        let id = ObjectId::parse_str(id)
            .map_err(|_| ApiError::NotFound(ErrorCode::AttachmentNotFound))?;
        if parsed.contains(&id) {
            return Err(ApiError::field(
                "attachment_ids",
                "duplicate",
                "Attach each file once.",
            ));
        }
        parsed.push(id);
    }
    Ok(parsed)
}

/// A reaction: exactly one emoji (skin tones and other variants included).
pub fn emoji(value: &str) -> Result<String> {
    emojis::get(value)
        .map(|emoji| emoji.as_str().to_owned())
        .ok_or_else(|| ApiError::field("emoji", "invalid", "React with one emoji."))
}

/// A client nonce: 1-64 visible ASCII characters.
pub fn nonce(nonce: Option<&str>) -> Result<Option<String>> {
    let Some(nonce) = nonce else {
        return Ok(None);
    };
    if !rules::is_nonce(nonce) {
        return Err(ApiError::field(
            "nonce",
            "invalid",
            format!("Use 1-{MAX_NONCE_CHARS} visible ASCII characters."),
        ));
    }
    Ok(Some(nonce.to_owned()))
}

/// A group name: 1-100 characters as sent, not blank; stored without the blanks around it.
pub fn group_name(name: &str) -> Result<String> {
    if rules::is_blank(name) {
        return Err(ApiError::field("name", "empty", "Give the group a name."));
    }
    if rules::length(name) > MAX_NAME_CHARS {
        return Err(ApiError::field(
            "name",
            "too_long",
            format!("Use at most {MAX_NAME_CHARS} characters."),
        ));
    }
    Ok(rules::trim_blank(name).to_owned())
}

/// A description: up to 1000 characters as sent; blank means none.
pub fn description(description: Option<&str>) -> Result<Option<String>> {
    let Some(description) = description else {
        return Ok(None);
    };
    if rules::length(description) > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::field(
            "description",
            "too_long",
            format!("Use at most {MAX_DESCRIPTION_CHARS} characters."),
        ));
    }
    let description = rules::trim_blank(description);
    Ok((!description.is_empty()).then(|| description.to_owned()))
}

/// A picture URL ([`rules::PICTURE_URL`]); blank means none.
pub fn picture(picture: Option<&str>) -> Result<Option<String>> {
    let Some(picture) = picture.filter(|text| !rules::is_blank(text)) else {
        return Ok(None);
    };
    if !rules::is_picture_url(picture) {
        return Err(ApiError::field(
            "picture",
            "invalid_url",
            "Use an http(s) URL of at most 2048 characters.",
        ));
    }
    Ok(Some(picture.to_owned()))
}

/// The list preview of a text: at most 100 characters, `…` when cut.
pub fn preview(text: &str) -> String {
    match head_if_longer(text, PREVIEW_CHARS) {
        Some(head) => format!("{head}…"),
        None => text.to_owned(),
    }
}

/// What stands for a message without text: its first file's name, and how many more
/// (`📎 photo.jpg`, `📎 photo.jpg +2`).
pub fn files_summary(first: &str, count: usize) -> String {
    match count.saturating_sub(1) {
        0 => format!("📎 {first}"),
        more => format!("📎 {first} +{more}"),
    }
}

/// The first `max` characters of a text longer than that; `None` when it fits.
pub fn head_if_longer(text: &str, max: usize) -> Option<&str> {
    text.char_indices().nth(max).map(|(end, _)| &text[..end])
}

/// The key that makes a direct conversation unique per pair, whoever opens it.
pub fn direct_key(a: Uuid, b: Uuid) -> String {
    let (a, b) = (a.hyphenated().to_string(), b.hyphenated().to_string());
    if a < b {
        format!("{a}:{b}")
    } else {
        format!("{b}:{a}")
    }
}

/// A conversation id from a path or frame; a malformed one is simply not found.
pub fn conversation_id(raw: &str) -> Result<ObjectId> {
    object_id("path", raw, ErrorCode::ConversationNotFound)
}

/// A message id from a path or frame; a malformed one is simply not found.
pub fn message_id(raw: &str) -> Result<ObjectId> {
    object_id("path", raw, ErrorCode::MessageNotFound)
}

/// A conversation or message id from a path or body (24 hex characters).
pub fn object_id(field: &'static str, value: &str, missing: ErrorCode) -> Result<ObjectId> {
    ObjectId::parse_str(value).map_err(|_| {
        if field == "path" {
            ApiError::NotFound(missing)
        } else {
            ApiError::field(
                field,
                "invalid_id",
                "Use an id of 24 hexadecimal characters.",
            )
        }
    })
}

/// Members after `leaver` leaves, and who is admin then: the admin stays unless it is the
/// leaver, in which case the longest-standing remaining member takes over.
pub fn after_leaving(
    participants: &[Uuid],
    admin: Option<Uuid>,
    leaver: Uuid,
) -> (Vec<Uuid>, Option<Uuid>) {
    let remaining: Vec<Uuid> = participants
        .iter()
        .copied()
        .filter(|member| *member != leaver)
        .collect();
    let admin = match admin {
        Some(admin) if admin != leaver && remaining.contains(&admin) => Some(admin),
        _ => remaining.first().copied(),
    };
    (remaining, admin)
}

/// The position in the conversation list: `updatedAt` (ms) and id, as an opaque cursor.
pub fn list_cursor(updated_at_ms: i64, id: &ObjectId) -> String {
    format!("{updated_at_ms}_{}", id.to_hex())
}

/// Reads a cursor made by [`list_cursor`].
pub fn parse_list_cursor(cursor: &str) -> Result<(i64, ObjectId)> {
    let invalid = || {
        ApiError::Validation(vec![FieldError::new(
            "cursor",
            "invalid",
            "Pass the next_cursor of the previous page.",
        )])
    };
    if !rules::is_list_cursor(cursor) {
        return Err(invalid());
    }
    let (millis, id) = cursor.split_once('_').ok_or_else(invalid)?;
    let millis = millis.parse().map_err(|_| invalid())?;
    let id = ObjectId::parse_str(id).map_err(|_| invalid())?;
    Ok((millis, id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn texts_are_trimmed_and_bounded_in_characters() {
        assert_eq!(message_text("text", "  hi \n").unwrap(), "hi");
        assert!(message_text("text", " \n\t ").is_err());
        assert!(message_text("text", &"é".repeat(4000)).is_ok());
        assert!(message_text("text", &"é".repeat(4001)).is_err());
    }

    #[test]
    fn previews_cut_at_100_characters() {
        assert_eq!(preview("short"), "short");
        let long = "ß".repeat(150);
        let cut = preview(&long);
        assert_eq!(cut.chars().count(), 101);
        assert!(cut.ends_with('…'));
        assert_eq!(preview(&"a".repeat(100)), "a".repeat(100));
    }

    #[test]
    fn the_direct_key_ignores_who_opens() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(direct_key(a, b), direct_key(b, a));
        assert_ne!(direct_key(a, b), direct_key(a, Uuid::new_v4()));
    }

    #[test]
    fn a_leaving_admin_hands_over_to_the_longest_member() {
        let [a, b, c] = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
        let members = [a, b, c];
        assert_eq!(after_leaving(&members, Some(a), a), (vec![b, c], Some(b)));
        assert_eq!(after_leaving(&members, Some(a), c), (vec![a, b], Some(a)));
        assert_eq!(after_leaving(&[a], Some(a), a), (vec![], None));
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = ObjectId::new();
        assert_eq!(
            parse_list_cursor(&list_cursor(1_700_000_000_000, &id)).unwrap(),
            (1_700_000_000_000, id)
        );
        assert!(parse_list_cursor("nonsense").is_err());
        assert!(parse_list_cursor("12_zz").is_err());
    }

    #[test]
    fn nonces_are_short_visible_ascii() {
        assert_eq!(nonce(Some("abc-1")).unwrap().as_deref(), Some("abc-1"));
        assert!(nonce(Some("")).is_err());
        assert!(nonce(Some("has space")).is_err());
        assert!(nonce(Some(&"x".repeat(65))).is_err());
        assert_eq!(nonce(None).unwrap(), None);
    }

    #[test]
    fn reactions_are_single_emoji() {
        assert_eq!(emoji("👍").unwrap(), "👍");
        assert_eq!(emoji("👍🏽").unwrap(), "👍🏽");
        assert!(emoji("👍👍").is_err());
        assert!(emoji("thumbs").is_err());
        assert!(emoji("").is_err());
    }

    #[test]
    fn pictures_must_be_web_urls() {
        assert!(picture(Some("https://x.test/a.png")).unwrap().is_some());
        assert!(picture(Some("javascript:alert(1)")).is_err());
        assert_eq!(picture(Some("  ")).unwrap(), None);
    }
}
