//! Looking users up by uuid, by username and by prefix.

use reqwest::StatusCode;
use serde_json::Value;

use chat_testkit::{error_code, Stack};

#[tokio::test]
async fn users_are_found_by_uuid_and_by_username_in_any_case() {
    let app = Stack::users().await;
    let me = app.register("jay").await;
    let target = app.register("Kat").await;

    let by_uuid: Value = app
        .get_as(&format!("/users/{}", target.id), &me.access)
        .await
        .json()
        .await
        .unwrap();
    let by_name: Value = app
        .get_as("/users/by-username/kAT", &me.access)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(by_uuid["username"], "Kat");
    assert_eq!(by_uuid, by_name);
    assert!(by_uuid.get("email").is_none(), "emails are private");

    let unknown = app
        .get_as(&format!("/users/{}", uuid::Uuid::new_v4()), &me.access)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(unknown).await, "user_not_found");
    assert_eq!(
        app.get_as("/users/by-username/nobody", &me.access)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let bad = app.get_as("/users/not-a-uuid", &me.access).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(bad).await, "invalid_path");

    let anonymous = app
        .client
        .get(app.url(&format!("/users/{}", target.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn prefix_search_pages_through_matches_without_gaps_or_repeats() {
    let app = Stack::users().await;
    let me = app.register("searcher").await;
    for name in ["mab", "Mac", "mad", "mae", "MAF", "zed"] {
        app.register(name).await;
    }

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/users/search?q=MA&limit=2".to_owned();
        if let Some(cursor) = &after {
            path.push_str(&format!("&after={cursor}"));
        }
        let page: Value = app.get_as(&path, &me.access).await.json().await.unwrap();
        pages += 1;
        seen.extend(
            page["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => after = Some(cursor.to_owned()),
            None => break,
        }
    }

    assert_eq!(seen, ["mab", "Mac", "mad", "mae", "MAF"]);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn search_treats_wildcards_literally_and_validates_its_input() {
    let app = Stack::users().await;
    let me = app.register("finder").await;
    app.register("a_b").await;
    app.register("axb").await;

    let page: Value = app
        .get_as("/users/search?q=a_", &me.access)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a_b"]);
    let none: Value = app
        .get_as("/users/search?q=%25", &me.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(none["users"].as_array().unwrap().is_empty());

    for bad in [
        "/users/search?q=",
        "/users/search?q=a&limit=0",
        "/users/search?q=a&limit=51",
    ] {
        let response = app.get_as(bad, &me.access).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let no_query = app.get_as("/users/search", &me.access).await;
    assert_eq!(no_query.status(), StatusCode::BAD_REQUEST);
}
