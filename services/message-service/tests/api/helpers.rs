//! `spawn_stack()`: user-, friends- and message-service on ports of their own, with isolated
//! storage (two MySQL schemas, a Mongo database, a Redis prefix) dropped at the end.

use std::time::Duration;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

pub const SERVICE_TOKEN: &str = "test-service-token-0123456789";
const PASSWORD: &str = "correct horse battery";

pub struct Stack {
    pub users: String,
    /// Arguments that start another message-service against the same stores.
    pub message_args: Vec<String>,
    pub friends: String,
    pub messages: String,
    pub client: Client,
    pub redis: redis::aio::ConnectionManager,
    pub prefix: String,
    pub mongo: mongodb::Database,
    mysql_urls: Vec<String>,
    mongo_uri: String,
    redis_url: String,
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub access: String,
}

fn env(names: &[&str]) -> String {
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

pub async fn spawn_stack() -> Stack {
    spawn_stack_with(|_| {}).await
}

pub async fn spawn_stack_with(tweak: impl FnOnce(&mut message_service::config::Config)) -> Stack {
    use clap::Parser as _;
    let mysql = env(&["TEST_MYSQL_URL", "DATABASE_URL"]);
    let mysql = mysql.trim_end_matches('/');
    let (mongo_uri, redis_url) = (env(&["MONGODB_URI"]), env(&["REDIS_URL"]));
    let id = Uuid::new_v4().simple().to_string();
    let prefix = format!("test:{id}:");
    let (users_db, friends_db) = (
        format!("{mysql}/test_mu_{id}"),
        format!("{mysql}/test_mf_{id}"),
    );
    let mongo_db = format!("test_m_{id}");
    let pem = SigningKey::generate(&mut rand::rngs::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap()
        .to_string();

    let mut user_config = user_service::config::Config::try_parse_from([
        "user-service",
        "--addr=127.0.0.1:0",
        &format!("--database-url={users_db}"),
        &format!("--mongodb-uri={mongo_uri}"),
        &format!("--mongodb-database={mongo_db}"),
        &format!("--redis-url={redis_url}"),
        &format!("--redis-key-prefix={prefix}"),
        &format!("--service-token={SERVICE_TOKEN}"),
        "--database-max-connections=4",
        "--rate-limit-register-ip=1000/60",
        "--rate-limit-login-ip=1000/60",
    ])
    .unwrap();
    user_config.jwt_private_key = Some(pem.into());
    let users = user_service::startup::Application::build(user_config)
        .await
        .expect("user-service starts");
    let users_url = format!("http://127.0.0.1:{}", users.port());
    tokio::spawn(users.run_until_stopped(std::future::pending()));

    let friends_config = friends_service::config::Config::try_parse_from([
        "friends-service",
        "--addr=127.0.0.1:0",
        &format!("--database-url={friends_db}"),
        &format!("--redis-url={redis_url}"),
        &format!("--redis-key-prefix={prefix}"),
        &format!("--user-service-url={users_url}"),
        &format!("--service-token={SERVICE_TOKEN}"),
        "--database-max-connections=4",
    ])
    .unwrap();
    let friends = friends_service::startup::Application::build(friends_config)
        .await
        .expect("friends-service starts");
    let friends_url = format!("http://127.0.0.1:{}", friends.port());
    tokio::spawn(friends.run_until_stopped(std::future::pending()));

    let message_args = vec![
        format!("--mongodb-uri={mongo_uri}"),
        format!("--mongodb-database={mongo_db}"),
        format!("--redis-url={redis_url}"),
        format!("--redis-key-prefix={prefix}"),
        format!("--user-service-url={users_url}"),
        format!("--friends-service-url={friends_url}"),
        format!("--service-token={SERVICE_TOKEN}"),
    ];
    let mut config = message_service::config::Config::try_parse_from(
        [
            "message-service".to_owned(),
            "--addr=127.0.0.1:0".to_owned(),
        ]
        .into_iter()
        .chain(message_args.iter().cloned()),
    )
    .unwrap();
    tweak(&mut config);
    let messages = message_service::startup::Application::build(config)
        .await
        .expect("message-service starts");
    let messages_url = format!("http://127.0.0.1:{}", messages.port());
    tokio::spawn(messages.run_until_stopped(std::future::pending()));

    let redis =
        redis::aio::ConnectionManager::new(redis::Client::open(redis_url.as_str()).unwrap())
            .await
            .unwrap();
    let mongo = mongodb::Client::with_uri_str(&mongo_uri)
        .await
        .unwrap()
        .database(&mongo_db);
    Stack {
        users: users_url,
        message_args,
        friends: friends_url,
        messages: messages_url,
        client: Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        redis,
        prefix,
        mongo,
        mysql_urls: vec![users_db, friends_db],
        mongo_uri,
        redis_url,
    }
}

impl Drop for Stack {
    /// Drops the schemas, the Mongo database and the Redis keys on a thread and runtime of its
    /// own (the test's runtime is blocked by this call).
    fn drop(&mut self) {
        let (urls, mongo_uri, mongo_db, redis_url, prefix) = (
            self.mysql_urls.clone(),
            self.mongo_uri.clone(),
            self.mongo.name().to_owned(),
            self.redis_url.clone(),
            self.prefix.clone(),
        );
        chat_models::testing::block_on_side_thread(async move {
            for url in urls {
                chat_models::testing::drop_mysql_schema(&url).await;
            }
            chat_models::testing::drop_mongo_database(&mongo_uri, &mongo_db).await;
            chat_models::testing::delete_redis_keys(&redis_url, &prefix).await;
        });
    }
}

impl Stack {
    /// Registers a user in user-service, with tokens in the body.
    pub async fn user(&self, name: &str) -> User {
        let response = self
            .client
            .post(format!("{}/auth/register", self.users))
            .json(&json!({ "username": name, "email": format!("{name}@example.com"), "password": PASSWORD, "token_delivery": "body" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "register {name}");
        let body: Value = response.json().await.unwrap();
        User {
            id: body["user"]["uuid"].as_str().unwrap().to_owned(),
            access: body["tokens"]["access_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Makes two users friends through friends-service (a request each way).
    pub async fn befriend(&self, a: &User, b: &User) {
        for (from, to) in [(a, b), (b, a)] {
            let response = self
                .client
                .post(format!("{}/friends/requests", self.friends))
                .bearer_auth(&from.access)
                .json(&json!({ "user_uuid": to.id }))
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "{}", response.status());
        }
    }

    /// Ends a friendship through friends-service.
    pub async fn unfriend(&self, a: &User, b: &User) {
        let response = self
            .client
            .delete(format!("{}/friends/{}", self.friends, b.id))
            .bearer_auth(&a.access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// A call to message-service as `user`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        user: &User,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.messages))
            .bearer_auth(&user.access);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// A call that must answer `expected`; its JSON body (null when empty).
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        user: &User,
        body: Option<Value>,
        expected: StatusCode,
    ) -> Value {
        let response = self.call(method.clone(), path, user, body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, expected, "{method} {path}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// The direct conversation of two friends.
    pub async fn direct(&self, me: &User, other: &User) -> String {
        let response = self
            .call(
                Method::POST,
                "/conversations/direct",
                me,
                Some(json!({ "user_uuid": other.id })),
            )
            .await;
        assert!(response.status().is_success(), "{}", response.status());
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// Sends a text; returns the stored message.
    pub async fn send(&self, me: &User, conversation: &str, text: &str) -> Value {
        self.expect(
            Method::POST,
            &format!("/conversations/{conversation}/messages"),
            me,
            Some(json!({ "text": text })),
            StatusCode::CREATED,
        )
        .await
    }

    /// A conversation as `me` sees it.
    pub async fn conversation(&self, me: &User, conversation: &str) -> Value {
        self.expect(
            Method::GET,
            &format!("/conversations/{conversation}"),
            me,
            None,
            StatusCode::OK,
        )
        .await
    }

    /// Events of this stack's stream, waiting up to 5 s until `done` accepts them.
    pub async fn events_until(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let stream = format!("{}events", self.prefix);
        for _ in 0..50 {
            let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(&stream)
                .arg("-")
                .arg("+")
                .query_async(&mut self.redis.clone())
                .await
                .unwrap();
            let events: Vec<Value> = entries
                .ids
                .iter()
                .map(|entry| serde_json::from_str(&entry.get::<String>("event").unwrap()).unwrap())
                .collect();
            if done(&events) {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the expected events were not published within 5 s");
    }
}

/// The error code of a response body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// A message-service in a process of its own (the built binary), killed on drop.
pub struct Instance {
    pub url: String,
    child: std::process::Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Stack {
    /// Starts another message-service process on the same stores, with extra `--flags`.
    pub async fn instance(&self, extra: &[&str]) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_message-service"))
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
