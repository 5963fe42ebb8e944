//! [`Stack`]: the services a test needs, started in-process on ports of their own, over
//! storage of its own that is dropped with the stack (even when the test panicked).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use reqwest::Client;
use tokio::task::JoinHandle;

use crate::config::{friends_config, message_args, message_config, user_config, Storage};
use crate::http::new_client;

/// The service a test is about: where [`Stack::url`], `call` and friends go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// user-service alone.
    Users,
    /// user-service and friends-service.
    Friends,
    /// All three.
    Messages,
}

type Tweak<C> = Box<dyn FnOnce(&mut C) + Send>;

/// What to start, and how to configure it.
pub struct StackBuilder {
    target: Service,
    users: Vec<Tweak<user_service::config::Config>>,
    friends: Vec<Tweak<friends_service::config::Config>>,
    messages: Vec<Tweak<message_service::config::Config>>,
    stop_users: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    redis_url: Option<String>,
    mongo_uri: Option<String>,
}

/// Running services and what a test needs to poke at them.
pub struct Stack {
    /// user-service's base URL.
    pub users: String,
    /// friends-service's base URL (empty unless started).
    pub friends: String,
    /// message-service's base URL (empty unless started).
    pub messages: String,
    /// A client with a cookie jar, like one browser.
    pub client: Client,
    /// Redis, for reading the event stream and keys.
    pub redis: redis::aio::ConnectionManager,
    /// This stack's Redis key prefix.
    pub prefix: String,
    /// This stack's Mongo database.
    pub mongo: mongodb::Database,
    /// user-service's signing key (PEM), to forge tokens.
    pub jwt_pem: String,
    /// The flags that start another message-service on the same stores.
    pub message_args: Vec<String>,
    /// user-service's serving task (it ends when a stop signal given to the builder fires).
    pub users_serving: Option<JoinHandle<std::io::Result<()>>>,
    friends_db: Option<sqlx::MySqlPool>,
    target: Service,
    storage: Storage,
    mysql_urls: Vec<String>,
}

impl Stack {
    /// user-service alone, with default settings.
    pub async fn users() -> Self {
        Self::builder(Service::Users).start().await
    }

    /// user- and friends-service, with default settings.
    pub async fn friends() -> Self {
        Self::builder(Service::Friends).start().await
    }

    /// All three services, with default settings.
    pub async fn messages() -> Self {
        Self::builder(Service::Messages).start().await
    }

    /// A stack about `target` (and what it needs), to configure before starting.
    pub fn builder(target: Service) -> StackBuilder {
        let mut builder = StackBuilder {
            target,
            users: Vec::new(),
            friends: Vec::new(),
            messages: Vec::new(),
            stop_users: None,
            redis_url: None,
            mongo_uri: None,
        };
        if target == Service::Messages {
            // Message tests register many users from one address.
            builder = builder.users_config(|config| {
                config.rate_limit_register_ip = "1000/60".parse().unwrap();
                config.rate_limit_login_ip = "1000/60".parse().unwrap();
            });
        }
        builder
    }

    pub(crate) fn target_url(&self) -> &str {
        match self.target {
            Service::Users => &self.users,
            Service::Friends => &self.friends,
            Service::Messages => &self.messages,
        }
    }

    /// Where this stack's services keep files (`messages/` and `users/` below it).
    pub fn files_dir(&self) -> &std::path::Path {
        &self.storage.files_dir
    }

    /// friends-service's MySQL pool (of a stack that runs it).
    pub fn friends_db(&self) -> &sqlx::MySqlPool {
        self.friends_db
            .as_ref()
            .expect("friends-service runs in this stack")
    }
}

impl StackBuilder {
    /// Adjusts user-service's configuration.
    #[must_use]
    pub fn users_config(
        mut self,
        tweak: impl FnOnce(&mut user_service::config::Config) + Send + 'static,
    ) -> Self {
        self.users.push(Box::new(tweak));
        self
    }

    /// Adjusts friends-service's configuration.
    #[must_use]
    pub fn friends_config(
        mut self,
        tweak: impl FnOnce(&mut friends_service::config::Config) + Send + 'static,
    ) -> Self {
        self.friends.push(Box::new(tweak));
        self
    }

    /// Adjusts message-service's configuration.
    #[must_use]
    pub fn messages_config(
        mut self,
        tweak: impl FnOnce(&mut message_service::config::Config) + Send + 'static,
    ) -> Self {
        self.messages.push(Box::new(tweak));
        self
    }

    /// Uses this Redis instead of the shared one (a [`crate::RedisServer`] of the test's own).
    #[must_use]
    pub fn redis(mut self, url: String) -> Self {
        self.redis_url = Some(url);
        self
    }

    /// Uses this Mongo server instead of the shared one (a [`crate::MongoServer`]).
    #[must_use]
    pub fn mongo(mut self, uri: String) -> Self {
        self.mongo_uri = Some(uri);
        self
    }

    /// Stops user-service (gracefully) when `signal` resolves.
    #[must_use]
    pub fn stop_users_when(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.stop_users = Some(Box::pin(signal));
        self
    }

