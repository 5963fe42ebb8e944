//! Sign-in with Google (a real OpenID Connect provider running locally, and a rogue issuer for
//! bad id_tokens) and GitHub (a stand-in of its OAuth and REST endpoints): sign-up, sign-in,
//! linking, unlinking, and every refusal, none of which may leave a session behind.

use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use chat_testkit::oauth::{
    oauth_error, query_param, Browser, GitHubStandIn, GitHubUser, OidcProvider, CLIENT_SECRET,
    GITHUB_CLIENT_ID,
};
use chat_testkit::{error_code, free_port, Service, Stack, PASSWORD};

struct Providers {
    oidc: OidcProvider,
    github: GitHubStandIn,
}

impl Providers {
    async fn start() -> Self {
        let github = GitHubStandIn::start().await;
        github.add_user(GitHubUser {
            id: 583_231,
            login: "octocat".to_owned(),
            emails: vec![
                ("old@example.com".to_owned(), false, true),
                ("Octo@Example.com".to_owned(), true, true),
            ],
        });
        github.add_user(GitHubUser {
            id: 9_001,
            login: "shadow".to_owned(),
            emails: vec![
                ("shadow@example.com".to_owned(), true, false),
                ("other@example.com".to_owned(), false, true),
            ],
        });
        Self {
            oidc: OidcProvider::start().await,
            github,
        }
    }

    /// user-service with both providers, Google at the real provider or the rogue issuer.
    async fn stack(&self, rogue: bool) -> Stack {
        let port = free_port();
        let issuer = if rogue {
            self.oidc.rogue_issuer()
        } else {
            self.oidc.issuer()
        };
        let github = (
            self.github.authorize_url(),
            self.github.token_url(),
            self.github.api_url(),
        );
        Stack::builder(Service::Users)
            .users_config(move |config| {
                config.addr = format!("127.0.0.1:{port}").parse().unwrap();
                config.public_url = format!("http://127.0.0.1:{port}").parse().unwrap();
                config.web_app_url = "http://web.test".parse().unwrap();
                let oauth = &mut config.oauth;
                oauth.google_client_id = Some(OidcProvider::client_id(port));
                oauth.google_client_secret = Some(CLIENT_SECRET.into());
                oauth.google_issuer_url = issuer;
                oauth.github_client_id = Some(GITHUB_CLIENT_ID.to_owned());
                oauth.github_client_secret = Some(CLIENT_SECRET.into());
                oauth.github_authorize_url = github.0.parse().unwrap();
                oauth.github_token_url = github.1.parse().unwrap();
                oauth.github_api_url = github.2.parse().unwrap();
            })
            .start()
            .await
    }
}

/// Finishes a pending sign-up with `username`.
async fn complete(app: &Stack, browser: &Browser, username: &str) -> reqwest::Response {
    browser
        .client
        .post(format!("{}/auth/oauth/signup", app.users))
        .json(&json!({ "username": username }))
        .send()
        .await
        .unwrap()
}

async fn me(browser: &Browser) -> Option<Value> {
    let response = browser.get("/users/me").await;
    (response.status() == StatusCode::OK).then_some(response.json().await.unwrap())
}

async fn methods(browser: &Browser) -> Value {
    browser
        .get("/users/me/sign-in-methods")
        .await
        .json()
        .await
        .unwrap()
}

