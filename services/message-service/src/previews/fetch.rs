//! Fetching a page for its preview, safely: every host resolved through [`PublicResolver`]
//! (public addresses only, and the connection goes to the address checked), redirects followed
//! by hand (at most five, each checked), connect and total timeouts, only `text/html`, and at
//! most 1 MiB read, streamed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Client, StatusCode, Url};

use super::guard::{self, Refused};

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
            Self::Http(error) => {
                let mut source = std::error::Error::source(error);
                while let Some(cause) = source {
                    if cause.downcast_ref::<Refused>().is_some() {
                        return true;
                    }
                    source = cause.source();
                }
                false
            }
            _ => false,
        }
    }
}

/// Resolves names for the preview client, keeping only public addresses: a name with none
/// fails, so the client never connects to a private one (and DNS cannot change the answer
/// between the check and the connection, as the connection uses these addresses). The test
/// allow-list names IP literals, which are not resolved.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicResolver;

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| guard::is_public(address.ip()))
                .collect();
            if public.is_empty() {
                return Err(Box::new(Refused::Address) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
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
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .user_agent("chat-link-preview/1.0")
            .dns_resolver(Arc::new(PublicResolver))
            .build()?;
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
            guard::check(&url, &self.allowed)?;
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
