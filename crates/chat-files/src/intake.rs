//! [`Intake`]: an upload body, read as it arrives and cut off at its limit with `413`.
//!
//! The first bytes decide what it is ([`crate::sniff`]). Images are gathered (they are at
//! most the limit) and processed off the async runtime, a few at a time; anything else is
//! streamed into storage in parts as it arrives, so a 25 MB file never sits in memory. A body
//! that stops, breaks or overflows leaves nothing behind in storage.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bson::oid::ObjectId;
use bytes::{Bytes, BytesMut};
use chat_models::{ApiError, ErrorCode};
use futures::StreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::sync::Semaphore;

use crate::images::{self, ImageLimits};
use crate::records::{FileKind, ThumbnailDoc};
use crate::sniff::{sniff, Sniffed, SNIFF_BYTES};
use crate::storage::Storage;

/// How long a body may pause between two chunks before the upload is dropped.
const IDLE_BODY: Duration = Duration::from_secs(30);

/// What one kind of upload accepts.
#[derive(Debug, Clone, Copy)]
pub struct IntakeLimits {
    /// Largest body, in bytes.
    pub max_bytes: u64,
    /// Only raster images (avatars, group pictures).
    pub images_only: bool,
    /// Limits of image decoding.
    pub images: ImageLimits,
}

/// A stored upload, ready to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Bytes stored.
    pub size: u64,
    /// Their SHA-256, hex.
    pub sha256: String,
    /// Their media type, from the bytes.
    pub content_type: String,
    /// Width and height, for images.
    pub dimensions: Option<(u32, u32)>,
    /// The thumbnail, for images.
    pub thumbnail: Option<ThumbnailDoc>,
}

/// Receives uploads into a [`Storage`], processing a few images at a time.
#[derive(Clone, Debug)]
pub struct Intake {
    /// Where the bytes go.
    pub storage: Storage,
    processing: Arc<Semaphore>,
}

impl Intake {
    /// Receives into `storage`, decoding at most `parallel_images` images at once.
    pub fn new(storage: Storage, parallel_images: usize) -> Self {
        Self {
            storage,
            processing: Arc::new(Semaphore::new(parallel_images.max(1))),
        }
    }

    /// Reads `body` into storage as file `id` of `kind`. `declared` is the Content-Length, if
    /// any: a body declared larger than the limit is refused before it is read.
    pub async fn receive(
        &self,
        body: Body,
        declared: Option<u64>,
        kind: FileKind,
        id: ObjectId,
        limits: &IntakeLimits,
    ) -> Result<Received, ApiError> {
        if declared.is_some_and(|length| length > limits.max_bytes) {
            return Err(too_large(limits.max_bytes));
        }
        let key = format!("{}/{}", kind.prefix(), id.to_hex());
        let mut body = Chunks {
            stream: body.into_data_stream(),
            received: 0,
            max: limits.max_bytes,
        };
        let mut head = BytesMut::new();
        while head.len() < SNIFF_BYTES {
            match body.next().await? {
                Some(chunk) => head.extend_from_slice(&chunk),
                None => break,
            }
        }
        if head.is_empty() {
            return Err(ApiError::field("file", "empty", "The file is empty."));
        }
        match sniff(&head) {
            Sniffed::Image(image) => {
                let mut all = head;
                while let Some(chunk) = body.next().await? {
                    all.extend_from_slice(&chunk);
                }
                self.store_image(all.freeze(), image, &key, &limits.images)
                    .await
            }
            Sniffed::Other(_) if limits.images_only => {
                Err(ApiError::Unsupported(ErrorCode::UnsupportedFileType))
            }
            Sniffed::Other(mime) => self.stream(head.freeze(), body, mime, &key).await,
        }
    }

