//! Users through the real routes: registering, signing in, befriending.

use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

use crate::{Stack, PASSWORD};

/// A signed-in user, with tokens delivered in the body.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// The user's uuid.
    pub id: String,
    /// The username.
    pub name: String,
    /// The session of these tokens.
    pub session_id: String,
    /// The access token.
    pub access: String,
    /// The refresh token.
    pub refresh: String,
}

impl TestUser {
    fn from_body(name: &str, body: &Value) -> Self {
        let text = |value: &Value| value.as_str().unwrap().to_owned();
        Self {
            id: text(&body["user"]["uuid"]),
            name: name.to_owned(),
            session_id: text(&body["session_id"]),
            access: text(&body["tokens"]["access_token"]),
            refresh: text(&body["tokens"]["refresh_token"]),
        }
    }
}

impl Stack {
    /// Registers `name` (email `name@example.com`, password [`PASSWORD`]).
    pub async fn register(&self, name: &str) -> TestUser {
        let response = self
            .client
            .post(format!("{}/auth/register", self.users))
            .json(&json!({
                "username": name,
                "email": format!("{name}@example.com"),
                "password": PASSWORD,
                "token_delivery": "body",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "register {name}");
        TestUser::from_body(name, &response.json().await.unwrap())
    }

    /// Registers through the cookie flow of `client`; returns the response body.
    pub async fn register_with(&self, client: &Client, username: &str, email: &str) -> Value {
        let response = client
            .post(format!("{}/auth/register", self.users))
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

    /// Signs in with tokens in the body; panics unless it succeeds.
    pub async fn login(&self, login: &str, password: &str) -> TestUser {
        let response = self.try_login(login, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login {login}");
        let body: Value = response.json().await.unwrap();
        let name = body["user"]["username"].as_str().unwrap().to_owned();
        TestUser::from_body(&name, &body)
    }

    /// Tries to sign in (tokens in the body).
    pub async fn try_login(&self, login: &str, password: &str) -> Response {
        self.client
            .post(format!("{}/auth/login", self.users))
            .json(&json!({ "login": login, "password": password, "token_delivery": "body" }))
            .send()
            .await
            .unwrap()
    }

    /// Presents a refresh token.
    pub async fn refresh(&self, refresh: &str) -> Response {
        self.client
            .post(format!("{}/auth/refresh", self.users))
            .json(&json!({ "refresh_token": refresh }))
            .send()
            .await
            .unwrap()
    }

    /// Sends a friend request by username.
    pub async fn send_request(&self, from: &TestUser, to: &TestUser) -> Response {
        self.client
            .post(format!("{}/friends/requests", self.friends))
            .bearer_auth(&from.access)
            .json(&json!({ "username": to.name }))
            .send()
            .await
            .unwrap()
    }

    /// How `me` stands with `other` (`friends`, `request_sent`, ...), from friends-service.
    pub async fn relationship(&self, me: &TestUser, other: &TestUser) -> String {
        let path = format!("{}/relationships/{}", self.friends, other.id);
        let response = self
            .client
            .get(path)
            .bearer_auth(&me.access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["status"].as_str().unwrap().to_owned()
    }

    /// The usernames in a friends-service page of users or requests (`/friends`, `/blocks`,
    /// `/friends/requests/incoming`, ...).
    pub async fn names(&self, path: &str, me: &TestUser) -> Vec<String> {
        let url = format!("{}{path}", self.friends);
        let response = self
            .client
            .get(url)
            .bearer_auth(&me.access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        let page: Value = response.json().await.unwrap();
        let list = page.get("users").or_else(|| page.get("requests")).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["user"]["username"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Makes two users friends (a request each way: the second accepts the first).
    pub async fn befriend(&self, a: &TestUser, b: &TestUser) {
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

    /// `a` ends the friendship with `b`.
    pub async fn unfriend(&self, a: &TestUser, b: &TestUser) {
        let response = self
            .client
            .delete(format!("{}/friends/{}", self.friends, b.id))
            .bearer_auth(&a.access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// The direct conversation of two friends (message-service).
    pub async fn direct(&self, me: &TestUser, other: &TestUser) -> String {
        let response = self
            .client
            .post(format!("{}/conversations/direct", self.messages))
            .bearer_auth(&me.access)
            .json(&json!({ "user_uuid": other.id }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// Sends a text (message-service); returns the stored message.
    pub async fn send(&self, me: &TestUser, conversation: &str, text: &str) -> Value {
        let response = self
            .client
            .post(format!(
                "{}/conversations/{conversation}/messages",
                self.messages
            ))
            .bearer_auth(&me.access)
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "send to {conversation}"
        );
        response.json().await.unwrap()
    }

    /// A conversation as `me` sees it (message-service).
    pub async fn conversation(&self, me: &TestUser, conversation: &str) -> Value {
        let response = self
            .client
            .get(format!("{}/conversations/{conversation}", self.messages))
            .bearer_auth(&me.access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "get {conversation}");
        response.json().await.unwrap()
    }
}
