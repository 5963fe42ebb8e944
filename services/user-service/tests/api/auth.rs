//! Sign-up, sign-in, refresh rotation and reuse detection, sign-out, rate limits.

use reqwest::StatusCode;
use serde_json::json;

use chat_testkit::{error_code, new_client, Service, Stack, PASSWORD};

#[tokio::test]
async fn register_signs_in_with_httponly_cookies_and_no_tokens_in_the_body() {
    // Arrange
    let app = Stack::users().await;

    // Act
    let response = app
        .post("/auth/register", &json!({ "username": "Ann", "email": "Ann@Example.com", "password": PASSWORD, "bio": " hi " }))
        .await;

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect();
    let access = cookies
        .iter()
        .find(|c| c.starts_with("access_token="))
        .expect("access cookie");
    let refresh = cookies
        .iter()
        .find(|c| c.starts_with("refresh_token="))
        .expect("refresh cookie");
    for cookie in [access, refresh] {
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
    }
    assert!(
        access.contains("Path=/;") || access.ends_with("Path=/"),
        "{access}"
    );
    assert!(refresh.contains("Path=/auth/refresh"), "{refresh}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body.get("tokens").is_none(),
        "cookie sign-in must not expose tokens: {body}"
    );
    assert_eq!(body["user"]["username"], "Ann");
    assert_eq!(body["user"]["email"], "ann@example.com");
    assert_eq!(body["user"]["bio"], "hi");

    // The cookie alone authenticates the next request.
    let me = app.client.get(app.url("/users/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(
        me.json::<serde_json::Value>().await.unwrap()["username"],
        "Ann"
    );
}

#[tokio::test]
async fn register_with_body_delivery_returns_tokens_and_sets_no_cookie() {
    let app = Stack::users().await;
    let response = app
        .post(
            "/auth/register",
            &json!({ "username": "bob", "email": "bob@example.com", "password": PASSWORD, "token_delivery": "body" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get("set-cookie").is_none());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["tokens"]["token_type"], "Bearer");
    assert_eq!(body["tokens"]["expires_in"], 900);
    let access = body["tokens"]["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_as("/users/me", access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn register_reports_every_invalid_field_with_its_code() {
    let app = Stack::users().await;
    let cases = [
        (
            json!({ "username": "ab", "email": "a@example.com", "password": PASSWORD }),
            "username",
            "too_short",
        ),
        (
            json!({ "username": "a".repeat(33), "email": "a@example.com", "password": PASSWORD }),
            "username",
            "too_long",
        ),
        (
            json!({ "username": "bad name", "email": "a@example.com", "password": PASSWORD }),
            "username",
            "invalid_characters",
        ),
        (
            json!({ "username": "good", "email": "not-an-email", "password": PASSWORD }),
            "email",
            "invalid_format",
        ),
        (
            json!({ "username": "good", "email": "a@example.com", "password": "short" }),
            "password",
            "too_short",
        ),
        (
            json!({ "username": "good", "email": "a@example.com", "password": "p".repeat(129) }),
            "password",
            "too_long",
        ),
        (
            json!({ "username": "good", "email": "a@example.com", "password": PASSWORD, "bio": "b".repeat(501) }),
            "bio",
            "too_long",
        ),
    ];
    for (body, field, code) in cases {
        let response = app.post("/auth/register", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field} {code}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["details"][0]["field"], field);
        assert_eq!(body["error"]["details"][0]["code"], code);
    }

    // All failures at once, not one at a time.
    let response = app
        .post(
            "/auth/register",
            &json!({ "username": "x", "email": "y", "password": "z" }),
        )
        .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["details"].as_array().unwrap().len(), 3);

    // Missing fields are malformed JSON for this route, with the same error shape.
    let response = app
        .post("/auth/register", &json!({ "username": "good" }))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "malformed_json");
}