    async fn store_image(
        &self,
        bytes: Bytes,
        kind: crate::sniff::ImageType,
        key: &str,
        limits: &ImageLimits,
    ) -> Result<Received, ApiError> {
        let permit = self
            .processing
            .clone()
            .acquire_owned()
            .await
            .map_err(|error| ApiError::Internal(error.into()))?;
        let limits = *limits;
        let processed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            images::process(&bytes, kind, &limits)
        })
        .await
        .map_err(|error| ApiError::Internal(anyhow::Error::new(error).context("image task")))??;
        let thumbnail_key = format!("{key}.thumb");
        let (image, thumbnail) = (processed.image, processed.thumbnail);
        let sha256 = hex::encode(Sha256::digest(&image.bytes));
        let size = image.bytes.len() as u64;
        let stored = tokio::try_join!(
            self.storage.put(key, image.bytes.clone()),
            self.storage.put(&thumbnail_key, thumbnail.bytes.clone()),
        );
        if let Err(error) = stored {
            self.remove(&[key.to_owned(), thumbnail_key]).await;
            return Err(ApiError::unavailable(error));
        }
        Ok(Received {
            size,
            sha256,
            content_type: image.mime.to_owned(),
            dimensions: Some((image.width, image.height)),
            thumbnail: Some(ThumbnailDoc {
                size: i64::try_from(thumbnail.bytes.len()).unwrap_or(i64::MAX),
                content_type: thumbnail.mime.to_owned(),
                width: i32::try_from(thumbnail.width).unwrap_or(i32::MAX),
                height: i32::try_from(thumbnail.height).unwrap_or(i32::MAX),
            }),
        })
    }

    /// Streams a non-image body into storage as it arrives.
    async fn stream(
        &self,
        head: Bytes,
        mut body: Chunks,
        mime: &'static str,
        key: &str,
    ) -> Result<Received, ApiError> {
        let mut writer = self
            .storage
            .writer(key)
            .await
            .map_err(ApiError::unavailable)?;
        let mut hasher = Sha256::new();
        let mut size = 0_u64;
        let mut next = Some(head);
        let outcome = loop {
            let chunk = match next.take() {
                Some(chunk) => chunk,
                None => match body.next().await {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => break Ok(()),
                    Err(error) => break Err(error),
                },
            };
            hasher.update(&chunk);
            size += chunk.len() as u64;
            if let Err(error) = writer.write(&chunk).await {
                break Err(ApiError::unavailable(error));
            }
        };
        if let Err(error) = outcome {
            writer.abort().await;
            return Err(error);
        }
        writer.finish().await.map_err(ApiError::unavailable)?;
        Ok(Received {
            size,
            sha256: hex::encode(hasher.finalize()),
            content_type: mime.to_owned(),
            dimensions: None,
            thumbnail: None,
        })
    }

    /// Deletes stored objects, logging (not returning) failures: used where an upload is
    /// abandoned and the caller's own error matters more.
    pub async fn remove(&self, keys: &[String]) {
        for key in keys {
            if let Err(error) = self.storage.delete(key).await {
                tracing::warn!(%key, error = ?error, "could not delete a stored file");
            }
        }
    }
}

/// The body's chunks, counted against the limit, each within [`IDLE_BODY`].
struct Chunks {
    stream: axum::body::BodyDataStream,
    received: u64,
    max: u64,
}

impl Chunks {
    async fn next(&mut self) -> Result<Option<Bytes>, ApiError> {
        let chunk = match tokio::time::timeout(IDLE_BODY, self.stream.next()).await {
            Err(_) => return Err(ApiError::Timeout),
            Ok(None) => return Ok(None),
            Ok(Some(Err(_))) => {
                return Err(ApiError::BadRequest(
                    ErrorCode::UploadIncomplete,
                    ErrorCode::UploadIncomplete.message().to_owned(),
                ))
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        self.received += chunk.len() as u64;
        if self.received > self.max {
            return Err(too_large(self.max));
        }
        Ok(Some(chunk))
    }
}

/// The body length a request declares (`Content-Length`), if any: [`Intake::receive`]
/// refuses one over the limit before reading.
pub fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
}

/// `413 file_too_large`, saying the limit.
pub fn too_large(max: u64) -> ApiError {
    ApiError::TooLarge(
        ErrorCode::FileTooLarge,
        format!("Files may be at most {}.", human_size(max)),
    )
}

/// `25 MB`, `512 KB`, `700 bytes`.
pub fn human_size(bytes: u64) -> String {
    const MB: u64 = 1_000_000;
    const KB: u64 = 1_000;
    if bytes >= MB && bytes % (MB / 10) == 0 {
        let tenths = bytes / (MB / 10);
        if tenths % 10 == 0 {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    } else if bytes >= KB {
        format!("{} KB", bytes / KB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The name a file was uploaded as, made safe to show and to offer as a download name: no
/// folders, no control characters, at most 200 characters; `file` when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_folders_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\ann\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("a\u{0}b\r\n.txt"), "ab.txt");
        assert_eq!(clean_name("  ..hidden "), "hidden");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name("/"), "file");
        assert_eq!(clean_name(&"é".repeat(300)).chars().count(), 200);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(25_000_000), "25 MB");
        assert_eq!(human_size(2_500_000), "2.5 MB");
        assert_eq!(human_size(512_000), "512 KB");
        assert_eq!(human_size(700), "700 bytes");
    }
}
