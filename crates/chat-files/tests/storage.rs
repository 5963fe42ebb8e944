//! One storage suite, run on both backends: a local directory, and a real S3-compatible server
//! (`s3s-fs`, which `scripts/test.sh` installs; `S3S_FS` names another binary).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Body;
use bson::oid::ObjectId;
use bytes::Bytes;
use chat_files::images::ImageLimits;
use chat_files::records::FileKind;
use chat_files::storage::ByteRange;
use chat_files::{Intake, IntakeLimits, Storage, StorageConfig};
use chat_models::ErrorCode;
use futures::TryStreamExt as _;
use sha2::{Digest as _, Sha256};

/// A store of one backend, and what keeps it alive.
struct Backend {
    storage: Storage,
    _dir: tempfile::TempDir,
    _server: Option<S3Server>,
}

fn local() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    Backend {
        storage: Storage::open(&StorageConfig::local(dir.path())).unwrap(),
        _dir: dir,
        _server: None,
    }
}

/// `s3s-fs` on a port of its own, killed on drop.
struct S3Server(Child);

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn s3s_binary() -> PathBuf {
    if let Ok(path) = std::env::var("S3S_FS") {
        return path.into();
    }
    let cargo_bin = std::env::var("HOME")
        .map(|home| PathBuf::from(home).join(".cargo/bin/s3s-fs"))
        .unwrap_or_default();
    if cargo_bin.exists() {
        return cargo_bin;
    }
    PathBuf::from("s3s-fs")
}

async fn s3() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("chat-files")).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(s3s_binary())
        .args([
            "--host=127.0.0.1",
            &format!("--port={port}"),
            "--access-key=test-access-key",
            "--secret-key=test-secret-key",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot run s3s-fs ({error}): scripts/test.sh installs it, or set S3S_FS")
        });
    let server = S3Server(child);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let config = StorageConfig {
        s3_bucket: Some("chat-files".to_owned()),
        s3_endpoint: Some(format!("http://127.0.0.1:{port}")),
        s3_access_key_id: Some("test-access-key".to_owned()),
        s3_secret_access_key: Some("test-secret-key".to_owned().into()),
        ..StorageConfig::local(dir.path().join("unused"))
    };
    let storage = Storage::open(&config).unwrap();
    assert_eq!(storage.backend, "s3");
    Backend {
        storage,
        _dir: dir,
        _server: Some(server),
    }
}

