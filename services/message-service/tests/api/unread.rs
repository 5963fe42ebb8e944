//! The conversation list counts unread messages and mentions, and gathers receipts, for a
//! whole page at once: each conversation must still get its own.

use std::collections::HashMap;

use chat_testkit::{Service, Stack, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn page_of(stack: &Stack, user: &TestUser) -> HashMap<String, Value> {
    let page = stack
        .expect(Method::GET, "/conversations", user, None, StatusCode::OK)
        .await;
    page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|view| (view["id"].as_str().unwrap().to_owned(), view.clone()))
        .collect()
}

fn counts(view: &Value) -> (u64, u64) {
    (
        view["unread_count"].as_u64().unwrap(),
        view["mention_count"].as_u64().unwrap(),
    )
}

/// Who has read how far (message ids by reader), from a view's receipts.
fn receipts(view: &Value) -> HashMap<String, String> {
    view["read_states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|state| {
            (
                state["user_uuid"].as_str().unwrap().to_owned(),
                state["last_read_message_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_conversation_of_a_page_gets_its_own_counts_and_receipts() {
    let stack = Stack::builder(Service::Messages).start().await;
    let (ann, bob, cat) = (
        stack.register("ann").await,
        stack.register("bob").await,
        stack.register("cat").await,
    );
    stack.befriend(&ann, &bob).await;
    stack.befriend(&ann, &cat).await;
    let with_bob = stack.direct(&ann, &bob).await;
    let with_cat = stack.direct(&ann, &cat).await;
    let group = stack.group(&ann, "g", &[&bob, &cat]).await;

    // With Bob: three from him, Ann has read the first.
    let mut from_bob = Vec::new();
    for text in ["b1", "b2", "b3"] {
        from_bob.push(stack.send(&bob, &with_bob, text).await);
    }
    stack
        .expect(
            Method::POST,
            &format!("/conversations/{with_bob}/read"),
            &ann,
            Some(json!({ "message_id": from_bob[0]["id"] })),
            StatusCode::NO_CONTENT,
        )
        .await;
    // With Cat: only Ann wrote.
    let to_cat = stack.send(&ann, &with_cat, "hi cat").await;
    // The group: Ann first, then a mention of her, one from Cat and one Cat took back.
    stack.send(&ann, &group, "mine").await;
    stack
        .expect(
            Method::POST,
            &format!("/conversations/{group}/messages"),
            &bob,
            Some(json!({ "text": "@ann look", "mentions": [ann.id] })),
            StatusCode::CREATED,
        )
        .await;
    stack.send(&cat, &group, "c1").await;
    let taken_back = stack.send(&cat, &group, "c2").await;
    stack
        .expect(
            Method::DELETE,
            &format!(
                "/conversations/{group}/messages/{}",
                taken_back["id"].as_str().unwrap()
            ),
            &cat,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;

    let anns = page_of(&stack, &ann).await;
    assert_eq!(anns.len(), 3);
    assert_eq!(counts(&anns[&with_bob]), (2, 0));
    assert_eq!(counts(&anns[&with_cat]), (0, 0));
    assert_eq!(counts(&anns[&group]), (2, 1));
    let (ann_id, bob_id) = (ann.id.clone(), bob.id.clone());
    assert_eq!(
        receipts(&anns[&with_bob]),
        HashMap::from([
            (
                ann_id.clone(),
                from_bob[0]["id"].as_str().unwrap().to_owned()
            ),
            (
                bob_id.clone(),
                from_bob[2]["id"].as_str().unwrap().to_owned()
            ),
        ])
    );
    assert_eq!(
        receipts(&anns[&with_cat]),
        HashMap::from([(ann_id.clone(), to_cat["id"].as_str().unwrap().to_owned())])
    );
    assert!(receipts(&anns[&group]).is_empty(), "no receipts in groups");

    let bobs = page_of(&stack, &bob).await;
    assert_eq!(bobs.len(), 2);
    assert_eq!(counts(&bobs[&with_bob]), (0, 0));
    assert_eq!(counts(&bobs[&group]), (1, 0), "Cat's c1 only");
    let cats = page_of(&stack, &cat).await;
    assert_eq!(counts(&cats[&with_cat]), (1, 0));
    assert_eq!(counts(&cats[&group]), (0, 0));
}
