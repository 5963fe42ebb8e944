//! Users through the real routes: registering, signing in, befriending.

use reqwest::{Client, Method, Response, StatusCode};
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
        let url = format!("{}/friends/requests", self.friends);
        let body = json!({ "username": to.name });
        self.call_at(Method::POST, url, from, Some(body)).await
    }

    /// How `me` stands with `other` (`friends`, `request_sent`, ...), from friends-service.
    pub async fn relationship(&self, me: &TestUser, other: &TestUser) -> String {
        let url = format!("{}/relationships/{}", self.friends, other.id);
        let body = ok_json(self.call_at(Method::GET, url, me, None).await).await;
        body["status"].as_str().unwrap().to_owned()
    }

    /// The usernames in a friends-service page of users or requests (`/friends`, `/blocks`,
    /// `/friends/requests/incoming`, ...).
    pub async fn names(&self, path: &str, me: &TestUser) -> Vec<String> {
        let url = format!("{}{path}", self.friends);
        let page = ok_json(self.call_at(Method::GET, url, me, None).await).await;
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
            let url = format!("{}/friends/requests", self.friends);
            let body = json!({ "user_uuid": to.id });
            let response = self.call_at(Method::POST, url, from, Some(body)).await;
            assert!(response.status().is_success(), "{}", response.status());
        }
    }

    /// `a` ends the friendship with `b`.
    pub async fn unfriend(&self, a: &TestUser, b: &TestUser) {
        let url = format!("{}/friends/{}", self.friends, b.id);
        let response = self.call_at(Method::DELETE, url, a, None).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// The direct conversation of two friends (message-service).
    pub async fn direct(&self, me: &TestUser, other: &TestUser) -> String {
        let url = format!("{}/conversations/direct", self.messages);
        let body = json!({ "user_uuid": other.id });
        let response = self.call_at(Method::POST, url, me, Some(body)).await;
        assert!(response.status().is_success(), "{}", response.status());
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// A new group of `admin` with `members` (friends of the admin; message-service): its id.
    pub async fn group(&self, admin: &TestUser, name: &str, members: &[&TestUser]) -> String {
        let url = format!("{}/conversations/groups", self.messages);
        let ids: Vec<&str> = members.iter().map(|member| member.id.as_str()).collect();
        let body = json!({ "name": name, "member_uuids": ids });
        let response = self.call_at(Method::POST, url, admin, Some(body)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "group {name}");
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// Sends a text (message-service); returns the stored message.
    pub async fn send(&self, me: &TestUser, conversation: &str, text: &str) -> Value {
        let url = format!("{}/conversations/{conversation}/messages", self.messages);
        let body = json!({ "text": text });
        let response = self.call_at(Method::POST, url, me, Some(body)).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "send to {conversation}"
        );
        response.json().await.unwrap()
    }

    /// Moves `me`'s read position in `conversation` to `message` (an id; message-service).
    pub async fn read(&self, me: &TestUser, conversation: &str, message: &Value) {
        let url = format!("{}/conversations/{conversation}/read", self.messages);
        let body = json!({ "message_id": message });
        let response = self.call_at(Method::POST, url, me, Some(body)).await;
        assert_eq!(
            response.status(),
            StatusCode::NO_CONTENT,
            "read in {conversation}"
        );
    }

    /// A conversation as `me` sees it (message-service).
    pub async fn conversation(&self, me: &TestUser, conversation: &str) -> Value {
        let url = format!("{}/conversations/{conversation}", self.messages);
        ok_json(self.call_at(Method::GET, url, me, None).await).await
    }

    /// Deletes `me`'s account (user-service; the other services hear of it by its event).
    pub async fn delete_account(&self, me: &TestUser) {
        let url = format!("{}/users/me", self.users);
        let body = json!({ "password": PASSWORD });
        let response = self.call_at(Method::DELETE, url, me, Some(body)).await;
        assert_eq!(
            response.status(),
            StatusCode::NO_CONTENT,
            "delete {}",
            me.name
        );
    }
}

/// The JSON body of a response that must be `200`.
async fn ok_json(response: Response) -> Value {
    crate::http::json_with(response, StatusCode::OK, "GET").await
}
