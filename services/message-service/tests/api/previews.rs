//! Link previews: fetched from a fixture site (let through by the test-only allow-list) and
//! stored on the message; and the fetcher's refusals with the default settings.

use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use message_service::previews::fetch::{Failed, Fetcher};
use reqwest::Url;
use serde_json::Value;

use chat_testkit::{Service, Stack};

const PAGE: &str = r#"<html><head><title>Fixture</title>
<meta property="og:title" content="A fixture page">
<meta property="og:description" content="Served by the test.">
<meta property="og:site_name" content="Fixtures"></head><body>hi</body></html>"#;

/// A site on 127.0.0.1: a page, a redirect to 127.0.0.2, 10 MB of HTML, JSON.
async fn fixture() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let big = "<p>".to_owned() + &"x".repeat(10 * 1024 * 1024);
    let app =
        Router::new()
            .route(
                "/page",
                get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }),
            )
            .route(
                "/redirect",
                get(move || async move {
                    Redirect::temporary(&format!("http://127.0.0.2:{port}/page"))
                }),
            )
            .route(
                "/big",
                get(move || {
                    let big = big.clone();
                    async move { ([(header::CONTENT_TYPE, "text/html")], big).into_response() }
                }),
            )
            .route(
                "/json",
                get(|| async { axum::Json(serde_json::json!({ "title": "no" })) }),
            );
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

#[tokio::test]
async fn a_link_in_a_message_gets_its_preview_stored_and_announced() {
    let port = fixture().await;
    let allowed = format!("127.0.0.1:{port}");
    let stack = Stack::builder(Service::Messages)
        .messages_config(move |config| config.link_preview_unsafe_allow = vec![allowed])
        .start()
        .await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    let sent = stack
        .send(&ann, &id, &format!("look: http://127.0.0.1:{port}/page !"))
        .await;
    assert!(
        sent["link_preview"].is_null(),
        "fetched after the send answers"
    );

    let events = stack
        .events_until(|events| {
            events.iter().any(|e| {
                e["type"] == "message.updated" && !e["data"]["message"]["link_preview"].is_null()
            })
        })
        .await;
    let updated = events
        .iter()
        .find(|e| e["type"] == "message.updated")
        .unwrap();
    let preview = &updated["data"]["message"]["link_preview"];
    assert_eq!(preview["title"], "A fixture page");
    assert_eq!(preview["description"], "Served by the test.");
    assert_eq!(preview["site_name"], "Fixtures");
    assert_eq!(preview["url"], format!("http://127.0.0.1:{port}/page"));
    assert!(
        updated["data"]["message"]["version"].as_i64().unwrap() > sent["version"].as_i64().unwrap()
    );
    // Stored: the history shows it to whoever reads later.
    let history: Value = stack
        .get(&format!("/conversations/{id}/messages"), &bob)
        .await;
    assert_eq!(
        history["messages"][0]["link_preview"]["title"],
        "A fixture page"
    );
}

async fn refusal(fetcher: &Fetcher, link: &str) -> Failed {
    fetcher
        .fetch(Url::parse(link).unwrap())
        .await
        .expect_err(link)
}

#[tokio::test]
async fn the_fetcher_refuses_private_addresses_big_pages_and_other_types() {
    let port = fixture().await;
    // Default settings: nothing private, whatever the spelling.
    let default = Fetcher::new(Vec::new()).unwrap();
    for link in [
        format!("http://127.0.0.1:{port}/page"),
        "http://127.0.0.1/page".to_owned(),
        "http://[::1]/".to_owned(),
        "http://[::ffff:127.0.0.1]/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://localhost/".to_owned(),
    ] {
        let failed = refusal(&default, &link).await;
        assert!(failed.is_refused(), "{link}: {failed}");
    }
    // The fixture let through: the page previews; what it redirects to, its big page and its
    // JSON do not.
    let fetcher = Fetcher::new(vec![format!("127.0.0.1:{port}")]).unwrap();
    let (_, body) = fetcher
        .fetch(Url::parse(&format!("http://127.0.0.1:{port}/page")).unwrap())
        .await
        .unwrap();
    assert!(body.contains("A fixture page"));
    let redirected = refusal(&fetcher, &format!("http://127.0.0.1:{port}/redirect")).await;
    assert!(redirected.is_refused(), "{redirected}");
    assert!(matches!(
        refusal(&fetcher, &format!("http://127.0.0.1:{port}/big")).await,
        Failed::TooLarge
    ));
    assert!(matches!(
        refusal(&fetcher, &format!("http://127.0.0.1:{port}/json")).await,
        Failed::NotHtml
    ));
}
