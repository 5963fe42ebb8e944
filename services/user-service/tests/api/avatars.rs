//! Profile pictures: uploaded, cleaned and scaled, shown to signed-in users, replaced and
//! removed with what they leave in storage.

use chat_testkit::files;
use chat_testkit::{code, eventually, json_with, Stack, TestUser, PASSWORD};
use reqwest::{header, Method, Response, StatusCode};
use serde_json::{json, Value};

async fn body(response: Response, expected: StatusCode) -> Value {
    json_with(response, expected, "upload or download").await
}

fn stored(stack: &Stack) -> usize {
    std::fs::read_dir(stack.files_dir().join("users/avatars")).map_or(0, Iterator::count)
}

async fn upload(stack: &Stack, user: &TestUser, bytes: Vec<u8>) -> Response {
    let url = format!("{}/users/me/avatar", stack.users);
    stack.upload_to(Method::PUT, &url, user, bytes).await
}

async fn fetch(stack: &Stack, user: &TestUser, url: &str) -> Response {
    stack
        .client
        .get(url)
        .bearer_auth(&user.access)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_uploaded_avatar_is_cleaned_shown_replaced_and_removed() {
    let stack = Stack::users().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);

    let refused = body(
        upload(&stack, &ann, files::pdf()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(code(&refused), "unsupported_file_type");
    let bomb = body(
        upload(&stack, &ann, files::png_claiming(20_000, 20_000)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code(&bomb), "image_too_large");
    let huge = body(
        upload(&stack, &ann, files::noise(6_000_000)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(code(&huge), "file_too_large");
    assert_eq!(stored(&stack), 0);

    // A camera picture: turned upright, its GPS block gone, scaled to fit 1024.
    let me = body(
        upload(&stack, &ann, files::jpeg_with_gps(2400, 1200)).await,
        StatusCode::OK,
    )
    .await;
    let first = me["profile_picture"].as_str().unwrap().to_owned();
    assert!(
        first.starts_with(&format!("{}/avatars/", stack.users)),
        "{first}"
    );
    let shown = fetch(&stack, &bob, &first).await;
    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(shown.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(shown.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let bytes = shown.bytes().await.unwrap();
    assert!(!bytes
        .windows(files::GPS_MARKER.len())
        .any(|w| w == files::GPS_MARKER));
    let picture = image::load_from_memory(&bytes).unwrap();
    assert_eq!((picture.width(), picture.height()), (512, 1024));
    let thumbnail = fetch(&stack, &bob, &format!("{first}/thumbnail")).await;
    let small = image::load_from_memory(&thumbnail.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (160, 320));
    // Others see the URL on the profile; anonymous callers do not get the picture.
    let profile = stack.get(&format!("/users/{}", ann.id), &bob).await;
    assert_eq!(profile["profile_picture"], first.as_str());
    assert_eq!(
        stack.client.get(&first).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // A new picture replaces it: the old URL stops working and its bytes go.
    let me = body(
        upload(&stack, &ann, files::png(200, 200)).await,
        StatusCode::OK,
    )
    .await;
    let second = me["profile_picture"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(
        fetch(&stack, &bob, &first).await.status(),
        StatusCode::NOT_FOUND
    );
    eventually("the replaced picture's bytes go", async || {
        stored(&stack) == 2
    })
    .await;

    // A pasted URL replaces it too.
    let pasted = stack
        .send_as(
            Method::PATCH,
            "/users/me",
            &ann.access,
            json!({ "profile_picture": "https://cdn.example/a.png" }),
        )
        .await;
    assert_eq!(
        body(pasted, StatusCode::OK).await["profile_picture"],
        "https://cdn.example/a.png"
    );
    assert_eq!(
        fetch(&stack, &bob, &second).await.status(),
        StatusCode::NOT_FOUND
    );
    eventually("the uploaded picture's bytes go", async || {
        stored(&stack) == 0
    })
    .await;

    // Removing leaves none.
    body(
        upload(&stack, &ann, files::png(64, 64)).await,
        StatusCode::OK,
    )
    .await;
    let url = format!("{}/users/me/avatar", stack.users);
    let removed = stack
        .client
        .delete(&url)
        .bearer_auth(&ann.access)
        .send()
        .await
        .unwrap();
    assert!(body(removed, StatusCode::OK).await["profile_picture"].is_null());
    eventually("a removed picture's bytes go", async || stored(&stack) == 0).await;

    // So does deleting the account.
    let me = body(
        upload(&stack, &bob, files::png(64, 64)).await,
        StatusCode::OK,
    )
    .await;
    let bobs = me["profile_picture"].as_str().unwrap().to_owned();
    let deleted = stack
        .client
        .delete(format!("{}/users/me", stack.users))
        .bearer_auth(&bob.access)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        fetch(&stack, &ann, &bobs).await.status(),
        StatusCode::NOT_FOUND
    );
    eventually("a deleted account's picture goes", async || {
        stored(&stack) == 0
    })
    .await;
}
