//! Identity providers for the sign-in tests: a real OpenID Connect provider (oidc-provider, in
//! Node, with a rogue issuer beside it; see `oidc-provider/server.mjs`), a GitHub stand-in
//! (token, `/user` and `/user/emails`, in axum), and a [`Browser`] that walks the flows with a
//! cookie jar, redirect by redirect.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::free_port;

/// The secret of every client of the test providers.
pub const CLIENT_SECRET: &str = "test-client-secret";
/// The GitHub stand-in's client id.
pub const GITHUB_CLIENT_ID: &str = "github-test-client";

/// The Node providers: oidc-provider and the rogue issuer.
pub struct OidcProvider {
    port: u16,
    rogue_port: u16,
    _child: tokio::process::Child,
}

impl OidcProvider {
    /// Starts both on free ports (`npm ci` in `crates/chat-testkit/oidc-provider` first;
    /// `scripts/test.sh` does it).
    pub async fn start() -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc-provider");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "run `npm ci` in {} (scripts/test.sh does it)",
            dir.display()
        );
        let (port, rogue_port) = (free_port(), free_port());
        let mut child = tokio::process::Command::new("node")
            .arg("server.mjs")
            .arg(port.to_string())
            .arg(rogue_port.to_string())
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node is installed");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line == "ready" {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(ready, Ok(true), "the test OpenID provider did not start");
        // Keep reading: a closed pipe would make its next notice kill it (EPIPE).
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            port,
            rogue_port,
            _child: child,
        }
    }

    /// The real provider's issuer.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The rogue issuer (signs the id_token a test's `mode` asks for).
    pub fn rogue_issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.rogue_port)
    }

    /// The client id whose redirect URI is a user-service on `port`.
    pub fn client_id(port: u16) -> String {
        format!("chat-test-{port}")
    }
}

/// A GitHub account of the stand-in.
#[derive(Debug, Clone)]
pub struct GitHubUser {
    /// Numeric id (the subject).
    pub id: u64,
    /// Login (the suggested username).
    pub login: String,
    /// `(email, primary, verified)`.
    pub emails: Vec<(String, bool, bool)>,
}

#[derive(Default)]
struct GitHubData {
    users: HashMap<String, GitHubUser>,
    /// code -> (login, code challenge, redirect URI)
    codes: HashMap<String, (String, String, String)>,
    /// access token -> login
    tokens: HashMap<String, String>,
}

/// GitHub's OAuth and REST endpoints, as far as sign-in uses them.
pub struct GitHubStandIn {
    url: String,
    data: Arc<Mutex<GitHubData>>,
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    /// Who signs in at "GitHub" (the stand-in has no login page).
    login: String,
}

#[derive(Deserialize)]
struct TokenForm {
    code: String,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

impl GitHubStandIn {
    /// Starts it on a free port.
    pub async fn start() -> Self {
        let data = Arc::new(Mutex::new(GitHubData::default()));
        let app = Router::new()
            .route("/login/oauth/authorize", get(gh_authorize))
            .route("/login/oauth/access_token", post(gh_token))
            .route("/api/user", get(gh_user))
            .route("/api/user/emails", get(gh_emails))
            .with_state(Arc::clone(&data));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, data }
    }

    /// Adds (or replaces) an account.
    pub fn add_user(&self, user: GitHubUser) {
        self.data
            .lock()
            .unwrap()
            .users
            .insert(user.login.clone(), user);
    }

    /// `GITHUB_AUTHORIZE_URL`.
    pub fn authorize_url(&self) -> String {
        format!("{}/login/oauth/authorize", self.url)
    }

    /// `GITHUB_TOKEN_URL`.
    pub fn token_url(&self) -> String {
        format!("{}/login/oauth/access_token", self.url)
    }

    /// `GITHUB_API_URL`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.url)
    }
}

