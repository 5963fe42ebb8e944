//! The caller's own account: details, updates, password change, deletion.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use chat_testkit::{error_code, Service, Stack, PASSWORD};

#[tokio::test]
async fn me_returns_the_private_details() {
    let app = Stack::users().await;
    let session = app.register("cleo").await;

    let me: Value = app
        .get_as("/users/me", &session.access)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(me["uuid"], session.id.as_str());
    assert_eq!(me["email"], "cleo@example.com");
    assert!(me["bio"].is_null());
    assert!(me.get("password_hash").is_none());
}

#[tokio::test]
async fn profile_fields_update_and_optional_ones_clear() {
    let app = Stack::users().await;
    let session = app.register("dora").await;
    let patch = |body: Value| app.send_as(Method::PATCH, "/users/me", &session.access, body);

    let updated: Value = patch(json!({
        "username": "Dora.M",
        "email": "Dora@New.example",
        "bio": "Hello",
        "profile_picture": "https://cdn.example/d.png",
    }))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(updated["username"], "Dora.M");
    assert_eq!(updated["email"], "dora@new.example");
    assert_eq!(updated["bio"], "Hello");
    assert_eq!(updated["profile_picture"], "https://cdn.example/d.png");

    // Omitted fields stay; null clears.
    let cleared: Value = patch(json!({ "bio": null, "profile_picture": null }))
        .await
        .json()
        .await
        .unwrap();
    assert!(cleared["bio"].is_null());
    assert!(cleared["profile_picture"].is_null());
    assert_eq!(cleared["username"], "Dora.M");

    // An empty bio clears too.
    patch(json!({ "bio": "again" })).await;
    let emptied: Value = patch(json!({ "bio": "" })).await.json().await.unwrap();
    assert!(emptied["bio"].is_null());

    // The new username signs in.
    app.login("dora.m", PASSWORD).await;
}

#[tokio::test]
async fn profile_updates_refuse_taken_names_and_invalid_values() {
    let app = Stack::users().await;
    app.register("Eve").await;
    let session = app.register("finn").await;
    let patch = |body: Value| app.send_as(Method::PATCH, "/users/me", &session.access, body);

    let taken_name = patch(json!({ "username": "EVE" })).await;
    assert_eq!(taken_name.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(taken_name).await, "username_taken");

    let taken_email = patch(json!({ "email": "eve@EXAMPLE.com" })).await;
    assert_eq!(taken_email.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(taken_email).await, "email_taken");

    let invalid: Value =
        patch(json!({ "username": "no spaces", "email": "nope", "profile_picture": "ftp://x" }))
            .await
            .json()
            .await
            .unwrap();
    let fields: Vec<&str> = invalid["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "email", "profile_picture"]);

    let nothing = patch(json!({})).await;
    assert_eq!(nothing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = nothing.json().await.unwrap();
    assert_eq!(body["error"]["details"][0]["code"], "no_changes");

    // Nothing was half-applied.
    let me: Value = app
        .get_as("/users/me", &session.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "finn");

    // Keeping one's own name in another case is not a conflict.
    let recased = patch(json!({ "username": "FINN" })).await;
    assert_eq!(recased.status(), StatusCode::OK);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_other_devices_out() {
    let app = Stack::users().await;
    let here = app.register("gus").await;
    let elsewhere = app.login("gus", PASSWORD).await;
    let change = |current: &str, new: &str| {
        app.send_as(
            Method::PUT,
            "/users/me/password",
            &here.access,
            json!({ "current_password": current, "new_password": new }),
        )
    };

    let wrong = change("not it at all", "a brand new password").await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(wrong).await, "invalid_credentials");
    let short = change(PASSWORD, "short").await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let same = change(PASSWORD, PASSWORD).await;
    assert_eq!(same.status(), StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(
        change(PASSWORD, "a brand new password").await.status(),
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        app.try_login("gus", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login("gus", "a brand new password").await;
    assert_eq!(
        app.get_as("/users/me", &here.access).await.status(),
        StatusCode::OK,
        "this device stays"
    );
    assert_eq!(
        app.get_as("/users/me", &elsewhere.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(&elsewhere.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn guessing_the_current_password_is_rate_limited() {
    let app = Stack::builder(Service::Users)
        .users_config(|config| config.rate_limit_login_account = "2/60".parse().unwrap())
        .start()
        .await;
    let session = app.register("hal").await;
    let body = json!({ "current_password": "guess guess", "new_password": "a brand new password" });

    for _ in 0..2 {
        let response = app
            .send_as(
                Method::PUT,
                "/users/me/password",
                &session.access,
                body.clone(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let limited = app
        .send_as(Method::PUT, "/users/me/password", &session.access, body)
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_publishes_user_deleted() {
    let app = Stack::users().await;
    let session = app.register("ida").await;
    let other_device = app.login("ida", PASSWORD).await;

    let wrong = app
        .send_as(
            Method::DELETE,
            "/users/me",
            &session.access,
            json!({ "password": "wrong one!" }),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get_as("/users/me", &session.access).await.status(),
        StatusCode::OK,
        "still there"
    );

    let deleted = app
        .send_as(
            Method::DELETE,
            "/users/me",
            &session.access,
            json!({ "password": PASSWORD }),
        )
        .await;

    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.try_login("ida", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    for device in [&session, &other_device] {
        assert_eq!(
            app.get_as("/users/me", &device.access).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.refresh(&device.refresh).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let event = app.wait_for_event("user.deleted").await;
    assert_eq!(event["data"]["user_uuid"], session.id.as_str());
    assert!(event["id"].is_string() && event["occurred_at"].is_string());
    let tokens_left = app
        .mongo
        .collection::<bson::Document>("refresh_tokens")
        .count_documents(bson::doc! { "userUuid": &session.id })
        .await
        .unwrap();
    assert_eq!(tokens_left, 0);
    // The name is free again.
    app.register("ida").await;
}
