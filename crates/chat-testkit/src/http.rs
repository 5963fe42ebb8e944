//! Calls to the service under test, and reading error answers.

use std::time::Duration;

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::Value;

use crate::{Stack, TestUser};

/// A browser-like client: keeps cookies, never follows redirects.
pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The `error.code` of an error response.
pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
        .to_owned()
}

/// The `error.code` of an error body (empty when there is none).
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

impl Stack {
    /// A URL of the service under test.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.target_url())
    }

    /// GETs a path without credentials; the JSON body, whatever the status.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        response.json().await.unwrap()
    }

    /// POSTs JSON without credentials.
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// The `/metrics` text of a service at `base` (the stack's own, or an [`crate::Instance`]).
    pub async fn metrics_at(&self, base: &str) -> String {
        self.client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// GETs with an access token.
    pub async fn get_as(&self, path: &str, access: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }

    /// Any method with an access token and a JSON body.
    pub async fn send_as(&self, method: Method, path: &str, access: &str, body: Value) -> Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(access)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A call as `user`, with a JSON body if any.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        user: &TestUser,
        body: Option<Value>,
    ) -> Response {
        self.call_at(method, self.url(path), user, body).await
    }

    /// A call as `user` to any URL (a service other than the one under test, another
    /// instance).
    pub async fn call_at(
        &self,
        method: Method,
        url: String,
        user: &TestUser,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, url).bearer_auth(&user.access);
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
        user: &TestUser,
        body: Option<Value>,
        expected: StatusCode,
    ) -> Value {
        let response = self.call(method.clone(), path, user, body).await;
        json_with(response, expected, &format!("{method} {path}")).await
    }

    /// A GET as `user` that must answer 200; its body.
    pub async fn get(&self, path: &str, user: &TestUser) -> Value {
        self.expect(Method::GET, path, user, None, StatusCode::OK)
            .await
    }
}

/// The JSON body (null when empty) of a response that must have status `expected`; `what`
/// names the call in the failure message.
pub async fn json_with(response: Response, expected: StatusCode, what: &str) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, expected, "{what}: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    }
}
