//! Attachments and group pictures: intake, downloads, who may read them, the quota, the
//! sweeper and what deleting a message, a group or an account removes.

use chat_models::api::ws::ServerFrame;
use chat_testkit::files::{self, GPS_MARKER};
use chat_testkit::{
    code, eventually, json_with, next_frame, Service, Stack, TestUser, WsClient, PASSWORD,
};
use reqwest::{header, Method, Response, StatusCode};
use serde_json::{json, Value};

async fn body(response: Response, expected: StatusCode) -> Value {
    json_with(response, expected, "upload or download").await
}

async fn download(stack: &Stack, user: &TestUser, url: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = stack.client.get(url).bearer_auth(&user.access);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// The stored objects under `kind` (`attachments`, `group-pictures`) of the local store.
fn stored(stack: &Stack, kind: &str) -> Vec<String> {
    let dir = stack.files_dir().join("messages").join(kind);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A user's bytes of attachments, as `storage_usage` counts them.
async fn used_bytes(usage: &mongodb::Collection<bson::Document>, user: &TestUser) -> Option<i64> {
    usage
        .find_one(bson::doc! { "_id": &user.id })
        .await
        .unwrap()
        .map(|used| used.get_i64("bytes").unwrap())
}

async fn pair(stack: &Stack) -> (TestUser, TestUser, String) {
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    stack.befriend(&ann, &bob).await;
    let id = stack.direct(&ann, &bob).await;
    (ann, bob, id)
}

async fn send_files(stack: &Stack, user: &TestUser, conversation: &str, ids: &[&str]) -> Response {
    stack
        .call(
            Method::POST,
            &format!("/conversations/{conversation}/messages"),
            user,
            Some(json!({ "attachment_ids": ids })),
        )
        .await
}

#[tokio::test]
async fn attachments_are_typed_by_their_bytes_and_reach_members_only() {
    let stack = Stack::messages().await;
    let (ann, bob, id) = pair(&stack).await;
    let eve = stack.register("eve").await;

    // Named for what they are not: the bytes decide.
    let photo = body(
        stack.attach(&ann, "photo.exe", files::png(800, 600)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(photo["content_type"], "image/png");
    assert_eq!(
        (photo["width"].as_i64(), photo["height"].as_i64()),
        (Some(800), Some(600))
    );
    assert_eq!(photo["name"], "photo.exe");
    let tool = body(
        stack.attach(&ann, "cat.png", files::executable(4096)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(tool["content_type"], "application/x-executable");
    assert!(tool["width"].is_null() && tool["thumbnail_url"].is_null());
    let notes = body(
        stack.attach(&ann, "../notes.pdf", files::pdf()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (notes["name"].as_str(), notes["content_type"].as_str()),
        (Some("notes.pdf"), Some("application/pdf"))
    );
    let photo_url = photo["url"].as_str().unwrap().to_owned();
    assert_eq!(
        photo_url,
        format!(
            "{}/attachments/{}",
            stack.messages,
            photo["id"].as_str().unwrap()
        )
    );

    // Before it is sent, only its uploader sees it.
    assert_eq!(
        download(&stack, &ann, &photo_url, &[]).await.status(),
        StatusCode::OK
    );
    let hidden = body(
        download(&stack, &bob, &photo_url, &[]).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code(&hidden), "file_not_found");

    let (mut bob_ws, _) = WsClient::open(&stack.messages, &bob).await;
    let ids = [photo["id"].as_str().unwrap(), notes["id"].as_str().unwrap()];
    let sent = body(
        send_files(&stack, &ann, &id, &ids).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(sent["text"], "");
    assert_eq!(sent["attachments"][0]["id"], photo["id"]);
    assert_eq!(sent["attachments"][1]["name"], "notes.pdf");
    let live = next_frame!(bob_ws, ServerFrame::MessageCreated(message) => message);
    assert_eq!(live.attachments.len(), 2);
    assert_eq!(live.attachments[0].url, photo_url);
    assert_eq!(live.attachments[0].width, Some(800));
    let history = stack
        .get(&format!("/conversations/{id}/messages"), &bob)
        .await;
    assert_eq!(history["messages"][0]["attachments"], sent["attachments"]);
    let list = stack.get("/conversations", &bob).await;
    assert_eq!(
        list["conversations"][0]["last_message"]["preview"],
        "📎 photo.exe +1"
    );

    // A member downloads: an image inline, kept for good, never sniffed or run.
    let image = download(&stack, &bob, &photo_url, &[]).await;
    assert_eq!(image.status(), StatusCode::OK);
    let headers = image.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "private, max-age=31536000, immutable"
    );
    let full = image.bytes().await.unwrap();
    assert_eq!(full.len() as i64, photo["size"].as_i64().unwrap());
    let decoded = image::load_from_memory(&full).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (800, 600));
    let thumbnail = download(&stack, &bob, photo["thumbnail_url"].as_str().unwrap(), &[]).await;
    assert_eq!(thumbnail.headers()[header::CONTENT_TYPE], "image/jpeg");
    let small = image::load_from_memory(&thumbnail.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (320, 240));

    // A range, a range past the end, a copy already held.
    let part = download(&stack, &bob, &photo_url, &[("range", "bytes=10-109")]).await;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()[header::CONTENT_RANGE].to_str().unwrap(),
        format!("bytes 10-109/{}", full.len())
    );
    assert_eq!(part.bytes().await.unwrap(), full.slice(10..110));
    let past = download(&stack, &bob, &photo_url, &[("range", "bytes=99999999-")]).await;
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let cached = download(&stack, &bob, &photo_url, &[("if-none-match", &etag)]).await;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    // Anything else is a download, under its own name.
    let pdf = download(&stack, &bob, notes["url"].as_str().unwrap(), &[]).await;
    assert_eq!(pdf.headers()[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(
        pdf.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"notes.pdf\"; filename*=UTF-8''notes.pdf"
    );
    assert_eq!(pdf.bytes().await.unwrap().to_vec(), files::pdf());

    // Someone outside the conversation: the same 404 as for nothing at all.
    for url in [&photo_url, notes["url"].as_str().unwrap()] {
        let refused = body(
            download(&stack, &eve, url, &[]).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(code(&refused), "file_not_found");
    }
    let unknown = format!("{}/attachments/{}", stack.messages, "0".repeat(24));
    assert_eq!(
        download(&stack, &bob, &unknown, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    let anonymous = stack.client.get(&photo_url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // An upload is attached once, by its uploader, at most ten to a message.
    let again = body(
        send_files(&stack, &ann, &id, &ids[..1]).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code(&again), "attachment_not_found");
    let tool_id = tool["id"].as_str().unwrap();
    let not_hers = body(
        send_files(&stack, &bob, &id, &[tool_id]).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code(&not_hers), "attachment_not_found");
    let many: Vec<&str> = std::iter::repeat_n(tool_id, 11).collect();
    let too_many = body(
        send_files(&stack, &ann, &id, &many).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(too_many["error"]["details"][0]["code"], "too_many");
    let nothing = stack
        .call(
            Method::POST,
            &format!("/conversations/{id}/messages"),
            &ann,
            Some(json!({ "text": " " })),
        )
        .await;
    assert_eq!(nothing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The executable, sent with a caption, is served as a download of its own type.
    let with_text = stack
        .call(
            Method::POST,
            &format!("/conversations/{id}/messages"),
            &ann,
            Some(json!({ "text": "the tool", "attachment_ids": [tool_id] })),
        )
        .await;
    let with_text = body(with_text, StatusCode::CREATED).await;
    assert_eq!(with_text["text"], "the tool");
    let binary = download(&stack, &bob, tool["url"].as_str().unwrap(), &[]).await;
    assert_eq!(
        binary.headers()[header::CONTENT_TYPE],
        "application/x-executable"
    );
    assert!(binary.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
}

#[tokio::test]
async fn uploads_over_the_limit_are_cut_off_while_streaming() {
    let stack = Stack::builder(Service::Messages)
        .messages_config(|config| config.attachment_max_bytes = 1_000_000)
        .start()
        .await;
    let ann = stack.register("ann").await;
    let url = format!("{}/attachments?name=big.bin", stack.messages);
    // No length declared: the bytes themselves trip the limit.
    let streamed = stack
        .upload_streamed(Method::POST, &url, &ann, files::noise(3_000_000))
        .await;
    let streamed = body(streamed, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(code(&streamed), "file_too_large");
    assert_eq!(streamed["error"]["message"], "Files may be at most 1 MB.");
    // Declared too large: refused before it is read.
    let declared = stack
        .upload_to(Method::POST, &url, &ann, files::noise(1_000_001))
        .await;
    assert_eq!(
        code(&body(declared, StatusCode::PAYLOAD_TOO_LARGE).await),
        "file_too_large"
    );
    assert_eq!(stored(&stack, "attachments"), Vec::<String>::new());
    // At the limit is fine; empty is not.
    let fits = stack
        .upload_streamed(Method::POST, &url, &ann, files::noise(1_000_000))
        .await;
    assert_eq!(body(fits, StatusCode::CREATED).await["size"], 1_000_000);
    let empty = stack.upload_to(Method::POST, &url, &ann, Vec::new()).await;
    assert_eq!(
        body(empty, StatusCode::UNPROCESSABLE_ENTITY).await["error"]["details"][0]["code"],
        "empty"
    );
}

#[tokio::test]
async fn images_are_decoded_under_limits_turned_upright_and_stripped_of_metadata() {
    let stack = Stack::messages().await;
    let ann = stack.register("ann").await;

    // 10,000 × 10,000 pixels in a few bytes: refused before anything is allocated.
    let bomb = body(
        stack
            .attach(&ann, "bomb.png", files::png_claiming(10_000, 10_000))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code(&bomb), "image_too_large");
    let wide = body(
        stack
            .attach(&ann, "wide.png", files::png_claiming(100_000, 10))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code(&wide), "image_too_large");
    let mut broken = files::png(10, 10);
    broken.truncate(40);
    let broken = body(
        stack.attach(&ann, "broken.png", broken).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code(&broken), "invalid_image");
    assert_eq!(stored(&stack, "attachments"), Vec::<String>::new());

    // A camera picture: 40 × 20 stored sideways with "rotate 90°" and a GPS position.
    let original = files::jpeg_with_gps(40, 20);
    assert!(original.windows(GPS_MARKER.len()).any(|w| w == GPS_MARKER));
    let photo = body(
        stack.attach(&ann, "camera.jpg", original).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(photo["content_type"], "image/jpeg");
    assert_eq!(
        (photo["width"].as_i64(), photo["height"].as_i64()),
        (Some(20), Some(40))
    );
    let kept = download(&stack, &ann, photo["url"].as_str().unwrap(), &[])
        .await
        .bytes()
        .await
        .unwrap();
    assert!(
        !kept.windows(GPS_MARKER.len()).any(|w| w == GPS_MARKER),
        "the GPS block is gone"
    );
    assert!(!kept.windows(4).any(|w| w == b"Exif"), "no EXIF at all");
    let upright = image::load_from_memory(&kept).unwrap().to_rgb8();
    assert_eq!(upright.dimensions(), (20, 40));
    // The red half (left in the file) is on top once turned 90° clockwise.
    assert!(upright.get_pixel(10, 5)[0] > 200 && upright.get_pixel(10, 35)[0] < 60);
}

#[tokio::test]
async fn the_quota_admits_only_what_fits_even_in_parallel() {
    let stack = Stack::builder(Service::Messages)
        .messages_config(|config| config.storage_quota_bytes = 1_500_000)
        .start()
        .await;
    let ann = stack.register("ann").await;
    let (first, second) = tokio::join!(
        stack.attach(&ann, "one.bin", files::noise(1_000_000)),
        stack.attach(&ann, "two.bin", files::noise(1_000_000)),
    );
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::PAYLOAD_TOO_LARGE]
    );
    let (kept, refused) = if first.status() == StatusCode::CREATED {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(
        code(&body(refused, StatusCode::PAYLOAD_TOO_LARGE).await),
        "quota_exceeded"
    );
    let kept = body(kept, StatusCode::CREATED).await;
    assert_eq!(stored(&stack, "attachments").len(), 1);

    // Taking the upload out of the composer gives the room back.
    let id = kept["id"].as_str().unwrap();
    stack
        .expect(
            Method::DELETE,
            &format!("/attachments/{id}"),
            &ann,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    stack
        .expect(
            Method::DELETE,
            &format!("/attachments/{id}"),
            &ann,
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    eventually("the room is given back", async || {
        let retry = stack
            .attach(&ann, "three.bin", files::noise(1_000_000))
            .await;
        retry.status() == StatusCode::CREATED
    })
    .await;
    eventually("the removed upload's bytes go", async || {
        stored(&stack, "attachments").len() == 1
    })
    .await;
}

#[tokio::test]
async fn uploads_never_attached_are_swept() {
    let stack = Stack::builder(Service::Messages)
        .messages_config(|config| config.upload_unattached_ttl_secs = 1)
        .start()
        .await;
    let (ann, _bob, conversation) = pair(&stack).await;
    let left = body(
        stack.attach(&ann, "left.png", files::png(50, 50)).await,
        StatusCode::CREATED,
    )
    .await;
    let sent = body(
        stack.attach(&ann, "sent.png", files::png(50, 50)).await,
        StatusCode::CREATED,
    )
    .await;
    body(
        send_files(&stack, &ann, &conversation, &[sent["id"].as_str().unwrap()]).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        stored(&stack, "attachments").len(),
        4,
        "two files with their thumbnails"
    );
    eventually("the unattached upload is swept", async || {
        stored(&stack, "attachments").len() == 2
    })
    .await;
    let gone = download(&stack, &ann, left["url"].as_str().unwrap(), &[]).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let kept = download(&stack, &ann, sent["url"].as_str().unwrap(), &[]).await;
    assert_eq!(kept.status(), StatusCode::OK);
    // The quota is credited once the bytes are gone (a transaction of its own, just after).
    let usage = stack.mongo.collection::<bson::Document>("storage_usage");
    let size = sent["size"].as_i64().unwrap();
    eventually("the swept upload's size is credited back", async || {
        used_bytes(&usage, &ann).await == Some(size)
    })
    .await;
}

#[tokio::test]
async fn deleting_a_message_a_group_or_an_account_removes_its_files() {
    let stack = Stack::messages().await;
    let (ann, bob, direct) = pair(&stack).await;
    let cat = stack.register("cat").await;
    stack.befriend(&ann, &cat).await;

    // A message.
    let file = body(
        stack.attach(&ann, "a.pdf", files::pdf()).await,
        StatusCode::CREATED,
    )
    .await;
    let message = body(
        send_files(&stack, &ann, &direct, &[file["id"].as_str().unwrap()]).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!(
        "/conversations/{direct}/messages/{}",
        message["id"].as_str().unwrap()
    );
    stack
        .expect(Method::DELETE, &path, &ann, None, StatusCode::NO_CONTENT)
        .await;
    let history = stack
        .get(&format!("/conversations/{direct}/messages"), &bob)
        .await;
    assert_eq!(history["messages"][0]["attachments"], json!([]));
    assert_eq!(
        download(&stack, &bob, file["url"].as_str().unwrap(), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    eventually("the message's file goes", async || {
        stored(&stack, "attachments").is_empty()
    })
    .await;
    let usage = stack.mongo.collection::<bson::Document>("storage_usage");
    eventually("the message's file is credited back", async || {
        used_bytes(&usage, &ann).await == Some(0)
    })
    .await;

    // A group: its attachments and its picture.
    let group = stack.group(&ann, "Team", &[&bob, &cat]).await;
    let picture_url = format!("{}/conversations/{group}/picture", stack.messages);
    let set = stack
        .upload_to(Method::PUT, &picture_url, &ann, files::png(300, 300))
        .await;
    body(set, StatusCode::OK).await;
    let shared = body(
        stack.attach(&cat, "c.pdf", files::pdf()).await,
        StatusCode::CREATED,
    )
    .await;
    body(
        send_files(&stack, &cat, &group, &[shared["id"].as_str().unwrap()]).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(stored(&stack, "group-pictures").len(), 2);
    stack
        .expect(
            Method::DELETE,
            &format!("/conversations/{group}"),
            &ann,
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    eventually("the group's files go", async || {
        stored(&stack, "attachments").is_empty() && stored(&stack, "group-pictures").is_empty()
    })
    .await;

    // An account: what it uploaded, sent or not.
    let sent = body(
        stack.attach(&bob, "b.pdf", files::pdf()).await,
        StatusCode::CREATED,
    )
    .await;
    body(
        send_files(&stack, &bob, &direct, &[sent["id"].as_str().unwrap()]).await,
        StatusCode::CREATED,
    )
    .await;
    body(
        stack.attach(&bob, "draft.pdf", files::pdf()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(stored(&stack, "attachments").len(), 2);
    let url = format!("{}/users/me", stack.users);
    let deleted = stack
        .client
        .delete(url)
        .bearer_auth(&bob.access)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    eventually("the account's files go", async || {
        stored(&stack, "attachments").is_empty()
    })
    .await;
    eventually("its quota is forgotten", async || {
        usage
            .find_one(bson::doc! { "_id": &bob.id })
            .await
            .unwrap()
            .is_none()
    })
    .await;
}

#[tokio::test]
async fn group_pictures_are_set_by_the_admin_and_seen_by_signed_in_users() {
    let stack = Stack::messages().await;
    let (ann, bob) = (stack.register("ann").await, stack.register("bob").await);
    let stranger = stack.register("stranger").await;
    stack.befriend(&ann, &bob).await;
    let group = stack.group(&ann, "Team", &[&bob]).await;
    let url = format!("{}/conversations/{group}/picture", stack.messages);

    let not_admin = body(
        stack
            .upload_to(Method::PUT, &url, &bob, files::png(64, 64))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code(&not_admin), "not_group_admin");
    let pdf = body(
        stack.upload_to(Method::PUT, &url, &ann, files::pdf()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(code(&pdf), "unsupported_file_type");

    let (mut bob_ws, _) = WsClient::open(&stack.messages, &bob).await;
    let view = body(
        stack
            .upload_to(Method::PUT, &url, &ann, files::png(2000, 1000))
            .await,
        StatusCode::OK,
    )
    .await;
    let first = view["picture"].as_str().unwrap().to_owned();
    assert!(
        first.starts_with(&format!("{}/group-pictures/", stack.messages)),
        "{first}"
    );
    let updated = next_frame!(bob_ws, ServerFrame::ConversationUpdated(update) => update);
    assert_eq!(updated.picture.as_deref(), Some(first.as_str()));
    // Scaled to fit 1024 × 1024, shown to any signed-in user, not to anonymous ones.
    let picture = download(&stack, &stranger, &first, &[]).await;
    assert_eq!(picture.status(), StatusCode::OK);
    let decoded = image::load_from_memory(&picture.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1024, 512));
    assert_eq!(
        stack.client.get(&first).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // A new picture replaces the old one, whose URL stops working.
    let view = body(
        stack
            .upload_to(Method::PUT, &url, &ann, files::png(64, 64))
            .await,
        StatusCode::OK,
    )
    .await;
    let second = view["picture"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    eventually("the replaced picture goes", async || {
        download(&stack, &bob, &first, &[]).await.status() == StatusCode::NOT_FOUND
            && stored(&stack, "group-pictures").len() == 2
    })
    .await;
    // A pasted URL replaces it too; clearing leaves none.
    let patched = stack
        .call(
            Method::PATCH,
            &format!("/conversations/{group}"),
            &ann,
            Some(json!({ "picture": "https://example.com/p.png" })),
        )
        .await;
    assert_eq!(
        body(patched, StatusCode::OK).await["picture"],
        "https://example.com/p.png"
    );
    eventually("the uploaded picture goes", async || {
        stored(&stack, "group-pictures").is_empty()
    })
    .await;
    let cleared = stack
        .call(
            Method::DELETE,
            &format!("/conversations/{group}/picture"),
            &ann,
            None,
        )
        .await;
    assert!(body(cleared, StatusCode::OK).await["picture"].is_null());
}
