//! Where a test's data lives, and the services' configurations pointing there.

use clap::Parser as _;
use uuid::Uuid;

/// The service token every test service shares.
pub const SERVICE_TOKEN: &str = "test-service-token-0123456789";
/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery";

/// The first of `names` set in the environment.
pub(crate) fn env(names: &[&str]) -> String {
    names
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .unwrap_or_else(|| {
            panic!(
                "set {} (scripts/test.sh does it for you)",
                names.join(" or ")
            )
        })
}

/// One test's storage: schema names, a Mongo database and a Redis prefix of its own.
#[derive(Debug, Clone)]
pub(crate) struct Storage {
    pub id: String,
    pub mysql: String,
    pub mongo_uri: String,
    pub mongo_db: String,
    pub redis_url: String,
    pub prefix: String,
    /// message-service's and user-service's files (a directory of its own).
    pub files_dir: std::path::PathBuf,
}

impl Storage {
    pub fn new() -> Self {
        let id = Uuid::new_v4().simple().to_string();
        Self {
            mysql: env(&["TEST_MYSQL_URL", "DATABASE_URL"])
                .trim_end_matches('/')
                .to_owned(),
            mongo_uri: env(&["MONGODB_URI"]),
            mongo_db: format!("test_{id}"),
            redis_url: env(&["REDIS_URL"]),
            prefix: format!("test:{id}:"),
            files_dir: files_dir(&format!("test_{id}")),
            id,
        }
    }

    /// The URL of this test's MySQL schema `name` (created by the service that owns it).
    pub fn mysql_url(&self, name: &str) -> String {
        format!("{}/test_{name}_{}", self.mysql, self.id)
    }
}

/// Where the files of the test with Mongo database `mongo_db` are kept.
pub(crate) fn files_dir(mongo_db: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("chat-files-{mongo_db}"))
}

/// A user-service configuration for tests: these stores, a port of its own, the test token,
/// a small pool; everything else at its default (the signing key is left to the caller).
pub fn user_config(
    mysql_url: &str,
    mongo_uri: &str,
    mongo_db: &str,
    redis_url: &str,
    prefix: &str,
) -> user_service::config::Config {
    user_service::config::Config::try_parse_from([
        "user-service",
        "--addr=127.0.0.1:0",
        &format!("--database-url={mysql_url}"),
        &format!("--mongodb-uri={mongo_uri}"),
        &format!("--mongodb-database={mongo_db}"),
        &format!("--redis-url={redis_url}"),
        &format!("--redis-key-prefix={prefix}"),
        &format!("--service-token={SERVICE_TOKEN}"),
        &format!(
            "--storage-dir={}",
            files_dir(mongo_db).join("users").display()
        ),
        "--database-max-connections=4",
    ])
    .unwrap()
}

pub(crate) fn friends_config(
    storage: &Storage,
    users_url: &str,
) -> friends_service::config::Config {
    friends_service::config::Config::try_parse_from([
        "friends-service",
        "--addr=127.0.0.1:0",
        &format!("--database-url={}", storage.mysql_url("friends")),
        &format!("--redis-url={}", storage.redis_url),
        &format!("--redis-key-prefix={}", storage.prefix),
        &format!("--user-service-url={users_url}"),
        &format!("--service-token={SERVICE_TOKEN}"),
        "--database-max-connections=4",
    ])
    .unwrap()
}

/// The flags of a message-service on these stores (for in-process and separate instances).
pub(crate) fn message_args(storage: &Storage, users_url: &str, friends_url: &str) -> Vec<String> {
    vec![
        format!("--mongodb-uri={}", storage.mongo_uri),
        format!("--mongodb-database={}", storage.mongo_db),
        format!("--redis-url={}", storage.redis_url),
        format!("--redis-key-prefix={}", storage.prefix),
        format!("--user-service-url={users_url}"),
        format!("--friends-service-url={friends_url}"),
        format!("--service-token={SERVICE_TOKEN}"),
        format!(
            "--storage-dir={}",
            storage.files_dir.join("messages").display()
        ),
        // Tests set the scene faster than people type; the limits' own tests lower these.
        "--message-rate-limit=100000/1".to_owned(),
        "--typing-rate-limit=100000/1".to_owned(),
    ]
}

pub(crate) fn message_config(args: &[String]) -> message_service::config::Config {
    let flags = [
        "message-service".to_owned(),
        "--addr=127.0.0.1:0".to_owned(),
    ];
    message_service::config::Config::try_parse_from(flags.into_iter().chain(args.iter().cloned()))
        .unwrap()
}
