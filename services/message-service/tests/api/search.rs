//! Message search: what is found, by whom, and the index surviving restarts, deletion of its
//! directory and a trimmed stream.

use std::time::Duration;

use chat_testkit::{code, Service, Stack, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// `GET /search/messages` at `base` as `user`: the status and body.
async fn search_at(
    stack: &Stack,
    base: &str,
    user: &TestUser,
    query: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = stack
        .client
        .get(format!("{base}/search/messages"))
        .query(query)
        .bearer_auth(&user.access)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The texts found for `q` at `base`.
async fn texts_at(
    stack: &Stack,
    base: &str,
    user: &TestUser,
    query: &[(&str, &str)],
) -> Vec<String> {
    let (status, body) = search_at(stack, base, user, query).await;
    assert_eq!(status, StatusCode::OK, "{query:?}: {body}");
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["message"]["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits (the index commits a moment after the change) until the texts found for `query` at
/// `base` are `expected`.
async fn until_found(
    stack: &Stack,
    base: &str,
    user: &TestUser,
    query: &[(&str, &str)],
    expected: &[&str],
) {
    let mut found = Vec::new();
    for _ in 0..200 {
        found = texts_at(stack, base, user, query).await;
        if found == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{query:?} found {found:?}, not {expected:?}");
}

async fn friends(stack: &Stack, a: &str, b: &str) -> (TestUser, TestUser, String) {
    let (a, b) = (stack.register(a).await, stack.register(b).await);
    stack.befriend(&a, &b).await;
    let id = stack.direct(&a, &b).await;
    (a, b, id)
}

#[tokio::test]
async fn found_after_send_by_new_text_after_edit_and_gone_after_delete() {
    send_edit_delete(Stack::messages().await).await;
}

#[tokio::test]
async fn never_across_conversations_and_gone_for_a_removed_member() {
    across_and_removed(Stack::messages().await).await;
}

/// A stack searching on the OpenSearch server of `TEST_SEARCH_URL`.
async fn on_opensearch() -> Stack {
    let url = std::env::var("TEST_SEARCH_URL").expect("TEST_SEARCH_URL names an OpenSearch server");
    Stack::builder(Service::Messages)
        .messages_config(move |config| config.search_url = Some(url))
        .start()
        .await
}

#[tokio::test]
#[ignore = "needs an OpenSearch server: TEST_SEARCH_URL=http://… cargo test -p message-service --test api opensearch -- --ignored"]
async fn opensearch_finds_sends_and_edits_and_forgets_deletions() {
    send_edit_delete(on_opensearch().await).await;
}

#[tokio::test]
#[ignore = "needs an OpenSearch server: TEST_SEARCH_URL=http://… cargo test -p message-service --test api opensearch -- --ignored"]
async fn opensearch_keeps_conversations_apart_and_follows_membership() {
    across_and_removed(on_opensearch().await).await;
}

async fn send_edit_delete(stack: Stack) {
    let base = stack.messages.clone();
    let (ann, bob, id) = friends(&stack, "ann", "bob").await;
    let sent = stack.send(&ann, &id, "The quick brown fox").await;
    stack.send(&bob, &id, "Crème brûlée for DESSERT?").await;

    until_found(
        &stack,
        &base,
        &bob,
        &[("q", "quick")],
        &["The quick brown fox"],
    )
    .await;
    until_found(
        &stack,
        &base,
        &bob,
        &[("q", "dessert")],
        &["Crème brûlée for DESSERT?"],
    )
    .await;
    // The other member finds it too; prefix, case and accents.
    assert_eq!(
        texts_at(&stack, &base, &ann, &[("q", "QUI")]).await,
        ["The quick brown fox"]
    );
    assert_eq!(
        texts_at(&stack, &base, &ann, &[("q", "creme dess")]).await,
        ["Crème brûlée for DESSERT?"]
    );
    assert_eq!(
        texts_at(&stack, &base, &ann, &[("q", "\"brown fox\"")]).await,
        ["The quick brown fox"]
    );
    assert!(texts_at(&stack, &base, &ann, &[("q", "\"fox brown\"")])
        .await
        .is_empty());
    assert!(texts_at(&stack, &base, &ann, &[("q", "quick -fox")])
        .await
        .is_empty());

    // The snippet marks the words as written.
    let (_, body) = search_at(&stack, &base, &bob, &[("q", "crème dessert ")]).await;
    let marked: Vec<&str> = body["results"][0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|part| part["highlight"] == true)
        .map(|part| part["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["Crème", "DESSERT"]);

    let message = sent["id"].as_str().unwrap();
    let path = format!("/conversations/{id}/messages/{message}");
    stack
        .expect(
            Method::PATCH,
            &path,
            &ann,
            Some(json!({ "text": "A slow turtle" })),
            StatusCode::OK,
        )
        .await;
    until_found(&stack, &base, &bob, &[("q", "turtle")], &["A slow turtle"]).await;
    assert!(texts_at(&stack, &base, &bob, &[("q", "quick")])
        .await
        .is_empty());

    stack
        .expect(Method::DELETE, &path, &ann, None, StatusCode::NO_CONTENT)
        .await;
    // Gone at once (the store is asked), and from the index soon after.
    assert!(texts_at(&stack, &base, &bob, &[("q", "turtle")])
        .await
        .is_empty());
    until_found(
        &stack,
        &base,
        &bob,
        &[("q", "dessert")],
        &["Crème brûlée for DESSERT?"],
    )
    .await;
}

async fn across_and_removed(stack: Stack) {
    let base = stack.messages.clone();
    let (ann, bob, direct) = friends(&stack, "ann", "bob").await;
    let cat = stack.register("cat").await;
    stack.befriend(&ann, &cat).await;
    let group = stack.group(&ann, "Plans", &[&bob, &cat]).await;
    stack.send(&ann, &direct, "secret picnic just us").await;
    stack.send(&bob, &group, "picnic with everyone").await;

    until_found(
        &stack,
        &base,
        &ann,
        &[("q", "picnic")],
        &["picnic with everyone", "secret picnic just us"],
    )
    .await;
    assert_eq!(
        texts_at(&stack, &base, &cat, &[("q", "picnic")]).await,
        ["picnic with everyone"]
    );
    assert_eq!(
        texts_at(
            &stack,
            &base,
            &ann,
            &[("q", "picnic"), ("conversation_id", &direct)]
        )
        .await,
        ["secret picnic just us"]
    );
    // Someone else's conversation: the same 404 as for one that does not exist.
    let (status, body) = search_at(
        &stack,
        &base,
        &cat,
        &[("q", "picnic"), ("conversation_id", &direct)],
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "conversation_not_found")
    );

    stack
        .expect(
            Method::DELETE,
            &format!("/conversations/{group}/members/{}", cat.id),
            &ann,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    assert!(texts_at(&stack, &base, &cat, &[("q", "picnic")])
        .await
        .is_empty());
    let (status, _) = search_at(
        &stack,
        &base,
        &cat,
        &[("q", "picnic"), ("conversation_id", &group)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn filters_orders_and_pages() {
    let stack = Stack::messages().await;
    let base = stack.messages.clone();
    let (ann, bob, id) = friends(&stack, "ann", "bob").await;
    // Apart by a few milliseconds, so `before` and `after` the middle one are clear cut.
    let pause = || tokio::time::sleep(Duration::from_millis(5));
    stack.send(&ann, &id, "apple one").await;
    pause().await;
    let middle = stack.send(&bob, &id, "apple two apple apple").await;
    pause().await;
    stack.send(&ann, &id, "apple three").await;
    until_found(
        &stack,
        &base,
        &ann,
        &[("q", "apple ")],
        &["apple three", "apple two apple apple", "apple one"],
    )
    .await;

    assert_eq!(
        texts_at(&stack, &base, &ann, &[("q", "apple"), ("from", &bob.id)]).await,
        ["apple two apple apple"]
    );
    let at = middle["created_at"].as_str().unwrap();
    assert_eq!(
        texts_at(&stack, &base, &ann, &[("q", "apple"), ("after", at)]).await,
        ["apple three"]
    );
    assert_eq!(
        texts_at(&stack, &base, &ann, &[("q", "apple"), ("before", at)]).await,
        ["apple one"]
    );
    assert_eq!(
        texts_at(
            &stack,
            &base,
            &ann,
            &[("q", "apple"), ("sort", "relevance")]
        )
        .await[0],
        "apple two apple apple"
    );

    let (_, first) = search_at(&stack, &base, &ann, &[("q", "apple"), ("limit", "2")]).await;
    assert_eq!(first["results"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = search_at(
        &stack,
        &base,
        &ann,
        &[("q", "apple"), ("limit", "2"), ("cursor", &cursor)],
    )
    .await;
    assert_eq!(second["results"][0]["message"]["text"], "apple one");
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn hostile_queries_find_plain_words_or_get_a_clear_error_never_a_500() {
    let stack = Stack::messages().await;
    let base = stack.messages.clone();
    let (ann, _bob, id) = friends(&stack, "ann", "bob").await;
    stack.send(&ann, &id, "plain words").await;
    until_found(&stack, &base, &ann, &[("q", "plain")], &["plain words"]).await;
    let long = "a".repeat(201);
    let many = "word ".repeat(17);
    let refused = [
        vec![("q", "")],
        vec![("q", long.as_str())],
        vec![("q", "words"), ("limit", "0")],
        vec![("q", "words"), ("limit", "51")],
        vec![("q", "words"), ("cursor", "1001")],
        vec![("q", "words"), ("cursor", "-1")],
        vec![("q", "words"), ("cursor", "abc")],
        vec![("q", "words"), ("before", "yesterday")],
        vec![("q", "words"), ("from", "not-a-uuid")],
        vec![("q", "words"), ("sort", "random")],
    ];
    for query in &refused {
        let (status, body) = search_at(&stack, &base, &ann, query).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{query:?}: {status} {body}"
        );
        assert!(!code(&body).is_empty(), "{query:?}: {body}");
    }
    // Anything else is words and separators: found or not, never an error.
    let plain: &[&str] = &["plain words"];
    let none: &[&str] = &[];
    for (q, expected) in [
        ("\"unclosed", none),
        ("\"plain words", plain),
        ("plain AND (words OR c)", none),
        ("plain:words", plain),
        ("word*", plain),
        ("~2 ^3", none),
        ("[plain TO words]", none),
        ("\\", none),
        ("   ", none),
        ("-only", none),
        ("\"\"", none),
        ("*", none),
        (many.as_str(), none),
        ("'; DROP TABLE", none),
        ("{\"$where\": 1}", none),
        ("👍 plain", plain),
        ("-\"plain\" words", none),
        ("\u{0}words", plain),
        ("PLAIN-words", plain),
    ] {
        assert_eq!(
            texts_at(&stack, &base, &ann, &[("q", q)]).await,
            expected,
            "{q:?}"
        );
    }
    let (status, _) = search_at(&stack, &base, &ann, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A malformed conversation id is simply not found, as everywhere.
    let (status, body) = search_at(
        &stack,
        &base,
        &ann,
        &[("q", "words"), ("conversation_id", "nope")],
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "conversation_not_found")
    );
    let anonymous = stack
        .client
        .get(format!("{base}/search/messages?q=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// The search index rebuilds this instance has done (from its `/metrics`), once it is
/// `expected` (the count moves just after the rebuilt index is searchable) or after a second.
async fn rebuilds(stack: &Stack, base: &str, expected: u64) -> u64 {
    let mut count = 0;
    for _ in 0..20 {
        count = stack
            .metrics_at(base)
            .await
            .lines()
            .find(|line| line.starts_with("search_index_rebuilds_total"))
            .and_then(|line| line.rsplit(' ').next())
            .map_or(0, |count| count.parse().unwrap());
        if count == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    count
}

#[tokio::test]
async fn an_instance_catches_up_after_downtime_and_rebuilds_when_it_must() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = friends(&stack, "ann", "bob").await;
    let dir = std::env::temp_dir().join(format!("search-{}", stack.prefix.trim_end_matches(':')));
    let flag = format!("--search-index-dir={}", dir.display());
    stack.send(&ann, &id, "before the instance").await;

    // A new directory: built from MongoDB.
    let instance = stack.instance(&[&flag]).await;
    until_found(
        &stack,
        &instance.url,
        &bob,
        &[("q", "instance")],
        &["before the instance"],
    )
    .await;
    assert_eq!(rebuilds(&stack, &instance.url, 1).await, 1);
    drop(instance);

    // Down for a while: what happened meanwhile comes from the stream, no rebuild.
    let later = stack.send(&ann, &id, "while it was down").await;
    let path = format!(
        "/conversations/{id}/messages/{}",
        later["id"].as_str().unwrap()
    );
    stack
        .expect(
            Method::PATCH,
            &path,
            &ann,
            Some(json!({ "text": "edited while it was down" })),
            StatusCode::OK,
        )
        .await;
    let instance = stack.instance(&[&flag]).await;
    until_found(
        &stack,
        &instance.url,
        &bob,
        &[("q", "down")],
        &["edited while it was down"],
    )
    .await;
    assert_eq!(rebuilds(&stack, &instance.url, 0).await, 0);
    drop(instance);

    // The directory deleted: rebuilt.
    std::fs::remove_dir_all(&dir).unwrap();
    let instance = stack.instance(&[&flag]).await;
    until_found(
        &stack,
        &instance.url,
        &bob,
        &[("q", "down")],
        &["edited while it was down"],
    )
    .await;
    assert_eq!(rebuilds(&stack, &instance.url, 1).await, 1);
    drop(instance);

    // The stream trimmed past the index's position while it was down: rebuilt, nothing lost.
    stack.send(&bob, &id, "after the trim").await;
    let mut redis = stack.redis.clone();
    let _: u64 = redis::cmd("XTRIM")
        .arg(format!("{}events", stack.prefix))
        .arg("MAXLEN")
        .arg(0)
        .query_async(&mut redis)
        .await
        .unwrap();
    let instance = stack.instance(&[&flag]).await;
    until_found(
        &stack,
        &instance.url,
        &ann,
        &[("q", "trim")],
        &["after the trim"],
    )
    .await;
    assert_eq!(
        texts_at(&stack, &instance.url, &ann, &[("q", "instance")]).await,
        ["before the instance"]
    );
    assert_eq!(rebuilds(&stack, &instance.url, 1).await, 1);
    drop(instance);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The texts of a history page, in its order.
fn texts_of(page: &Value) -> Vec<&str> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["text"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn history_around_a_message_centres_the_page_on_it() {
    let stack = Stack::messages().await;
    let (ann, _bob, id) = friends(&stack, "ann", "bob").await;
    let mut ids = Vec::new();
    for i in 1..=9 {
        ids.push(
            stack.send(&ann, &id, &format!("m{i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let page = stack
        .get(
            &format!("/conversations/{id}/messages?around={}&limit=4", ids[4]),
            &ann,
        )
        .await;
    assert_eq!(texts_of(&page), ["m3", "m4", "m5", "m6"]);
    assert_eq!(page["has_more"], true);
    let page = stack
        .get(
            &format!("/conversations/{id}/messages?around={}&limit=4", ids[0]),
            &ann,
        )
        .await;
    assert_eq!(texts_of(&page), ["m1", "m2"]);
    assert_eq!(page["has_more"], false);
    // `around` wins over `before`.
    let page = stack
        .get(
            &format!(
                "/conversations/{id}/messages?around={}&before={}&limit=2",
                ids[4], ids[1]
            ),
            &ann,
        )
        .await;
    assert_eq!(page["messages"][1]["text"], "m5");
}