/// A browser signed in with a password (cookies).
async fn password_browser(app: &Stack, login: &str) -> Browser {
    let browser = Browser::new(&app.users);
    let response = browser
        .client
        .post(format!("{}/auth/login", app.users))
        .json(&json!({ "login": login, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    browser
}

/// Makes every session of the account look signed in `minutes` ago.
async fn age_sessions(app: &Stack, user_id: &str, minutes: i64) {
    let then = bson::DateTime::from_chrono(Utc::now() - chrono::TimeDelta::minutes(minutes));
    app.mongo
        .collection::<bson::Document>("refresh_tokens")
        .update_many(
            bson::doc! { "userUuid": user_id },
            bson::doc! { "$set": { "sessionCreatedAt": then } },
        )
        .await
        .unwrap();
}

async fn providers_of(app: &Stack) -> Value {
    let url = format!("{}/auth/providers", app.users);
    app.client
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn only_configured_providers_are_offered() {
    let bare = Stack::users().await;
    let none = providers_of(&bare).await;
    assert_eq!(none, json!({ "providers": [] }));
    let browser = Browser::new(&bare.users);
    let refused = browser.start_raw("google", "sign_in").await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(refused).await, "provider_not_found");

    let providers = Providers::start().await;
    let app = providers.stack(false).await;
    let both = providers_of(&app).await;
    assert_eq!(
        both,
        json!({ "providers": [{ "id": "google", "name": "Google" }, { "id": "github", "name": "GitHub" }] })
    );
}

#[tokio::test]
async fn google_signs_up_without_a_password_then_signs_in_to_the_same_account() {
    let providers = Providers::start().await;
    let app = providers.stack(false).await;

    let browser = Browser::new(&app.users);
    let landing = browser.google("sign_in", "Ann").await;
    assert_eq!(landing.as_str(), "http://web.test/signup/oauth");
    assert!(
        me(&browser).await.is_none(),
        "no session before the username step"
    );
    let pending: Value = browser
        .get("/auth/oauth/signup")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        pending,
        json!({ "provider": "google", "email": "ann@example.com", "suggested_username": "Ann" })
    );

    let bad = complete(&app, &browser, "a b").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.register("taken").await;
    let taken = complete(&app, &browser, "Taken").await;
    assert_eq!(error_code(taken).await, "username_taken");
    let created = complete(&app, &browser, "ann_g").await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ann@example.com");
    assert!(
        body.get("tokens").is_none(),
        "cookies, not tokens in the body"
    );
    let account = me(&browser).await.expect("signed in by cookie");
    assert_eq!(account["username"], "ann_g");

    // A normal session: listed with its method, refreshed by its cookie.
    let sessions: Value = browser.get("/auth/sessions").await.json().await.unwrap();
    assert_eq!(sessions["sessions"][0]["sign_in_method"], "google");
    let refreshed = browser
        .client
        .post(format!("{}/auth/refresh", app.users))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let linked = methods(&browser).await;
    assert_eq!(linked["has_password"], false);
    assert_eq!(linked["identities"][0]["provider"], "google");
    assert_eq!(linked["identities"][0]["email"], "ann@example.com");
    // The sign-up is spent, and the account has no password to guess.
    let again = complete(&app, &browser, "ann_two").await;
    assert_eq!(error_code(again).await, "signup_not_found");
    for password in ["", "placeholder", PASSWORD] {
        let refused = app.try_login("ann_g", password).await;
        assert_ne!(refused.status(), StatusCode::OK, "password {password:?}");
    }
    assert_eq!(
        error_code(app.try_login("ann@example.com", PASSWORD).await).await,
        "invalid_credentials"
    );

    // Another browser, the same identity: the same account, straight to the chat.
    let second = Browser::new(&app.users);
    let landing = second.google("sign_in", "Ann").await;
    assert_eq!(landing.as_str(), "http://web.test/chat");
    assert_eq!(me(&second).await.unwrap()["uuid"], account["uuid"]);
}

#[tokio::test]
async fn github_takes_the_verified_primary_email_only() {
    let providers = Providers::start().await;
    let app = providers.stack(false).await;

    let unverified = Browser::new(&app.users);
    let landing = unverified.github("sign_in", "shadow").await;
    assert_eq!(oauth_error(&landing).as_deref(), Some("email_unverified"));
    assert_eq!(landing.path(), "/signin");
    assert!(me(&unverified).await.is_none());

    let browser = Browser::new(&app.users);
    let landing = browser.github("sign_in", "octocat").await;
    assert_eq!(landing.path(), "/signup/oauth");
    let pending: Value = browser
        .get("/auth/oauth/signup")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["email"], "octo@example.com");
    assert_eq!(pending["suggested_username"], "octocat");
    assert_eq!(
        complete(&app, &browser, "octocat").await.status(),
        StatusCode::CREATED
    );
    let sessions: Value = browser.get("/auth/sessions").await.json().await.unwrap();
    assert_eq!(sessions["sessions"][0]["sign_in_method"], "github");

    let again = Browser::new(&app.users);
    assert_eq!(again.github("sign_in", "octocat").await.path(), "/chat");
    assert_eq!(me(&again).await.unwrap()["username"], "octocat");
}

#[tokio::test]
async fn missing_replayed_or_foreign_state_and_reused_codes_are_refused() {
    let providers = Providers::start().await;
    let app = providers.stack(false).await;

    // No state at all, and a state nobody issued.
    let browser = Browser::new(&app.users);
    let callback = format!("{}/auth/oauth/google/callback", app.users);
    let landing = browser.callback(&format!("{callback}?code=abc")).await;
    assert_eq!(oauth_error(&landing).as_deref(), Some("invalid_state"));
    let landing = browser
        .callback(&format!("{callback}?code=abc&state=made-up"))
        .await;
    assert_eq!(oauth_error(&landing).as_deref(), Some("invalid_state"));

    // A callback that already signed in, replayed: refused.
    let authorize = browser.start("google", "sign_in").await;
    let back = browser.sign_in_at_provider(&authorize, "replay").await;
    assert_eq!(browser.callback(&back).await.path(), "/signup/oauth");
    let landing = browser.callback(&back).await;
    assert_eq!(oauth_error(&landing).as_deref(), Some("invalid_state"));

    // The code of that flow under a new state of the same browser: the provider refuses it.
    let code = query_param(&url::Url::parse(&back).unwrap(), "code").unwrap();
    let fresh = browser.start("google", "sign_in").await;
    let fresh_state = query_param(&url::Url::parse(&fresh).unwrap(), "state").unwrap();
    let landing = browser
        .callback(&format!("{callback}?code={code}&state={fresh_state}"))
        .await;
    assert_eq!(oauth_error(&landing).as_deref(), Some("exchange_failed"));

    // A flow started by the victim's attacker, finished in the victim's browser (login CSRF):
    // the victim's browser has no binding cookie for it.
    let attacker = Browser::new(&app.users);
    let authorize = attacker.start("google", "sign_in").await;
    let attackers_callback = attacker.sign_in_at_provider(&authorize, "mallory").await;
    let victim = Browser::new(&app.users);
    victim.start("google", "sign_in").await; // a binding cookie of the victim's own flow
    let landing = victim.callback(&attackers_callback).await;
    assert_eq!(oauth_error(&landing).as_deref(), Some("invalid_state"));
    assert!(me(&victim).await.is_none());
    // ... and the state is spent: the attacker cannot use it afterwards either.
    let landing = attacker.callback(&attackers_callback).await;
    assert_eq!(oauth_error(&landing).as_deref(), Some("invalid_state"));

    // A browser without any cookie.
    let authorize = browser.start("google", "sign_in").await;
    let back = browser.sign_in_at_provider(&authorize, "nocookie").await;
    let cookieless = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = cookieless.get(&back).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("oauth_error=invalid_state"), "{location}");
    assert!(response
        .headers()
        .get_all("set-cookie")
        .iter()
        .all(|cookie| { !cookie.to_str().unwrap().starts_with("access_token=") }));

    // Declining at the provider.
    let authorize = browser.start("github", "sign_in").await;
    let state = query_param(&url::Url::parse(&authorize).unwrap(), "state").unwrap();
    let landing = browser
        .callback(&format!(
            "{}/auth/oauth/github/callback?error=access_denied&state={state}",
            app.users
        ))
        .await;
    assert_eq!(oauth_error(&landing).as_deref(), Some("access_denied"));
    assert!(me(&browser).await.is_none(), "no refusal leaves a session");
}

