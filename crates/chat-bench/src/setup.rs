//! Preparing a scenario over the services' public APIs: users, friendships, conversations.

use anyhow::{bail, Context as _};
use futures::StreamExt as _;
use serde_json::{json, Value};

/// A registered user.
#[derive(Debug, Clone)]
pub struct User {
    /// Uuid.
    pub id: String,
    /// Username (password: `benchmark password`).
    pub name: String,
    /// Access token.
    pub access: String,
}

/// Where the services are.
pub struct Services {
    http: reqwest::Client,
    users: String,
    friends: String,
    /// message-service instances.
    pub messages: Vec<String>,
}

impl Services {
    pub fn new(users: &str, friends: &str, messages: &[String]) -> anyhow::Result<Self> {
        if messages.is_empty() {
            bail!("give at least one --messages-url");
        }
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .pool_max_idle_per_host(256)
                .build()?,
            users: users.trim_end_matches('/').to_owned(),
            friends: friends.trim_end_matches('/').to_owned(),
            messages: messages
                .iter()
                .map(|url| url.trim_end_matches('/').to_owned())
                .collect(),
        })
    }

    async fn post(&self, url: String, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        let mut request = self.http.post(&url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() && body["error"]["code"] != "already_friends" {
            bail!("POST {url}: {status} {body}");
        }
        Ok(body)
    }

    /// Registers `count` users named `<prefix>_<n>`, eight at a time.
    pub async fn register_many(&self, prefix: &str, count: usize) -> anyhow::Result<Vec<User>> {
        let users = futures::stream::iter(0..count)
            .map(|n| async move {
                let name = format!("b{prefix}_{n}");
                let body = self
                    .post(
                        format!("{}/auth/register", self.users),
                        None,
                        json!({ "username": name, "email": format!("{name}@bench.test"),
                                "password": "benchmark password", "token_delivery": "body" }),
                    )
                    .await?;
                Ok::<_, anyhow::Error>(User {
                    id: body["user"]["uuid"].as_str().context("no uuid")?.to_owned(),
                    name,
                    access: body["tokens"]["access_token"]
                        .as_str()
                        .context("no token")?
                        .to_owned(),
                })
            })
            .buffered(8)
            .collect::<Vec<_>>()
            .await;
        users.into_iter().collect()
    }

    /// The HTTP client (a connection pool shared by every request).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// friends-service's base URL.
    pub fn friends_url(&self) -> &str {
        &self.friends
    }

    /// user-service's base URL.
    pub fn users_url(&self) -> &str {
        &self.users
    }

    /// Sends a message over REST; returns its `seq`.
    pub async fn send(&self, user: &User, conversation: &str, text: &str) -> anyhow::Result<i64> {
        let body = self
            .post(
                format!("{}/conversations/{conversation}/messages", self.messages[0]),
                Some(&user.access),
                json!({ "text": text }),
            )
            .await?;
        body["seq"].as_i64().context("no seq")
    }

    /// Makes two users friends (a request each way; already friends is fine).
    pub async fn befriend(&self, a: &User, b: &User) -> anyhow::Result<()> {
        for (from, to) in [(a, b), (b, a)] {
            self.post(
                format!("{}/friends/requests", self.friends),
                Some(&from.access),
                json!({ "user_uuid": to.id }),
            )
            .await?;
        }
        Ok(())
    }

    /// The direct conversation of two friends.
    pub async fn direct(&self, a: &User, b: &User) -> anyhow::Result<String> {
        let body = self
            .post(
                format!("{}/conversations/direct", self.messages[0]),
                Some(&a.access),
                json!({ "user_uuid": b.id }),
            )
            .await?;
        Ok(body["id"].as_str().context("no id")?.to_owned())
    }

    /// A group of `people[members[0]]` (its admin) and the other `members`, befriended with
    /// the admin first.
    pub async fn group_of(&self, people: &[User], members: &[usize]) -> anyhow::Result<String> {
        let (&admin, others) = members.split_first().context("a group needs an admin")?;
        for &member in others {
            self.befriend(&people[admin], &people[member]).await?;
        }
        let others: Vec<&User> = others.iter().map(|&member| &people[member]).collect();
        self.group(&people[admin], &others).await
    }

    /// A group of `admin` and friends of theirs.
    pub async fn group(&self, admin: &User, members: &[&User]) -> anyhow::Result<String> {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let body = self
            .post(
                format!("{}/conversations/groups", self.messages[0]),
                Some(&admin.access),
                json!({ "name": "bench group", "member_uuids": ids }),
            )
            .await?;
        Ok(body["id"].as_str().context("no id")?.to_owned())
    }
}
