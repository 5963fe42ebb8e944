//! Web push: a push endpoint run by the test (let through by the test-only allow-list) checks
//! each request's VAPID token and decrypts its body with an independent implementation (the
//! `ece` crate, on OpenSSL) using keys made like a browser's.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use chat_testkit::{code, json_with, Instance, Service, Stack, TestUser, WsClient};
use ece::crypto::LocalKeyPair;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
use reqwest::Method;
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One request the push endpoint received.
#[derive(Debug, Clone)]
struct Received {
    browser: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer, per browser, before the default 201.
    script: Arc<Mutex<HashMap<String, VecDeque<u16>>>>,
}

/// A push service on 127.0.0.1: `POST /push/{browser}` records the request and answers as
/// scripted for that browser (201 by default).
struct PushService {
    port: u16,
    inbox: Inbox,
}

impl PushService {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = Inbox::default();
        let app = Router::new()
            .route(
                "/push/{browser}",
                post(
                    |State(inbox): State<Inbox>,
                     Path(browser): Path<String>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        let status = inbox
                            .script
                            .lock()
                            .unwrap()
                            .get_mut(&browser)
                            .and_then(VecDeque::pop_front)
                            .unwrap_or(201);
                        inbox.received.lock().unwrap().push(Received {
                            browser,
                            headers,
                            body,
                        });
                        StatusCode::from_u16(status).unwrap()
                    },
                ),
            )
            .with_state(inbox.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { port, inbox }
    }

    fn allowed(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers these statuses, in order, to `browser`'s next requests.
    fn answer(&self, browser: &str, statuses: &[u16]) {
        self.inbox
            .script
            .lock()
            .unwrap()
            .insert(browser.to_owned(), statuses.iter().copied().collect());
    }

    fn received(&self) -> Vec<Received> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// Waits until `count` requests have come in (at most 15 s); returns all of them.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..300 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {count} pushes, got {}: {:?}",
            self.received().len(),
            self.received()
                .iter()
                .map(|r| r.browser.clone())
                .collect::<Vec<_>>()
        );
    }

    /// The requests so far once every message sent was handled, after a moment for deliveries
    /// in flight to arrive: for "nothing more".
    async fn settled(&self, stack: &Stack) -> Vec<Received> {
        wait_handled(stack).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.received()
    }
}

/// A browser's push keys (made by OpenSSL through `ece`, as a browser would) and endpoint.
struct Browser {
    name: String,
    keys: Box<dyn LocalKeyPair>,
    auth: [u8; 16],
    endpoint: String,
}

impl Browser {
    fn new(service: &PushService, name: &str) -> Self {
        let (keys, auth) = ece::generate_keypair_and_auth_secret().unwrap();
        Self {
            name: name.to_owned(),
            keys,
            auth,
            endpoint: format!("{}/push/{name}", service.origin()),
        }
    }

    fn subscription(&self) -> Value {
        json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": B64.encode(self.keys.pub_as_raw().unwrap()),
                "auth": B64.encode(self.auth),
            },
        })
    }

    async fn subscribe(&self, stack: &Stack, user: &TestUser) -> Value {
        let body = Some(self.subscription());
        stack
            .expect(
                Method::POST,
                "/push/subscriptions",
                user,
                body,
                StatusCode::CREATED,
            )
            .await
    }

    /// Decrypts a request meant for this browser.
    fn open(&self, received: &Received) -> Value {
        assert_eq!(received.browser, self.name);
        let plain = ece::decrypt(
            &self.keys.raw_components().unwrap(),
            &self.auth,
            &received.body,
        )
        .expect("the body decrypts with the browser's keys");
        serde_json::from_slice(&plain).unwrap()
    }
}

