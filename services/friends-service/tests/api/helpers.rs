//! `spawn_stack()`: user-service and friends-service on ports of their own, with isolated
//! storage (two MySQL schemas, a Mongo database, a Redis prefix) dropped at the end.

use std::time::Duration;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

pub const SERVICE_TOKEN: &str = "test-service-token-0123456789";
const PASSWORD: &str = "correct horse battery";

pub struct Stack {
    pub users: String,
    pub friends: String,
    pub client: Client,
    pub redis: redis::aio::ConnectionManager,
    pub prefix: String,
    pub friends_db: sqlx::MySqlPool,
    mysql_urls: Vec<String>,
    mongo_uri: String,
    mongo_db: String,
    redis_url: String,
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
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

pub async fn spawn_stack_with(tweak: impl FnOnce(&mut friends_service::config::Config)) -> Stack {
    use clap::Parser as _;
    let mysql = env(&["TEST_MYSQL_URL", "DATABASE_URL"]);
    let mysql = mysql.trim_end_matches('/');
    let (mongo_uri, redis_url) = (env(&["MONGODB_URI"]), env(&["REDIS_URL"]));
    let id = Uuid::new_v4().simple().to_string();
    let prefix = format!("test:{id}:");
    let (users_db, friends_db) = (
        format!("{mysql}/test_fu_{id}"),
        format!("{mysql}/test_ff_{id}"),
    );
    let mongo_db = format!("test_fu_{id}");
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
    ])
    .unwrap();
    user_config.jwt_private_key = Some(pem.into());
    let users = user_service::startup::Application::build(user_config)
        .await
        .expect("user-service starts");
    let users_url = format!("http://127.0.0.1:{}", users.port());
    tokio::spawn(users.run_until_stopped(std::future::pending()));

    let mut config = friends_service::config::Config::try_parse_from([
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
    tweak(&mut config);
    let friends = friends_service::startup::Application::build(config)
        .await
        .expect("friends-service starts");
    let friends_url = format!("http://127.0.0.1:{}", friends.port());
    tokio::spawn(friends.run_until_stopped(std::future::pending()));

    let redis =
        redis::aio::ConnectionManager::new(redis::Client::open(redis_url.as_str()).unwrap())
            .await
            .unwrap();
    let friends_pool = sqlx::MySqlPool::connect(&friends_db).await.unwrap();
    Stack {
        users: users_url,
        friends: friends_url,
        client: Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        redis,
        prefix,
        friends_db: friends_pool,
        mysql_urls: vec![users_db, friends_db],
        mongo_uri,
        mongo_db,
        redis_url,
    }
}

impl Drop for Stack {
    /// Drops the schemas, the Mongo database and the Redis keys on a thread and runtime of its
    /// own (the test's runtime is blocked by this call).
    fn drop(&mut self) {
        let (urls, mongo_uri, mongo_db, redis_url) = (
            self.mysql_urls.clone(),
            self.mongo_uri.clone(),
            self.mongo_db.clone(),
            self.redis_url.clone(),
        );
        let prefix = self.prefix.clone();
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
            name: name.to_owned(),
            access: body["tokens"]["access_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        user: &User,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.friends))
            .bearer_auth(&user.access);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, user: &User) -> Value {
        let response = self.call(reqwest::Method::GET, path, user, None).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn send_request(&self, from: &User, to: &User) -> Response {
        self.call(
            reqwest::Method::POST,
            "/friends/requests",
            from,
            Some(json!({ "username": to.name })),
        )
        .await
    }

    pub async fn relationship(&self, me: &User, other: &User) -> String {
        self.get(&format!("/relationships/{}", other.id), me).await["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Names in a page of users (friends or blocks).
    pub async fn names(&self, path: &str, me: &User) -> Vec<String> {
        let page = self.get(path, me).await;
        let list = page.get("users").or_else(|| page.get("requests")).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["user"]["username"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Event types in this stack's stream, waiting up to 5 s for `expected` to be among them.
    pub async fn wait_for_events(&self, expected: &[&str]) -> Vec<Value> {
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
            let types: Vec<&str> = events
                .iter()
                .map(|event| event["type"].as_str().unwrap())
                .collect();
            if expected.iter().all(|kind| types.contains(kind)) {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("events {expected:?} not all published within 5 s");
    }
}

pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
        .to_owned()
}