#[tokio::test]
async fn a_username_differing_only_in_case_is_taken() {
    let app = Stack::users().await;
    app.register_with(&new_client(), "Carol", "carol@example.com")
        .await;

    let response = app
        .post(
            "/auth/register",
            &json!({ "username": "cAROL", "email": "other@example.com", "password": PASSWORD }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(response).await, "username_taken");
}

#[tokio::test]
async fn a_duplicate_email_is_taken_whatever_its_case() {
    let app = Stack::users().await;
    app.register_with(&new_client(), "dave", "dave@example.com")
        .await;

    let response = app
        .post(
            "/auth/register",
            &json!({ "username": "dave2", "email": "DAVE@example.COM", "password": PASSWORD }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(response).await, "email_taken");
}

#[tokio::test]
async fn login_works_by_email_or_by_username_in_any_case() {
    let app = Stack::users().await;
    app.register_with(&new_client(), "Erin", "erin@example.com")
        .await;

    for login in ["erin@example.com", "ERIN@example.com", "Erin", "erin"] {
        let session = app.login(login, PASSWORD).await;
        assert_eq!(
            app.get_as("/users/me", &session.access).await.status(),
            StatusCode::OK,
            "{login}"
        );
    }
}

#[tokio::test]
async fn login_with_a_wrong_password_or_unknown_account_is_the_same_401() {
    let app = Stack::users().await;
    app.register_with(&new_client(), "frank", "frank@example.com")
        .await;

    let wrong_password = app.try_login("frank", "not the password").await;
    let unknown = app.try_login("nobody", PASSWORD).await;

    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(wrong_password).await, "invalid_credentials");
    assert_eq!(error_code(unknown).await, "invalid_credentials");

    let empty = app.try_login(" ", "").await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn repeated_bad_logins_lock_the_account_with_429_and_retry_after() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| config.rate_limit_login_account = "3/60".parse().unwrap())
        .start()
        .await;
    app.register_with(&new_client(), "grace", "grace@example.com")
        .await;

    for _ in 0..3 {
        assert_eq!(
            app.try_login("grace", "wrong password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused while the lock lasts, so guessing gains nothing.
    let locked = app.try_login("GRACE", PASSWORD).await;

    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(locked).await, "rate_limited");
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| config.rate_limit_login_account = "3/60".parse().unwrap())
        .start()
        .await;
    app.register_with(&new_client(), "heidi", "heidi@example.com")
        .await;

    for _ in 0..2 {
        app.try_login("heidi", "wrong password").await;
    }
    app.login("heidi", PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(
            app.try_login("heidi", "wrong password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.try_login("heidi", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logins_and_registrations_are_limited_per_address() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| {
            config.rate_limit_login_ip = "2/60".parse().unwrap();
            config.rate_limit_register_ip = "1/60".parse().unwrap();
        })
        .start()
        .await;
    app.register_with(&new_client(), "ivan", "ivan@example.com")
        .await;

    let second_register = app
        .post(
            "/auth/register",
            &json!({ "username": "judy", "email": "judy@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(second_register.status(), StatusCode::TOO_MANY_REQUESTS);

    app.try_login("ivan", "wrong").await;
    app.try_login("someone-else", "wrong").await;
    let third = app.try_login("ivan", PASSWORD).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_issues_a_working_access_token() {
    let app = Stack::users().await;
    let first = app.register("kim").await;

    let response = app.refresh(&first.refresh).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    let new_refresh = body["tokens"]["refresh_token"].as_str().unwrap();
    let new_access = body["tokens"]["access_token"].as_str().unwrap();
    assert_ne!(new_refresh, first.refresh);
    assert_eq!(
        body["session_id"],
        first.session_id.as_str(),
        "rotation keeps the session"
    );
    assert_eq!(
        app.get_as("/users/me", new_access).await.status(),
        StatusCode::OK
    );
    // The new token rotates again.
    assert_eq!(app.refresh(new_refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_session() {
    // Arrange: A is rotated into B.
    let app = Stack::users().await;
    let session = app.register("leo").await;
    let rotated: serde_json::Value = app.refresh(&session.refresh).await.json().await.unwrap();
    let token_b = rotated["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let access_b = rotated["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Act: A is presented again (a thief's replay, or the owner's).
    let replay = app.refresh(&session.refresh).await;

    // Assert: refused, and B and B's access token are dead too.
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(replay).await, "invalid_refresh_token");
    assert_eq!(
        app.refresh(&token_b).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let me = app.get_as("/users/me", &access_b).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(me).await, "session_revoked");
    let event = app.wait_for_event("session.revoked").await;
    assert_eq!(event["data"]["session_ids"][0], session.session_id.as_str());
    assert_eq!(event["data"]["user_uuid"], session.id.as_str());
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_have_exactly_one_winner() {
    let app = Stack::users().await;
    let session = app.register("mia").await;

    let attempts = (0..4).map(|_| app.refresh(&session.refresh));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();

    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn browsers_refresh_with_the_cookie_and_get_new_cookies() {
    let app = Stack::users().await;
    app.register_with(&app.client, "nina", "nina@example.com")
        .await;

    let response = app
        .client
        .post(app.url("/auth/refresh"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let set: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(set.len(), 2);
    assert!(response
        .json::<serde_json::Value>()
        .await
        .unwrap()
        .get("tokens")
        .is_none());
    // The rotated cookie keeps working.
    assert_eq!(
        app.client
            .post(app.url("/auth/refresh"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.client
            .get(app.url("/users/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // Without any token: 401.
    let stranger = new_client()
        .post(app.url("/auth/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(stranger).await, "invalid_refresh_token");
}

#[tokio::test]
async fn refreshes_are_limited_per_account() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| config.rate_limit_refresh_account = "2/60".parse().unwrap())
        .start()
        .await;
    let session = app.register("omar").await;

    let mut token = session.refresh;
    for _ in 0..2 {
        let body: serde_json::Value = app.refresh(&token).await.json().await.unwrap();
        token = body["tokens"]["refresh_token"].as_str().unwrap().to_owned();
    }
    let third = app.refresh(&token).await;

    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn logout_kills_the_access_and_refresh_tokens_of_that_session_only() {
    let app = Stack::users().await;
    let phone = app.register("pat").await;
    let laptop = app.login("pat", PASSWORD).await;

    let response = app
        .send_as(
            reqwest::Method::POST,
            "/auth/logout",
            &phone.access,
            json!({}),
        )
        .await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let me = app.get_as("/users/me", &phone.access).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(me).await, "session_revoked");
    assert_eq!(
        app.refresh(&phone.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_as("/users/me", &laptop.access).await.status(),
        StatusCode::OK
    );
    let event = app.wait_for_event("session.revoked").await;
    assert_eq!(event["data"]["session_ids"], json!([phone.session_id]));
}

#[tokio::test]
async fn logout_clears_browser_cookies() {
    let app = Stack::users().await;
    app.register_with(&app.client, "quinn", "quinn@example.com")
        .await;

    let response = app
        .client
        .post(app.url("/auth/logout"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter(|c| c.to_str().unwrap().contains("Max-Age=0"))
        .count();
    assert_eq!(cleared, 2);
    let me = app.client.get(app.url("/users/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(me).await, "missing_token");
}

#[tokio::test]
async fn logout_all_signs_out_every_session() {
    let app = Stack::users().await;
    let first = app.register("rita").await;
    let second = app.login("rita", PASSWORD).await;
    let third = app.login("rita", PASSWORD).await;

    let response = app
        .send_as(
            reqwest::Method::POST,
            "/auth/logout-all",
            &second.access,
            json!({}),
        )
        .await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for session in [&first, &second, &third] {
        assert_eq!(
            app.get_as("/users/me", &session.access).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.refresh(&session.refresh).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let event = app.wait_for_event("session.revoked").await;
    assert_eq!(event["data"]["session_ids"].as_array().unwrap().len(), 3);
    // Signing in again works.
    app.login("rita", PASSWORD).await;
}

#[tokio::test]
async fn availability_checks_answer_for_email_and_username() {
    let app = Stack::users().await;
    app.register_with(&new_client(), "Sam", "sam@example.com")
        .await;

    let check = |path: String| {
        let app = &app;
        async move {
            let response = app.client.get(app.url(&path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.json::<serde_json::Value>().await.unwrap()["available"]
                .as_bool()
                .unwrap()
        }
    };
    assert!(!check("/auth/check-username?username=sAm".to_owned()).await);
    assert!(check("/auth/check-username?username=samuel".to_owned()).await);
    assert!(!check("/auth/check-email?email=SAM@example.com".to_owned()).await);
    assert!(check("/auth/check-email?email=new@example.com".to_owned()).await);

    let invalid = app
        .client
        .get(app.url("/auth/check-username?username=a b"))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app
        .client
        .get(app.url("/auth/check-email"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(missing).await, "invalid_query");
}

#[tokio::test]
async fn refresh_and_logout_racing_leave_no_live_session() {
    // Whatever order the two land in, the session ends: no refresh token of it works afterwards.
    for _ in 0..5 {
        let app = Stack::users().await;
        let session = app.register("race").await;
        let logout = app.send_as(
            reqwest::Method::POST,
            "/auth/logout",
            &session.access,
            json!({}),
        );
        let refresh = app.refresh(&session.refresh);
        let (_, refreshed) = tokio::join!(logout, refresh);
        if refreshed.status() == StatusCode::OK {
            let body: serde_json::Value = refreshed.json().await.unwrap();
            let next = body["tokens"]["refresh_token"].as_str().unwrap();
            assert_eq!(app.refresh(next).await.status(), StatusCode::UNAUTHORIZED);
        }
        let sessions = app
            .try_login("race", PASSWORD)
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap();
        let listed: serde_json::Value = app
            .get_as(
                "/auth/sessions",
                sessions["tokens"]["access_token"].as_str().unwrap(),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            listed["sessions"].as_array().unwrap().len(),
            1,
            "only the new sign-in is live"
        );
    }
}

#[tokio::test]
async fn a_replay_racing_the_owner_still_revokes_the_session() {
    // Thief and owner present the same token at once: one rotates, the other is a replay, and
    // the replay must take the winner's fresh token down with the session.
    for _ in 0..5 {
        let app = Stack::users().await;
        let session = app.register("victim").await;
        let (a, b) = tokio::join!(app.refresh(&session.refresh), app.refresh(&session.refresh));
        let winner = [a, b]
            .into_iter()
            .find(|r| r.status() == StatusCode::OK)
            .expect("one wins");
        let body: serde_json::Value = winner.json().await.unwrap();
        let fresh = body["tokens"]["refresh_token"].as_str().unwrap();
        assert_eq!(app.refresh(fresh).await.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn an_oversized_refresh_body_gets_a_json_413() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| config.common.body_limit_bytes = 1024)
        .start()
        .await;
    let response = app
        .post(
            "/auth/refresh",
            &json!({ "refresh_token": "x".repeat(4096) }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(response).await, "payload_too_large");
}

#[tokio::test]
async fn the_login_limit_holds_in_any_case_and_does_not_link_username_and_email() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| config.rate_limit_login_account = "3/60".parse().unwrap())
        .start()
        .await;
    app.register_with(&new_client(), "tom", "tom@example.com")
        .await;

    // Spellings of one login share one counter.
    for login in ["tom", "TOM", "Tom"] {
        assert_eq!(
            app.try_login(login, "wrong password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = app.try_login("tOm", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    // The email is not locked by the username's failures: a lock-out tells nobody that the
    // two belong together. It has a counter of its own.
    assert_eq!(
        app.try_login("tom@example.com", "wrong password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    for _ in 0..2 {
        app.try_login("TOM@example.com", "wrong password").await;
    }
    let email_locked = app.try_login("tom@EXAMPLE.com", PASSWORD).await;
    assert_eq!(email_locked.status(), StatusCode::TOO_MANY_REQUESTS);
    // And a login nobody has behaves the same: locked after as many failures.
    for _ in 0..3 {
        assert_eq!(
            app.try_login("nobody", "wrong password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let unknown_locked = app.try_login("nobody", "wrong password").await;
    assert_eq!(unknown_locked.status(), StatusCode::TOO_MANY_REQUESTS);
}