    /// Starts the services, each ready to answer.
    pub async fn start(self) -> Stack {
        let mut storage = Storage::new();
        if let Some(url) = self.redis_url {
            storage.redis_url = url;
        }
        if let Some(uri) = self.mongo_uri {
            storage.mongo_uri = uri;
        }
        let jwt_pem = SigningKey::generate(&mut rand::rngs::OsRng)
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap()
            .to_string();
        let users_db = storage.mysql_url("users");
        let mut config = user_config(
            &users_db,
            &storage.mongo_uri,
            &storage.mongo_db,
            &storage.redis_url,
            &storage.prefix,
        );
        config.jwt_private_key = Some(jwt_pem.clone().into());
        // Its avatar URLs name its own address.
        let port = crate::free_port();
        config.addr = ([127, 0, 0, 1], port).into();
        config.public_url = format!("http://127.0.0.1:{port}").parse().unwrap();
        for tweak in self.users {
            tweak(&mut config);
        }
        let server = user_service::startup::build(config)
            .await
            .expect("user-service starts");
        let users = format!("http://127.0.0.1:{}", server.port());
        let stop = self
            .stop_users
            .unwrap_or_else(|| Box::pin(std::future::pending()));
        let users_serving = Some(tokio::spawn(server.run_until_stopped(stop)));
        let mut mysql_urls = vec![users_db];

        let (mut friends, mut friends_db) = (String::new(), None);
        if self.target != Service::Users {
            let mut config = friends_config(&storage, &users);
            for tweak in self.friends {
                tweak(&mut config);
            }
            let server = friends_service::startup::build(config)
                .await
                .expect("friends-service starts");
            friends = format!("http://127.0.0.1:{}", server.port());
            tokio::spawn(server.run_until_stopped(std::future::pending()));
            let url = storage.mysql_url("friends");
            friends_db = Some(sqlx::MySqlPool::connect(&url).await.unwrap());
            mysql_urls.push(url);
        }

        let (mut messages, mut args) = (String::new(), Vec::new());
        if self.target == Service::Messages {
            args = message_args(&storage, &users, &friends);
            let mut config = message_config(&args);
            // Its file URLs name its own address.
            let port = crate::free_port();
            config.addr = ([127, 0, 0, 1], port).into();
            config.public_url = format!("http://127.0.0.1:{port}");
            for tweak in self.messages {
                tweak(&mut config);
            }
            let server = message_service::startup::build(config)
                .await
                .expect("message-service starts");
            messages = format!("http://127.0.0.1:{}", server.port());
            tokio::spawn(server.run_until_stopped(std::future::pending()));
        }

        let redis = redis::aio::ConnectionManager::new(
            redis::Client::open(storage.redis_url.as_str()).unwrap(),
        )
        .await
        .unwrap();
        let mongo = mongodb::Client::with_uri_str(&storage.mongo_uri)
            .await
            .unwrap()
            .database(&storage.mongo_db);
        Stack {
            users,
            friends,
            messages,
            client: new_client(),
            redis,
            prefix: storage.prefix.clone(),
            mongo,
            jwt_pem,
            message_args: args,
            users_serving,
            friends_db,
            target: self.target,
            storage,
            mysql_urls,
        }
    }
}

impl Drop for Stack {
    /// Drops the schemas, the Mongo database and the Redis keys, on a thread and runtime of
    /// their own with connections of their own: the test's runtime is blocked by this call.
    fn drop(&mut self) {
        let storage = self.storage.clone();
        let urls = self.mysql_urls.clone();
        chat_models::testing::block_on_side_thread(async move {
            for url in urls {
                chat_models::testing::drop_mysql_schema(&url).await;
            }
            chat_models::testing::drop_mongo_database(&storage.mongo_uri, &storage.mongo_db).await;
            chat_models::testing::delete_redis_keys(&storage.redis_url, &storage.prefix).await;
        });
        let _ = std::fs::remove_dir_all(&self.storage.files_dir);
    }
}

/// A message-service in a process of its own (the built binary), killed on drop.
pub struct Instance {
    /// Its base URL.
    pub url: String,
    child: std::process::Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The message-service binary cargo built beside the running test (`target/<profile>/`).
fn message_service_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps");
    let binary = dir.join("message-service");
    assert!(
        binary.exists(),
        "{} is missing: run message-service's own tests (cargo builds its binary for them)",
        binary.display()
    );
    binary
}

impl Stack {
    /// Starts another message-service process on the same stores, with extra `--flags`; ready
    /// once it answers `/ready`.
    pub async fn instance(&self, extra: &[&str]) -> Instance {
        let port = crate::free_port();
        let child = std::process::Command::new(message_service_binary())
            .arg(format!("--addr=127.0.0.1:{port}"))
            .args(&self.message_args)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let instance = Instance {
            url: format!("http://127.0.0.1:{port}"),
            child,
        };
        for _ in 0..100 {
            if let Ok(response) = self
                .client
                .get(format!("{}/ready", instance.url))
                .send()
                .await
            {
                if response.status().is_success() {
                    return instance;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("message-service process did not become ready");
    }
}
