//! [`Storage`]: the bytes of files, in a local directory (the default) or an S3-compatible
//! bucket, behind [`object_store`]. Keys are `{kind}/{id}` (plus `.thumb` for thumbnails), so
//! services may share a bucket.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt as _, TryStreamExt as _};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart};
use secrecy::{ExposeSecret as _, SecretString};

/// Where files are kept: `STORAGE_DIR`, unless `S3_BUCKET` is set.
#[derive(Debug, Clone, clap::Args)]
pub struct StorageConfig {
    /// Directory of uploaded files (created if missing), used when no `S3_BUCKET` is set.
    #[arg(long, env = "STORAGE_DIR", default_value = "data/files")]
    pub storage_dir: PathBuf,

    /// An S3 bucket to keep files in instead of `STORAGE_DIR`.
    #[arg(long, env = "S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// The S3-compatible server (`https://s3.eu-west-1.amazonaws.com`, `http://minio:9000`).
    /// Unset: AWS, from `S3_REGION`.
    #[arg(long, env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// The bucket's region.
    #[arg(long, env = "S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// Access key id. Unset: the usual AWS sources (instance role, `AWS_*` variables).
    #[arg(long, env = "S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,

    /// Secret access key.
    #[arg(long, env = "S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<SecretString>,

    /// Address the bucket as `https://BUCKET.endpoint/key` rather than `endpoint/BUCKET/key`
    /// (path style, which S3-compatible servers expect).
    #[arg(long, env = "S3_VIRTUAL_HOSTED_STYLE", default_value_t = false, action = clap::ArgAction::Set)]
    pub s3_virtual_hosted_style: bool,
}

impl StorageConfig {
    /// A local directory.
    pub fn local(dir: impl Into<PathBuf>) -> Self {
        Self {
            storage_dir: dir.into(),
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".to_owned(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_virtual_hosted_style: false,
        }
    }
}

/// Compose passes unset variables as empty strings: those mean unset.
fn set(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|value| !value.is_empty())
}

/// The store of file bytes.
#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// `local` or `s3`, for logs and metrics.
    pub backend: &'static str,
}

/// A stored object, or the part of it a range asked for.
pub struct Object {
    /// The whole object's size.
    pub size: u64,
    /// The bytes served: `start..end` of the object.
    pub range: std::ops::Range<u64>,
    /// The bytes.
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

/// A part of an object, in bytes, as `Range` asks (validated against the size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl Storage {
    /// The configured store (a local directory is created if missing).
    pub fn open(config: &StorageConfig) -> anyhow::Result<Self> {
        let Some(bucket) = set(config.s3_bucket.as_ref()) else {
            std::fs::create_dir_all(&config.storage_dir).with_context(|| {
                format!("cannot create STORAGE_DIR {}", config.storage_dir.display())
            })?;
            let store =
                LocalFileSystem::new_with_prefix(&config.storage_dir).with_context(|| {
                    format!("cannot use STORAGE_DIR {}", config.storage_dir.display())
                })?;
            return Ok(Self {
                store: Arc::new(store),
                backend: "local",
            });
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&config.s3_region)
            .with_virtual_hosted_style_request(config.s3_virtual_hosted_style);
        if let Some(endpoint) = set(config.s3_endpoint.as_ref()) {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(key) = set(config.s3_access_key_id.as_ref()) {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &config.s3_secret_access_key {
            if !secret.expose_secret().is_empty() {
                builder = builder.with_secret_access_key(secret.expose_secret());
            }
        }
        let store = builder.build().context("invalid S3 settings")?;
        Ok(Self {
            store: Arc::new(store),
            backend: "s3",
        })
    }

    /// Stores `bytes` under `key`, replacing what was there.
    pub async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.store
            .put(&Path::from(key), PutPayload::from_bytes(bytes))
            .await
            .with_context(|| format!("storing {key}"))?;
        Ok(())
    }

    /// A writer that streams an object into `key` in parts; nothing is visible under the key
    /// until [`Writer::finish`].
    pub async fn writer(&self, key: &str) -> anyhow::Result<Writer> {
        let upload = self
            .store
            .put_multipart(&Path::from(key))
            .await
            .with_context(|| format!("starting to store {key}"))?;
        Ok(Writer {
            inner: WriteMultipart::new(upload),
            key: key.to_owned(),
        })
    }

    /// The object under `key` (`None`: there is none), or the part of it `range` names.
    pub async fn get(&self, key: &str, range: Option<ByteRange>) -> anyhow::Result<Option<Object>> {
        let options = GetOptions {
            range: range.map(|range| GetRange::Bounded(range.start..range.end)),
            ..GetOptions::default()
        };
        match self.store.get_opts(&Path::from(key), options).await {
            Ok(result) => Ok(Some(Object {
                size: result.meta.size,
                range: result.range.clone(),
                body: result.into_stream().map_err(std::io::Error::other).boxed(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(anyhow::Error::new(error).context(format!("reading {key}"))),
        }
    }

    /// The whole object under `key` in memory (`None`: there is none). For small objects only.
    pub async fn read(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        match self.store.get(&Path::from(key)).await {
            Ok(result) => Ok(Some(
                result
                    .bytes()
                    .await
                    .with_context(|| format!("reading {key}"))?,
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(anyhow::Error::new(error).context(format!("reading {key}"))),
        }
    }

    /// Removes the object under `key`; one that is not there is not an error.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(anyhow::Error::new(error).context(format!("deleting {key}"))),
        }
    }

    /// Whether the store answers in time (readiness): asks for an object that does not
    /// exist.
    pub async fn check(&self) -> bool {
        let key = Path::from("readiness-probe");
        let probe = self.store.head(&key);
        match tokio::time::timeout(std::time::Duration::from_secs(2), probe).await {
            Ok(Ok(_) | Err(object_store::Error::NotFound { .. })) => true,
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "the file store does not answer");
                false
            }
            Err(_) => false,
        }
    }
}

/// An object being written in parts (5 MiB each, two uploading at once): memory stays flat
/// however large the object.
pub struct Writer {
    inner: WriteMultipart,
    key: String,
}

impl Writer {
    /// Appends bytes, waiting while two parts are still uploading.
    pub async fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.inner
            .wait_for_capacity(2)
            .await
            .with_context(|| format!("storing {}", self.key))?;
        self.inner.write(bytes);
        Ok(())
    }

    /// Completes the object.
    pub async fn finish(self) -> anyhow::Result<()> {
        self.inner
            .finish()
            .await
            .with_context(|| format!("storing {}", self.key))?;
        Ok(())
    }

    /// Gives up: the parts are discarded and nothing appears under the key.
    pub async fn abort(self) {
        let key = self.key.clone();
        if let Err(error) = self.inner.abort().await {
            tracing::warn!(%key, error = %error, "could not discard a partial upload");
        }
    }
}