#[tokio::test]
async fn bad_id_tokens_are_refused() {
    let providers = Providers::start().await;
    let app = providers.stack(true).await;
    for mode in [
        "wrong_audience",
        "expired",
        "wrong_nonce",
        "wrong_issuer",
        "bad_signature",
    ] {
        let browser = Browser::new(&app.users);
        let authorize = browser.start("google", "sign_in").await;
        let back = browser
            .pass_provider(&format!("{authorize}&mode={mode}"))
            .await;
        let landing = browser.callback(&back).await;
        assert_eq!(
            oauth_error(&landing).as_deref(),
            Some("invalid_id_token"),
            "{mode}"
        );
        assert!(me(&browser).await.is_none(), "{mode}");
    }
    // The same issuer's good token is accepted: the refusals above are the claims'.
    let browser = Browser::new(&app.users);
    let authorize = browser.start("google", "sign_in").await;
    let back = browser
        .pass_provider(&format!("{authorize}&mode=valid"))
        .await;
    assert_eq!(browser.callback(&back).await.path(), "/signup/oauth");
}

#[tokio::test]
async fn an_email_of_an_existing_account_is_never_taken_over() {
    let providers = Providers::start().await;
    let app = providers.stack(false).await;
    let owner = app.register("carol").await;

    let browser = Browser::new(&app.users);
    let landing = browser.google("sign_in", "carol").await;
    assert_eq!(landing.path(), "/signin");
    assert_eq!(oauth_error(&landing).as_deref(), Some("email_in_use"));
    assert!(me(&browser).await.is_none());
    let methods: Value = app
        .get_as("/users/me/sign-in-methods", &owner.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(methods, json!({ "has_password": true, "identities": [] }));
}

#[tokio::test]
async fn linking_and_unlinking_keep_a_way_to_sign_in() {
    let providers = Providers::start().await;
    let app = providers.stack(false).await;
    let dave = app.register("dave").await;
    let browser = password_browser(&app, "dave").await;

    // Linking adds the identity; it then signs in to this account.
    let landing = browser.google("link", "dave-google").await;
    assert_eq!(landing.as_str(), "http://web.test/settings?linked=google");
    let linked = methods(&browser).await;
    assert_eq!(linked["has_password"], true);
    assert_eq!(linked["identities"][0]["provider"], "google");
    assert_eq!(linked["identities"][0]["email"], "dave-google@example.com");
    let other = Browser::new(&app.users);
    assert_eq!(other.google("sign_in", "dave-google").await.path(), "/chat");
    assert_eq!(me(&other).await.unwrap()["uuid"], dave.id.as_str());

    // A second Google identity, or one that belongs to someone else, is refused.
    let landing = browser.google("link", "dave-second").await;
    assert_eq!(
        oauth_error(&landing).as_deref(),
        Some("provider_already_linked")
    );
    assert_eq!(landing.path(), "/settings");
    app.register("erin").await;
    let erin = password_browser(&app, "erin").await;
    let landing = erin.google("link", "dave-google").await;
    assert_eq!(oauth_error(&landing).as_deref(), Some("identity_in_use"));

    // A link whose session signed out meanwhile does not happen.
    let authorize = browser.start("github", "link").await;
    let back = browser
        .pass_provider(&format!("{authorize}&login=octocat"))
        .await;
    let sessions: Value = browser.get("/auth/sessions").await.json().await.unwrap();
    let current = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == true)
        .unwrap()["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/auth/sessions/{current}");
    app.send_as(Method::DELETE, &path, &dave.access, json!({}))
        .await;
    let landing = browser.callback(&back).await;
    assert_eq!(oauth_error(&landing).as_deref(), Some("invalid_state"));
    let linked: Value = app
        .get_as("/users/me/sign-in-methods", &dave.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        linked["identities"].as_array().unwrap().len(),
        1,
        "GitHub not linked"
    );
    let browser = password_browser(&app, "dave").await;

    // Linking needs a session that signed in within minutes.
    age_sessions(&app, &dave.id, 11).await;
    let stale = browser.start_raw("github", "link").await;
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(stale).await, "reauthentication_required");
    let anonymous = Browser::new(&app.users).start_raw("github", "link").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Unlinking (the password remains): the identity no longer signs in to dave.
    let unlink = |browser: &Browser, provider: &str| {
        browser
            .client
            .delete(format!("{}/users/me/identities/{provider}", app.users))
            .send()
    };
    assert_eq!(
        unlink(&browser, "google").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let missing = unlink(&browser, "google").await.unwrap();
    assert_eq!(error_code(missing).await, "identity_not_found");
    let after = Browser::new(&app.users);
    assert_eq!(
        after.google("sign_in", "dave-google").await.path(),
        "/signup/oauth"
    );
}