async fn gh_authorize(
    State(data): State<Arc<Mutex<GitHubData>>>,
    Query(query): Query<AuthorizeQuery>,
) -> Response {
    if query.client_id != GITHUB_CLIENT_ID {
        return (StatusCode::NOT_FOUND, "unknown client").into_response();
    }
    let mut data = data.lock().unwrap();
    if !data.users.contains_key(&query.login) {
        return (StatusCode::NOT_FOUND, "unknown login").into_response();
    }
    // GitHub accepts PKCE with S256; the stand-in insists on it, as our client must send it.
    if query.code_challenge_method.as_deref() != Some("S256") {
        return (StatusCode::BAD_REQUEST, "PKCE S256 expected").into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    data.codes.insert(
        code.clone(),
        (
            query.login,
            query.code_challenge.unwrap_or_default(),
            query.redirect_uri.clone(),
        ),
    );
    let mut back = url::Url::parse(&query.redirect_uri).unwrap();
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &query.state);
    Redirect::to(back.as_str()).into_response()
}

/// GitHub answers token errors with 200 and an `error` field; so does the stand-in.
async fn gh_token(
    State(data): State<Arc<Mutex<GitHubData>>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Json<serde_json::Value> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|value| base64::engine::general_purpose::STANDARD.decode(value).ok())
        .and_then(|value| String::from_utf8(value).ok());
    let client_ok = match basic {
        Some(pair) => pair == format!("{GITHUB_CLIENT_ID}:{CLIENT_SECRET}"),
        None => {
            form.client_id.as_deref() == Some(GITHUB_CLIENT_ID)
                && form.client_secret.as_deref() == Some(CLIENT_SECRET)
        }
    };
    if !client_ok {
        return Json(json!({"error": "incorrect_client_credentials"}));
    }
    let mut data = data.lock().unwrap();
    let Some((login, challenge, redirect_uri)) = data.codes.remove(&form.code) else {
        return Json(json!({"error": "bad_verification_code"}));
    };
    let verifier = form.code_verifier.unwrap_or_default();
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if computed != challenge || form.redirect_uri.as_deref() != Some(redirect_uri.as_str()) {
        return Json(json!({"error": "bad_verification_code"}));
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    data.tokens.insert(token.clone(), login);
    Json(json!({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}))
}

fn gh_caller(data: &GitHubData, headers: &HeaderMap) -> Option<GitHubUser> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let login = data.tokens.get(token)?;
    data.users.get(login).cloned()
}

async fn gh_user(State(data): State<Arc<Mutex<GitHubData>>>, headers: HeaderMap) -> Response {
    match gh_caller(&data.lock().unwrap(), &headers) {
        Some(user) => {
            Json(json!({"id": user.id, "login": user.login, "name": null})).into_response()
        }
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        )
            .into_response(),
    }
}

