//! Download responses: one `Range` (`206`, or `416` when it is past the end), `ETag` with
//! `If-None-Match` (`304`), caching for files that never change under their URL, and the
//! headers that keep a file from acting as a page: `nosniff`, `Content-Security-Policy:
//! sandbox`, and `Content-Disposition: attachment` for anything but the raster images we
//! produced ourselves, so SVG, HTML or PDF are downloaded, never shown inline from our origin.

use axum::body::Body;
use axum::response::{IntoResponse as _, Response};
use chat_models::ApiError;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::records::FileDoc;
use crate::storage::{ByteRange, Storage};

/// Which bytes of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The file.
    Original,
    /// Its thumbnail (images only).
    Thumbnail,
}

/// The types served inline (as images), all of them re-encoded by us.
const INLINE: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// The answer to a download of `part` of `file`; `missing` when its bytes are gone. Every
/// download needs a signed-in reader, so only the browser keeps a copy (`private`), for good
/// (a file never changes under its URL).
pub async fn download(
    storage: &Storage,
    file: &FileDoc,
    part: Part,
    request: &HeaderMap,
    missing: impl FnOnce() -> ApiError,
) -> Result<Response, ApiError> {
    let (key, content_type, etag) = match (part, &file.thumbnail) {
        (Part::Original, _) => (
            file.key(),
            file.content_type.as_str(),
            format!("\"{}\"", file.sha256),
        ),
        (Part::Thumbnail, Some(thumbnail)) => (
            file.thumbnail_key(),
            thumbnail.content_type.as_str(),
            format!("\"{}-thumb\"", file.sha256),
        ),
        (Part::Thumbnail, None) => return Err(missing()),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, value(&etag));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let inline = INLINE.contains(&content_type);
    headers.insert(
        header::CONTENT_TYPE,
        if content_type == "text/plain" {
            HeaderValue::from_static("text/plain; charset=utf-8")
        } else {
            value(content_type)
        },
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        disposition(if inline { "inline" } else { "attachment" }, &file.name),
    );

    if matches_any(request.get(header::IF_NONE_MATCH), &etag) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let size = match part {
        Part::Original => u64::try_from(file.size).unwrap_or(0),
        Part::Thumbnail => file
            .thumbnail
            .as_ref()
            .map_or(0, |thumbnail| u64::try_from(thumbnail.size).unwrap_or(0)),
    };
    let range = match requested_range(request, &etag, size) {
        Ok(range) => range,
        Err(()) => {
            headers.insert(header::CONTENT_RANGE, value(&format!("bytes */{size}")));
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response());
        }
    };
    let Some(object) = storage
        .get(&key, range)
        .await
        .map_err(ApiError::unavailable)?
    else {
        return Err(missing());
    };
    let served = object.range.end - object.range.start;
    headers.insert(header::CONTENT_LENGTH, value(&served.to_string()));
    let status = if range.is_some() {
        headers.insert(
            header::CONTENT_RANGE,
            value(&format!(
                "bytes {}-{}/{}",
                object.range.start,
                object.range.end.saturating_sub(1),
                object.size
            )),
        );
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    Ok((status, headers, Body::from_stream(object.body)).into_response())
}

/// The one range asked for (`None`: the whole file; a malformed header, several ranges or an
/// `If-Range` that no longer matches also get the whole file); `Err` when it lies past the
/// end.
fn requested_range(request: &HeaderMap, etag: &str, size: u64) -> Result<Option<ByteRange>, ()> {
    let Some(range) = request
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
    else {
        return Ok(None);
    };
    if let Some(if_range) = request.get(header::IF_RANGE) {
        if if_range.as_bytes() != etag.as_bytes() {
            return Ok(None);
        }
    }
    let Ok(parsed) = http_range_header::parse_range_header(range) else {
        return Ok(None);
    };
    match parsed.validate(size) {
        Ok(ranges) if ranges.len() == 1 => Ok(ranges.first().map(|range| ByteRange {
            start: *range.start(),
            end: range.end() + 1,
        })),
        Ok(_) => Ok(None),
        Err(_) => Err(()),
    }
}

/// Whether `If-None-Match` lists `etag` (or `*`).
fn matches_any(header: Option<&HeaderValue>, etag: &str) -> bool {
    header
        .and_then(|value| value.to_str().ok())
        .is_some_and(|list| {
            list.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == etag || tag == "*")
        })
}

/// Characters left as they are in `filename*` (RFC 8187 `attr-char`).
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `inline` or `attachment` with the name: plain ASCII for old clients, UTF-8 for the rest.
fn disposition(kind: &str, name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(name, ATTR);
    value(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
}

/// A header value from text we built (ASCII); never fails in practice.
fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, v)| (name.clone(), HeaderValue::from_str(v).unwrap()))
            .collect()
    }

    #[test]
    fn one_range_is_served_and_others_get_the_whole_file() {
        let range = |v: &str| requested_range(&headers(&[(header::RANGE, v)]), "\"e\"", 100);
        assert_eq!(
            range("bytes=0-9"),
            Ok(Some(ByteRange { start: 0, end: 10 }))
        );
        assert_eq!(
            range("bytes=90-"),
            Ok(Some(ByteRange {
                start: 90,
                end: 100
            }))
        );
        assert_eq!(
            range("bytes=-5"),
            Ok(Some(ByteRange {
                start: 95,
                end: 100
            }))
        );
        assert_eq!(range("bytes=0-1,5-6"), Ok(None));
        assert_eq!(range("pages=1"), Ok(None));
        assert_eq!(range("bytes=200-300"), Err(()));
        assert_eq!(requested_range(&HeaderMap::new(), "\"e\"", 100), Ok(None));
    }

    #[test]
    fn a_stale_if_range_gets_the_whole_file() {
        let request = headers(&[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, "\"old\"")]);
        assert_eq!(requested_range(&request, "\"new\"", 100), Ok(None));
    }

    #[test]
    fn names_are_quoted_safely() {
        let header = disposition("attachment", "r\u{e9}sum\u{e9} \"final\".pdf");
        assert_eq!(
            header.to_str().unwrap(),
            "attachment; filename=\"r_sum_ _final_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
    }

    #[test]
    fn if_none_match_accepts_lists_and_weak_tags() {
        let tag = HeaderValue::from_static("\"a\", W/\"b\"");
        assert!(matches_any(Some(&tag), "\"b\""));
        assert!(!matches_any(Some(&tag), "\"c\""));
        assert!(!matches_any(None, "\"c\""));
    }
}