/// A fresh VAPID key, PEM.
fn vapid_pem() -> String {
    p256::SecretKey::random(&mut rand::rngs::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap()
        .to_string()
}

async fn stack_pushing_to(service: &PushService, pem: &str) -> Stack {
    let (allowed, pem) = (service.allowed(), pem.to_owned());
    Stack::builder(Service::Messages)
        .messages_config(move |config| {
            config.vapid_private_key = Some(pem.into());
            config.push_unsafe_allow = vec![allowed];
        })
        .start()
        .await
}

/// Checks the VAPID token of a request: ES256 by the server's key, for the push service's
/// origin, expiring within 24 hours.
fn assert_vapid(received: &Received, server_key: &str, origin: &str) {
    let authorization = received.headers["authorization"].to_str().unwrap();
    let (token, key) = authorization
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .expect("a vapid authorization");
    assert_eq!(key, server_key);
    let point = B64.decode(key).unwrap();
    let decoding =
        DecodingKey::from_ec_components(&B64.encode(&point[1..33]), &B64.encode(&point[33..]))
            .unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[origin]);
    let claims = jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .expect("a valid VAPID token")
        .claims;
    let exp = claims["exp"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(exp > now && exp <= now + 24 * 3600, "exp {exp}, now {now}");
    assert!(claims["sub"].as_str().unwrap().starts_with("mailto:"));
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received.headers[name].to_str().unwrap()
}

/// A stack pushing to `service`, and a second instance with the same key.
async fn two_instances_pushing_to(service: &PushService) -> (Stack, Instance) {
    let pem = vapid_pem();
    let stack = stack_pushing_to(service, &pem).await;
    let other = stack
        .instance(&[
            &format!("--vapid-private-key={pem}"),
            &format!("--push-unsafe-allow={}", service.allowed()),
        ])
        .await;
    (stack, other)
}

/// Sends message `n` as `sender`, the even ones through the stack's instance and the odd ones
/// through `other`; the message stored.
async fn send_through(
    stack: &Stack,
    other: &Instance,
    sender: &TestUser,
    conversation: &str,
    n: usize,
) -> Value {
    let base = if n % 2 == 0 {
        &stack.messages
    } else {
        &other.url
    };
    let url = format!("{base}/conversations/{conversation}/messages");
    let body = json!({ "text": format!("message {n}") });
    let response = stack.call_at(Method::POST, url, sender, Some(body)).await;
    json_with(response, StatusCode::CREATED, "a send").await
}

/// Waits until the `message-push` group has read and acknowledged every event written so far
/// (`XINFO GROUPS`: no lag, nothing pending): each message so far was either handed to a
/// delivery or skipped.
async fn wait_handled(stack: &Stack) {
    let stream = chat_models::events::stream_name(&stack.prefix);
    for _ in 0..200 {
        let groups: Vec<HashMap<String, redis::Value>> = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&stream)
            .query_async(&mut stack.redis.clone())
            .await
            .unwrap();
        let caught_up = groups.iter().any(|group| {
            let number = |key: &str| match group.get(key) {
                Some(redis::Value::Int(n)) => Some(*n),
                _ => None,
            };
            matches!(group.get("name"), Some(redis::Value::BulkString(name)) if name == b"message-push")
                && number("pending") == Some(0)
                && number("lag") == Some(0)
        });
        if caught_up {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the message-push group did not catch up");
}

/// Waits until `user` is offline in Redis (their last socket closed).
async fn wait_offline(stack: &Stack, user: &TestUser) {
    let key = format!("{}presence:{}", stack.prefix, user.id);
    for _ in 0..100 {
        let sockets: i64 = redis::cmd("ZCARD")
            .arg(&key)
            .query_async(&mut stack.redis.clone())
            .await
            .unwrap();
        if sockets == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} stayed online", user.name);
}

/// Changes `user`'s notification settings; the settings after.
async fn set_settings(stack: &Stack, user: &TestUser, patch: Value) -> Value {
    let path = "/notifications/settings";
    stack
        .expect(Method::PATCH, path, user, Some(patch), StatusCode::OK)
        .await
}

/// Mutes or unmutes a conversation for `user`; the settings after.
async fn set_muted(stack: &Stack, user: &TestUser, conversation: &str, muted: bool) -> Value {
    let method = if muted { Method::PUT } else { Method::DELETE };
    let path = format!("/conversations/{conversation}/mute");
    stack
        .expect(method, &path, user, None, StatusCode::OK)
        .await
}

async fn subscriptions(stack: &Stack, user: &TestUser) -> Vec<Value> {
    let list = stack.get("/push/subscriptions", user).await;
    list["subscriptions"].as_array().unwrap().clone()
}

/// Waits until `user` has `count` subscriptions; returns them.
async fn wait_subscriptions(stack: &Stack, user: &TestUser, count: usize) -> Vec<Value> {
    for _ in 0..200 {
        let list = subscriptions(stack, user).await;
        if list.len() == count {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} kept {:?}", user.name, subscriptions(stack, user).await);
}

#[tokio::test]
async fn a_message_to_someone_away_is_pushed_encrypted_and_signed_for_their_browser() {
    let service = PushService::start().await;
    let stack = stack_pushing_to(&service, &vapid_pem()).await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    let (ann_browser, bob_browser) = (Browser::new(&service, "ann"), Browser::new(&service, "bob"));
    ann_browser.subscribe(&stack, &ann).await;
    let view = bob_browser.subscribe(&stack, &bob).await;
    assert_eq!(view["push_service"], service.origin());
    assert_eq!(view["this_session"], true);
    let server_key = stack.get("/push/vapid-key", &bob).await["public_key"]
        .as_str()
        .unwrap()
        .to_owned();

    let sent = stack.send(&ann, &id, "hello bob, are you there?").await;
    let received = service.wait_for(1).await;
    let push = &received[0];
    assert_vapid(push, &server_key, &service.origin());
    assert_eq!(header(push, "content-encoding"), "aes128gcm");
    assert_eq!(header(push, "ttl"), "86400");
    assert_eq!(header(push, "urgency"), "high");
    assert_eq!(header(push, "topic"), id, "one topic per conversation");
    assert!(push.body.len() < 4096);
    let payload = bob_browser.open(push);
    assert_eq!(payload["type"], "message");
    assert_eq!(payload["title"], "ann");
    assert_eq!(payload["preview"], "hello bob, are you there?");
    assert_eq!(payload["conversation_id"], id);
    assert_eq!(payload["message_id"], sent["id"]);
    assert_eq!(payload["sender_uuid"], ann.id);
    assert_eq!(payload["url"], format!("/chat?c={id}"));

    // "Hide content": the notification says who, not what.
    let settings = set_settings(&stack, &bob, json!({ "hide_content": true })).await;
    assert_eq!(settings["hide_content"], true);
    assert_eq!(settings["do_not_disturb"], false);
    stack.send(&ann, &id, "a secret").await;
    let received = service.wait_for(2).await;
    let payload = bob_browser.open(&received[1]);
    assert_eq!(payload["title"], "ann");
    assert!(payload["preview"].is_null(), "{payload}");
    // The sender's own browser is never notified of their message.
    assert!(service
        .settled(&stack)
        .await
        .iter()
        .all(|r| r.browser == "bob"));
}

#[tokio::test]
async fn only_members_without_a_live_socket_are_pushed() {
    let service = PushService::start().await;
    let stack = stack_pushing_to(&service, &vapid_pem()).await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    let browser = Browser::new(&service, "bob");
    browser.subscribe(&stack, &bob).await;

    let (ws, _) = WsClient::open(&stack.messages, &bob).await;
    stack.send(&ann, &id, "while bob is here").await;
    // Presence counts when the message is handled: stay until then.
    wait_handled(&stack).await;
    drop(ws);
    wait_offline(&stack, &bob).await;
    stack.send(&ann, &id, "while bob is away").await;
    let received = service.wait_for(1).await;
    assert_eq!(browser.open(&received[0])["preview"], "while bob is away");
    assert_eq!(
        service.settled(&stack).await.len(),
        1,
        "nothing pushed while online"
    );
}

#[tokio::test]
async fn muted_conversations_and_do_not_disturb_push_nothing() {
    let service = PushService::start().await;
    let stack = stack_pushing_to(&service, &vapid_pem()).await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let direct = stack.direct(&ann, &bob).await;
    let group = stack.group(&ann, "Team", &[&bob]).await;
    let browser = Browser::new(&service, "bob");
    browser.subscribe(&stack, &bob).await;

    let muted = set_muted(&stack, &bob, &direct, true).await;
    assert_eq!(muted["muted_conversations"], json!([direct]));
    stack.send(&ann, &direct, "muted").await;
    stack.send(&ann, &group, "in the group").await;
    let received = service.wait_for(1).await;
    let payload = browser.open(&received[0]);
    assert_eq!(payload["preview"], "in the group");
    assert_eq!(payload["title"], "ann in Team");
    assert_eq!(header(&received[0], "urgency"), "normal");
    assert_eq!(header(&received[0], "topic"), group);

    set_settings(&stack, &bob, json!({ "do_not_disturb": true })).await;
    stack.send(&ann, &group, "do not disturb").await;
    // Settings count when the message is handled: keep them until then.
    wait_handled(&stack).await;
    set_settings(&stack, &bob, json!({ "do_not_disturb": false })).await;
    let unmuted = set_muted(&stack, &bob, &direct, false).await;
    assert_eq!(unmuted["muted_conversations"], json!([]));
    stack.send(&ann, &direct, "back again").await;
    let received = service.wait_for(2).await;
    assert_eq!(browser.open(&received[1])["preview"], "back again");
    assert_eq!(service.settled(&stack).await.len(), 2);
    // Muting someone else's conversation is refused like reading it.
    let carl = stack.register("carl").await;
    let response = stack
        .call(
            Method::PUT,
            &format!("/conversations/{direct}/mute"),
            &carl,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn two_instances_push_each_message_once() {
    let service = PushService::start().await;
    let (stack, other) = two_instances_pushing_to(&service).await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    let browser = Browser::new(&service, "bob");
    browser.subscribe(&stack, &bob).await;

    let mut sent = Vec::new();
    for n in 0..10 {
        sent.push(send_through(&stack, &other, &ann, &id, n).await["id"].clone());
    }
    service.wait_for(10).await;
    let received = service.settled(&stack).await;
    let mut pushed: Vec<Value> = received
        .iter()
        .map(|r| browser.open(r)["message_id"].clone())
        .collect();
    pushed.sort_by_key(|id| id.as_str().unwrap().to_owned());
    sent.sort_by_key(|id| id.as_str().unwrap().to_owned());
    assert_eq!(pushed, sent, "every message once");
}

/// Members found without a subscription are remembered as such (a message then costs no
/// query for them); a subscription added on any instance ends that at once on every instance.
#[tokio::test]
async fn a_browser_subscribed_after_messages_went_unpushed_gets_the_next_ones() {
    let service = PushService::start().await;
    let (stack, other) = two_instances_pushing_to(&service).await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    // Bob has no browser yet: nothing to push, whichever instance handles each message.
    for n in 0..6 {
        send_through(&stack, &other, &ann, &id, n).await;
    }
    assert!(service.settled(&stack).await.is_empty());

    // He subscribes through the second instance; the first hears of it.
    let browser = Browser::new(&service, "bob");
    let url = format!("{}/push/subscriptions", other.url);
    let subscribed = stack
        .call_at(Method::POST, url, &bob, Some(browser.subscription()))
        .await;
    assert_eq!(subscribed.status(), StatusCode::CREATED);
    // The announcement travels over Redis pub/sub, a message through a transaction and the
    // event stream: a moment for the first to arrive first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sent = Vec::new();
    for n in 6..12 {
        sent.push(send_through(&stack, &other, &ann, &id, n).await["id"].clone());
    }
    service.wait_for(6).await;
    let mut pushed: Vec<Value> = service
        .settled(&stack)
        .await
        .iter()
        .map(|r| browser.open(r)["message_id"].clone())
        .collect();
    pushed.sort_by_key(|id| id.as_str().unwrap().to_owned());
    sent.sort_by_key(|id| id.as_str().unwrap().to_owned());
    assert_eq!(pushed, sent, "every message after the subscription, once");
}

#[tokio::test]
async fn a_gone_subscription_is_removed_and_a_busy_push_service_is_retried() {
    let service = PushService::start().await;
    let stack = stack_pushing_to(&service, &vapid_pem()).await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    let (gone, busy) = (
        Browser::new(&service, "gone"),
        Browser::new(&service, "busy"),
    );
    gone.subscribe(&stack, &bob).await;
    busy.subscribe(&stack, &bob).await;
    service.answer("gone", &[410]);
    service.answer("busy", &[503]);

    stack.send(&ann, &id, "anyone?").await;
    let received = service.wait_for(3).await;
    let busy_tries: Vec<&Received> = received.iter().filter(|r| r.browser == "busy").collect();
    assert_eq!(busy_tries.len(), 2, "retried once after the 503");
    assert_eq!(busy.open(busy_tries[1])["preview"], "anyone?");
    let left = wait_subscriptions(&stack, &bob, 1).await;
    assert_eq!(left.len(), 1);
    // The next message goes to the remaining browser only.
    stack.send(&ann, &id, "still there?").await;
    let received = service.wait_for(4).await;
    assert_eq!(busy.open(&received[3])["preview"], "still there?");
    assert_eq!(service.settled(&stack).await.len(), 4);
}

#[tokio::test]
async fn signing_out_removes_the_sessions_subscriptions() {
    let service = PushService::start().await;
    let stack = stack_pushing_to(&service, &vapid_pem()).await;
    let bob = stack.register("bob").await;
    let laptop = stack.login("bob", chat_testkit::PASSWORD).await;
    Browser::new(&service, "phone")
        .subscribe(&stack, &bob)
        .await;
    Browser::new(&service, "laptop")
        .subscribe(&stack, &laptop)
        .await;
    assert_eq!(subscriptions(&stack, &laptop).await.len(), 2);

    let logout = stack
        .client
        .post(format!("{}/auth/logout", stack.users))
        .bearer_auth(&bob.access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let left = wait_subscriptions(&stack, &laptop, 1).await;
    assert_eq!(left[0]["this_session"], true, "the laptop's stays");

    // Unsubscribing by endpoint.
    let body = Some(json!({ "endpoint": format!("{}/push/laptop", service.origin()) }));
    stack
        .expect(
            Method::DELETE,
            "/push/subscriptions",
            &laptop,
            body.clone(),
            StatusCode::NO_CONTENT,
        )
        .await;
    let again = stack
        .call(Method::DELETE, "/push/subscriptions", &laptop, body)
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(code(&again.json().await.unwrap()), "subscription_not_found");
}

#[tokio::test]
async fn an_endpoint_that_resolves_to_a_private_address_is_never_called_and_is_dropped() {
    let service = PushService::start().await;
    let stack = stack_pushing_to(&service, &vapid_pem()).await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    // A name is checked when it is resolved, at delivery: `localhost` is loopback.
    let mut sneaky = Browser::new(&service, "sneaky");
    sneaky.endpoint = "https://localhost/push/sneaky".to_owned();
    sneaky.subscribe(&stack, &bob).await;
    stack.send(&ann, &id, "hello").await;
    wait_subscriptions(&stack, &bob, 0).await;
    assert!(service.received().is_empty());
}

#[tokio::test]
async fn subscriptions_are_validated() {
    let service = PushService::start().await;
    let stack = stack_pushing_to(&service, &vapid_pem()).await;
    let bob = stack.register("bob").await;
    let browser = Browser::new(&service, "bob");
    let refused = |mut body: Value, path: &'static str, value: &str| {
        let pointer = path.replace('.', "/");
        *body.pointer_mut(&format!("/{pointer}")).unwrap() = json!(value);
        body
    };
    for (field, value, expected) in [
        (
            "endpoint",
            "http://push.example.com/x",
            "not_a_push_service",
        ),
        ("endpoint", "https://127.0.0.1/x", "not_a_push_service"),
        ("endpoint", "https://10.1.2.3/x", "not_a_push_service"),
        ("endpoint", "https://[::1]/x", "not_a_push_service"),
        (
            "endpoint",
            "https://push.example.com:8443/x",
            "not_a_push_service",
        ),
        ("endpoint", "not a url", "not_a_push_service"),
        ("keys.p256dh", &B64.encode([4u8; 65]), "invalid_key"),
        ("keys.auth", &B64.encode([1u8; 15]), "invalid_key"),
    ] {
        let body = refused(browser.subscription(), field, value);
        let response = stack
            .call(Method::POST, "/push/subscriptions", &bob, Some(body))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["details"][0]["field"], field);
        assert_eq!(
            body["error"]["details"][0]["code"], expected,
            "{field}={value}"
        );
    }
    assert!(subscriptions(&stack, &bob).await.is_empty());

    // Without a VAPID key there is no push at all.
    let plain = Stack::messages().await;
    let carl = plain.register("carl").await;
    for (method, path, body) in [
        (Method::GET, "/push/vapid-key", None),
        (
            Method::POST,
            "/push/subscriptions",
            Some(browser.subscription()),
        ),
    ] {
        let response = plain.call(method, path, &carl, body).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(code(&response.json().await.unwrap()), "push_disabled");
    }
}

#[tokio::test]
async fn a_deleted_account_leaves_no_subscription_or_settings() {
    let service = PushService::start().await;
    let stack = stack_pushing_to(&service, &vapid_pem()).await;
    let bob = stack.register("bob").await;
    Browser::new(&service, "bob").subscribe(&stack, &bob).await;
    set_settings(&stack, &bob, json!({ "do_not_disturb": true })).await;
    let deleted = stack
        .client
        .delete(format!("{}/users/me", stack.users))
        .bearer_auth(&bob.access)
        .json(&json!({ "password": chat_testkit::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let left = || async {
        let subscriptions = stack
            .mongo
            .collection::<bson::Document>("push_subscriptions")
            .count_documents(bson::doc! { "userUuid": &bob.id })
            .await
            .unwrap();
        let settings = stack
            .mongo
            .collection::<bson::Document>("notification_settings")
            .count_documents(bson::doc! { "_id": &bob.id })
            .await
            .unwrap();
        subscriptions + settings
    };
    for _ in 0..100 {
        if left().await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} documents of bob's are left", left().await);
}