async fn gh_emails(State(data): State<Arc<Mutex<GitHubData>>>, headers: HeaderMap) -> Response {
    match gh_caller(&data.lock().unwrap(), &headers) {
        Some(user) => Json(
            user.emails
                .iter()
                .map(|(email, primary, verified)| {
                    json!({"email": email, "primary": primary, "verified": verified, "visibility": null})
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        None => (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials"}))).into_response(),
    }
}

/// A browser: one cookie jar for every site, redirects followed by hand.
pub struct Browser {
    /// The client (its jar holds the session cookies after a sign-in).
    pub client: reqwest::Client,
    users: String,
}

impl Browser {
    /// A fresh browser for the user-service at `users`.
    pub fn new(users: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            client,
            users: users.to_owned(),
        }
    }

    /// `POST /auth/oauth/{provider}/start`, as it comes back.
    pub async fn start_raw(&self, provider: &str, intent: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/auth/oauth/{provider}/start", self.users))
            .json(&json!({ "intent": intent }))
            .send()
            .await
            .unwrap()
    }

    /// Starts a flow; returns the provider's authorization URL.
    pub async fn start(&self, provider: &str, intent: &str) -> String {
        let response = self.start_raw(provider, intent).await;
        assert_eq!(response.status(), 200, "start refused");
        let body: serde_json::Value = response.json().await.unwrap();
        body["authorize_url"].as_str().unwrap().to_owned()
    }

    /// Signs in as `login` at the OpenID provider's development login page (and consents);
    /// returns the callback URL the provider sends the browser to.
    /// The provider's cookies live in a jar of their own for each sign-in, so its own session
    /// from an earlier sign-in does not carry over to the next (as a private window would).
    pub async fn sign_in_at_provider(&self, authorize_url: &str, login: &str) -> String {
        let provider = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut url = authorize_url.to_owned();
        for _ in 0..12 {
            if url.contains("/auth/oauth/") {
                return url;
            }
            let response = provider.get(&url).send().await.unwrap();
            if response.status().is_redirection() {
                url = absolute(&url, &location(&response));
                continue;
            }
            let page = response.text().await.unwrap();
            let (action, mut fields) = form_of(&page)
                .unwrap_or_else(|| panic!("unexpected provider page at {url}: {page}"));
            // The login form; the consent form and the provider's own "switch account" form
            // (when another account is signed in there) only need submitting.
            if fields
                .iter()
                .any(|(name, value)| name == "prompt" && value == "login")
            {
                fields.push(("login".to_owned(), login.to_owned()));
                fields.push(("password".to_owned(), "any".to_owned()));
            }
            let target = absolute(&url, &action);
            let response = provider.post(&target).form(&fields).send().await.unwrap();
            assert!(response.status().is_redirection(), "{}", response.status());
            url = absolute(&url, &location(&response));
        }
        panic!("the provider never sent the browser back");
    }

    /// Follows one redirect of a provider that has no login page (GitHub stand-in, rogue
    /// issuer); returns the callback URL.
    pub async fn pass_provider(&self, authorize_url: &str) -> String {
        let response = self.client.get(authorize_url).send().await.unwrap();
        assert!(
            response.status().is_redirection(),
            "{}: {}",
            response.status(),
            response.text().await.unwrap()
        );
        location(&response)
    }

    /// Opens a callback URL; returns where user-service sends the browser.
    pub async fn callback(&self, url: &str) -> url::Url {
        let response = self.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 303, "the callback answers a redirect");
        url::Url::parse(&location(&response)).unwrap()
    }

    /// The whole sign-in at the OpenID provider as `login`; returns where the browser lands.
    pub async fn google(&self, intent: &str, login: &str) -> url::Url {
        let authorize = self.start("google", intent).await;
        let back = self.sign_in_at_provider(&authorize, login).await;
        self.callback(&back).await
    }

    /// The whole sign-in at the GitHub stand-in as `login`; returns where the browser lands.
    pub async fn github(&self, intent: &str, login: &str) -> url::Url {
        let authorize = self.start("github", intent).await;
        let back = self
            .pass_provider(&format!("{authorize}&login={login}"))
            .await;
        self.callback(&back).await
    }

    /// `GET` on user-service with this browser's cookies.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.users))
            .send()
            .await
            .unwrap()
    }
}

/// The first form of a page: its action and hidden fields.
fn form_of(page: &str) -> Option<(String, Vec<(String, String)>)> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(tag[start..end].replace("&amp;", "&"))
    };
    let form_start = page.find("<form")?;
    let form = &page[form_start..form_start + page[form_start..].find("</form>")?];
    let action = attribute(&form[..form.find('>')?], "action")?;
    let fields = form
        .split("<input")
        .skip(1)
        .filter_map(|input| {
            let tag = &input[..input.find('>')?];
            if attribute(tag, "type")? != "hidden" {
                return None;
            }
            Some((attribute(tag, "name")?, attribute(tag, "value")?))
        })
        .collect();
    Some((action, fields))
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

fn absolute(base: &str, location: &str) -> String {
    url::Url::parse(base)
        .unwrap()
        .join(location)
        .unwrap()
        .to_string()
}

/// The query parameter `key` of `url`.
pub fn query_param(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
}

/// The `oauth_error` a failed callback's redirect carries.
pub fn oauth_error(landing: &url::Url) -> Option<String> {
    query_param(landing, "oauth_error")
}