/// Each check, as a test on each backend.
macro_rules! on_both_backends {
    ($($check:ident),* $(,)?) => {
        mod local_directory {
            $(#[tokio::test] async fn $check() { super::$check(super::local()).await; })*
        }
        mod s3_compatible {
            $(#[tokio::test] async fn $check() { super::$check(super::s3().await).await; })*
        }
    };
}

on_both_backends!(
    objects_round_trip_with_ranges,
    large_objects_stream_in_parts,
    an_aborted_write_leaves_nothing,
    intake_streams_other_files_as_they_are,
    intake_cuts_off_an_oversized_body_and_keeps_nothing,
    intake_stores_cleaned_images_with_a_thumbnail,
);

async fn collect(storage: &Storage, key: &str, range: Option<ByteRange>) -> Option<Vec<u8>> {
    let object = storage.get(key, range).await.unwrap()?;
    let chunks: Vec<Bytes> = object.body.try_collect().await.unwrap();
    Some(chunks.concat())
}

async fn objects_round_trip_with_ranges(backend: Backend) {
    let storage = &backend.storage;
    assert!(storage.check().await);
    assert!(storage
        .get("attachments/missing", None)
        .await
        .unwrap()
        .is_none());
    storage.delete("attachments/missing").await.unwrap();

    storage
        .put("attachments/a", Bytes::from_static(b"hello, world"))
        .await
        .unwrap();
    assert_eq!(
        collect(storage, "attachments/a", None).await.unwrap(),
        b"hello, world"
    );
    let object = storage
        .get("attachments/a", Some(ByteRange { start: 7, end: 12 }))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((object.size, object.range.clone()), (12, 7..12));
    assert_eq!(
        collect(
            storage,
            "attachments/a",
            Some(ByteRange { start: 7, end: 12 })
        )
        .await
        .unwrap(),
        b"world"
    );
    assert_eq!(
        storage.read("attachments/a").await.unwrap().unwrap(),
        Bytes::from_static(b"hello, world")
    );
    storage.delete("attachments/a").await.unwrap();
    assert!(storage.get("attachments/a", None).await.unwrap().is_none());
}

async fn large_objects_stream_in_parts(backend: Backend) {
    let storage = &backend.storage;
    let data: Vec<u8> = (0..12_000_000_u32).map(|i| (i % 251) as u8).collect();
    let mut writer = storage.writer("attachments/big").await.unwrap();
    for chunk in data.chunks(300_000) {
        writer.write(chunk).await.unwrap();
    }
    writer.finish().await.unwrap();
    let stored = collect(storage, "attachments/big", None).await.unwrap();
    assert_eq!(Sha256::digest(&stored), Sha256::digest(&data));
    let middle = collect(
        storage,
        "attachments/big",
        Some(ByteRange {
            start: 5_242_000,
            end: 5_243_000,
        }),
    )
    .await
    .unwrap();
    assert_eq!(middle, data[5_242_000..5_243_000]);
}

async fn an_aborted_write_leaves_nothing(backend: Backend) {
    let storage = &backend.storage;
    let mut writer = storage.writer("attachments/partial").await.unwrap();
    writer.write(&vec![1; 6_000_000]).await.unwrap();
    writer.abort().await;
    assert!(storage
        .get("attachments/partial", None)
        .await
        .unwrap()
        .is_none());
}

fn body(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(64 * 1024)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    Body::from_stream(futures::stream::iter(chunks))
}

fn limits(max_bytes: u64) -> IntakeLimits {
    IntakeLimits {
        max_bytes,
        images_only: false,
        images: ImageLimits::default(),
    }
}

async fn intake_streams_other_files_as_they_are(backend: Backend) {
    let intake = Intake::new(backend.storage.clone(), 1);
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend((0..3_000_000_u32).map(|i| (i % 200) as u8));
    let id = ObjectId::new();
    let received = intake
        .receive(
            body(pdf.clone()),
            None,
            FileKind::Attachment,
            id,
            &limits(25_000_000),
        )
        .await
        .unwrap();
    assert_eq!(received.content_type, "application/pdf");
    assert_eq!(received.size, pdf.len() as u64);
    assert_eq!(received.sha256, hex::encode(Sha256::digest(&pdf)));
    assert_eq!((received.dimensions, received.thumbnail), (None, None));
    let key = format!("attachments/{}", id.to_hex());
    assert_eq!(collect(&backend.storage, &key, None).await.unwrap(), pdf);
}

async fn intake_cuts_off_an_oversized_body_and_keeps_nothing(backend: Backend) {
    let intake = Intake::new(backend.storage.clone(), 1);
    let id = ObjectId::new();
    let refused = intake
        .receive(
            body(vec![7; 3_000_000]),
            None,
            FileKind::Attachment,
            id,
            &limits(1_000_000),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::FileTooLarge);
    assert_eq!(refused.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
    let key = format!("attachments/{}", id.to_hex());
    assert!(backend.storage.get(&key, None).await.unwrap().is_none());
    // Declared too large: refused before a byte is read.
    let refused = intake
        .receive(
            body(vec![7; 10]),
            Some(2_000_000),
            FileKind::Attachment,
            id,
            &limits(1_000_000),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::FileTooLarge);
}

async fn intake_stores_cleaned_images_with_a_thumbnail(backend: Backend) {
    let intake = Intake::new(backend.storage.clone(), 1);
    let image = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let id = ObjectId::new();
    let received = intake
        .receive(body(png), None, FileKind::Avatar, id, &limits(5_000_000))
        .await
        .unwrap();
    assert_eq!(received.content_type, "image/png");
    assert_eq!(received.dimensions, Some((640, 480)));
    let thumbnail = received.thumbnail.unwrap();
    assert_eq!((thumbnail.width, thumbnail.height), (320, 240));
    let stored = collect(&backend.storage, &format!("avatars/{}", id.to_hex()), None)
        .await
        .unwrap();
    assert_eq!(hex::encode(Sha256::digest(&stored)), received.sha256);
    let small = collect(
        &backend.storage,
        &format!("avatars/{}.thumb", id.to_hex()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(image::load_from_memory(&small).unwrap().width(), 320);
}