#[tokio::test]
async fn a_passwordless_account_keeps_its_last_method_and_can_set_a_password() {
    let providers = Providers::start().await;
    let app = providers.stack(false).await;
    let browser = Browser::new(&app.users);
    browser.google("sign_in", "fay").await;
    assert_eq!(
        complete(&app, &browser, "fay").await.status(),
        StatusCode::CREATED
    );
    let user_id = me(&browser).await.unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let send = |method: Method, path: &str, body: Value| {
        browser
            .client
            .request(method, format!("{}{path}", app.users))
            .json(&body)
            .send()
    };

    let last = send(Method::DELETE, "/users/me/identities/google", json!({}))
        .await
        .unwrap();
    assert_eq!(last.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(last).await, "last_sign_in_method");

    // With GitHub linked too, Google may go; GitHub is then the last.
    assert_eq!(browser.github("link", "octocat").await.path(), "/settings");
    let gone = send(Method::DELETE, "/users/me/identities/google", json!({}))
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let last = send(Method::DELETE, "/users/me/identities/github", json!({}))
        .await
        .unwrap();
    assert_eq!(error_code(last).await, "last_sign_in_method");

    // No password yet: a stale session may not set one (nor delete the account).
    age_sessions(&app, &user_id, 11).await;
    let stale = send(
        Method::PUT,
        "/users/me/password",
        json!({ "new_password": PASSWORD }),
    )
    .await
    .unwrap();
    assert_eq!(error_code(stale).await, "reauthentication_required");
    let stale = send(Method::DELETE, "/users/me", json!({})).await.unwrap();
    assert_eq!(error_code(stale).await, "reauthentication_required");

    // Signed in again (with GitHub), it sets a password, then may unlink GitHub.
    let fresh = Browser::new(&app.users);
    assert_eq!(fresh.github("sign_in", "octocat").await.path(), "/chat");
    let set = fresh
        .client
        .put(format!("{}/users/me/password", app.users))
        .json(&json!({ "new_password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::NO_CONTENT);
    assert_eq!(methods(&fresh).await["has_password"], true);
    let now_free = fresh
        .client
        .delete(format!("{}/users/me/identities/github", app.users))
        .send()
        .await
        .unwrap();
    assert_eq!(now_free.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.try_login("fay", PASSWORD).await.status(),
        StatusCode::OK
    );
}
