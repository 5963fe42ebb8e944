//! `spawn_app()`: the real application on a port of its own, with isolated storage, plus the
//! helpers the tests share.

use std::time::Duration;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use user_service::config::Config;
use user_service::startup::Application;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";
pub const SERVICE_TOKEN: &str = "test-service-token-0123456789";

/// A running user-service and what a test needs to poke at it.
pub struct TestApp {
    pub address: String,
    /// A client with a cookie jar, like one browser.
    pub client: Client,
    /// The signing key's PEM, to forge tokens in tests.
    pub jwt_pem: String,
    pub redis: redis::aio::ConnectionManager,
    pub redis_prefix: String,
    pub mongo: mongodb::Database,
    mysql_url: String,
    mongo_uri: String,
    redis_url: String,
}

fn env_or_panic(names: &[&str]) -> String {
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

/// A browser-like client: keeps cookies, never follows redirects.
pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Starts the app with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `tweak` adjusts its configuration.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_stoppable(tweak, std::future::pending()).await.0
}

/// Starts the app, serving until `shutdown` resolves; returns the serving task too.
pub async fn spawn_stoppable(
    tweak: impl FnOnce(&mut Config),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (TestApp, tokio::task::JoinHandle<std::io::Result<()>>) {
    let mysql_base = env_or_panic(&["TEST_MYSQL_URL", "DATABASE_URL"]);
    let mongo_uri = env_or_panic(&["MONGODB_URI"]);
    let redis_url = env_or_panic(&["REDIS_URL"]);
    let id = Uuid::new_v4().simple().to_string();
    let mysql_url = format!("{}/test_users_{id}", mysql_base.trim_end_matches('/'));
    let redis_prefix = format!("test:{id}:");
    let jwt_pem = SigningKey::generate(&mut rand::rngs::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap()
        .to_string();

    let mut config = base_config(
        &mysql_url,
        &mongo_uri,
        &format!("test_users_{id}"),
        &redis_url,
        &redis_prefix,
    );
    config.jwt_private_key = Some(jwt_pem.clone().into());
    tweak(&mut config);
    let mongo_database = config.mongodb_database.clone();

    let app = Application::build(config)
        .await
        .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let serving = tokio::spawn(app.run_until_stopped(shutdown));

    let redis =
        redis::aio::ConnectionManager::new(redis::Client::open(redis_url.as_str()).unwrap())
            .await
            .unwrap();
    let mongo = mongodb::Client::with_uri_str(&mongo_uri)
        .await
        .unwrap()
        .database(&mongo_database);
    let app = TestApp {
        address,
        client: new_client(),
        jwt_pem,
        redis,
        redis_prefix,
        mongo,
        mysql_url,
        mongo_uri,
        redis_url,
    };
    (app, serving)
}

/// A configuration for tests; fields not named here keep their defaults.
pub fn base_config(
    mysql_url: &str,
    mongo_uri: &str,
    mongo_db: &str,
    redis_url: &str,
    prefix: &str,
) -> Config {
    use clap::Parser as _;
    Config::try_parse_from([
        "user-service",
        "--addr=127.0.0.1:0",
        &format!("--database-url={mysql_url}"),
        &format!("--mongodb-uri={mongo_uri}"),
        &format!("--mongodb-database={mongo_db}"),
        &format!("--redis-url={redis_url}"),
        &format!("--redis-key-prefix={prefix}"),
        &format!("--service-token={SERVICE_TOKEN}"),
        "--database-max-connections=4",
    ])
    .unwrap()
}

impl Drop for TestApp {
    /// Drops the test's MySQL and Mongo databases and Redis keys, even when the test panicked.
    /// The cleanup runs on a thread and runtime of its own with connections of its own: the
    /// test's clients have background tasks on the test's runtime, which this call blocks.
    fn drop(&mut self) {
        let mysql_url = self.mysql_url.clone();
        let mongo_uri = self.mongo_uri.clone();
        let mongo_db = self.mongo.name().to_owned();
        let redis_url = self.redis_url.clone();
        let prefix = self.redis_prefix.clone();
        chat_models::testing::block_on_side_thread(async move {
            chat_models::testing::drop_mysql_schema(&mysql_url).await;
            chat_models::testing::drop_mongo_database(&mongo_uri, &mongo_db).await;
            chat_models::testing::delete_redis_keys(&redis_url, &prefix).await;
        });
    }
}

/// The `error.code` of an error response.
pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
        .to_owned()
}

/// Tokens of a session opened with `token_delivery: body`.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub session_id: String,
    pub access: String,
    pub refresh: String,
}

impl Session {
    fn from_body(body: &Value) -> Self {
        Self {
            user_id: body["user"]["uuid"].as_str().unwrap().to_owned(),
            session_id: body["session_id"].as_str().unwrap().to_owned(),
            access: body["tokens"]["access_token"].as_str().unwrap().to_owned(),
            refresh: body["tokens"]["refresh_token"].as_str().unwrap().to_owned(),
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_as(&self, path: &str, access: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }

    pub async fn send_as(
        &self,
        method: reqwest::Method,
        path: &str,
        access: &str,
        body: Value,
    ) -> Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(access)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Registers through the cookie flow of `client`; returns the response body.
    pub async fn register_with(&self, client: &Client, username: &str, email: &str) -> Value {
        let response = client
            .post(self.url("/auth/register"))
            .json(&json!({ "username": username, "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "register {username}"
        );
        response.json().await.unwrap()
    }

    /// Registers with tokens in the body.
    pub async fn register_api(&self, username: &str) -> Session {
        let response = self
            .post(
                "/auth/register",
                &json!({
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "password": PASSWORD,
                    "token_delivery": "body",
                }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "register {username}"
        );
        Session::from_body(&response.json().await.unwrap())
    }

    /// Signs in with tokens in the body; panics unless it succeeds.
    pub async fn login_api(&self, login: &str, password: &str) -> Session {
        let response = self.try_login(login, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login {login}");
        Session::from_body(&response.json().await.unwrap())
    }

    pub async fn try_login(&self, login: &str, password: &str) -> Response {
        self.post(
            "/auth/login",
            &json!({ "login": login, "password": password, "token_delivery": "body" }),
        )
        .await
    }

    pub async fn refresh_api(&self, refresh: &str) -> Response {
        self.post("/auth/refresh", &json!({ "refresh_token": refresh }))
            .await
    }

    /// The events in this test's stream, as `(type, envelope)`.
    pub async fn events(&self) -> Vec<(String, Value)> {
        let stream = format!("{}events", self.redis_prefix);
        let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&stream)
            .arg("-")
            .arg("+")
            .query_async(&mut self.redis.clone())
            .await
            .unwrap();
        entries
            .ids
            .iter()
            .map(|entry| {
                let kind: String = entry.get("type").unwrap();
                let event: String = entry.get("event").unwrap();
                (kind, serde_json::from_str(&event).unwrap())
            })
            .collect()
    }

    /// Waits up to 5 s for an event of `kind` to appear.
    pub async fn wait_for_event(&self, kind: &str) -> Value {
        for _ in 0..50 {
            if let Some((_, event)) = self.events().await.into_iter().find(|(k, _)| k == kind) {
                return event;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {kind} event within 5 s; got {:?}", self.events().await);
    }
}
