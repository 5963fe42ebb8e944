//! Fetching a page for its preview, safely: through [`egress`] (public addresses only, and
//! the connection goes to the address checked), redirects followed
//! by hand (at most five, each checked), connect and total timeouts, only `text/html`, and at
//! most 1 MiB read, streamed.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Client, StatusCode, Url};

use crate::egress::{self, Refused};

/// Most redirects followed.
pub const MAX_REDIRECTS: usize = 5;
/// Most bytes of a page read.
pub const MAX_BYTES: usize = 1024 * 1024;
/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a whole fetch (redirects included) may take.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(6);

/// Why no page came back.
#[derive(Debug, thiserror::Error)]
pub enum Failed {
    /// The link (or a redirect) is not one we fetch.
    #[error("refused: {0}")]
    Refused(#[from] Refused),
    /// More than [`MAX_REDIRECTS`] redirects.
    #[error("too many redirects")]
    Redirects,
    /// Not `text/html`.
    #[error("not an HTML page")]
    NotHtml,
    /// Over [`MAX_BYTES`].
    #[error("the page is larger than 1 MiB")]
    TooLarge,
    /// Not a success.
    #[error("answered {0}")]
    Status(StatusCode),
    /// The request failed (timeout, connection, an address refused while resolving).
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// Took longer than [`TOTAL_TIMEOUT`].
    #[error("timed out")]
    Timeout,
}

impl Failed {
    /// Whether the link (or where it led) was refused as not public, whether before the
    /// request or while resolving its host.
    pub fn is_refused(&self) -> bool {
        match self {
            Self::Refused(_) => true,
            Self::Http(error) => egress::refused_while_resolving(error),
            _ => false,
        }
    }
}

/// The preview fetcher.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Client,
    allowed: Arc<Vec<String>>,
}

impl Fetcher {
    /// A fetcher; `allowed` lists `ip:port` pairs fetched whatever the address (tests only).
    pub fn new(allowed: Vec<String>) -> anyhow::Result<Self> {
        let allowed = Arc::new(allowed);
        let client = egress::client("chat-link-preview/1.0", CONNECT_TIMEOUT, TOTAL_TIMEOUT)?;
        Ok(Self { client, allowed })
    }

    /// The page at `url` (after redirects) and its address: at most [`MAX_BYTES`] of HTML.
    pub async fn fetch(&self, url: Url) -> Result<(Url, String), Failed> {
        tokio::time::timeout(TOTAL_TIMEOUT, self.follow(url))
            .await
            .map_err(|_| Failed::Timeout)?
    }

    async fn follow(&self, mut url: Url) -> Result<(Url, String), Failed> {
        for _ in 0..=MAX_REDIRECTS {
            egress::check(&url, &self.allowed)?;
            let mut response = self.client.get(url.clone()).send().await?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|location| url.join(location).ok())
                    .ok_or(Failed::Status(status))?;
                url = next;
                continue;
            }
            if !status.is_success() {
                return Err(Failed::Status(status));
            }
            let html = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| {
                    value
                        .trim_start()
                        .to_ascii_lowercase()
                        .starts_with("text/html")
                });
            if !html {
                return Err(Failed::NotHtml);
            }
            if response
                .content_length()
                .is_some_and(|length| length > MAX_BYTES as u64)
            {
                return Err(Failed::TooLarge);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_BYTES {
                    return Err(Failed::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            return Ok((url, String::from_utf8_lossy(&body).into_owned()));
        }
        Err(Failed::Redirects)
    }
}
