//! message-service against real MongoDB (or secantusd-rs), MariaDB and Redis, with user- and
//! friends-service running in the same process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench_smoke;
mod changes;
mod conversations;
mod faults;
mod files;
mod limits;
mod messages;
mod previews;
mod push;
mod search;
mod shared;
mod turns;
mod unread;
mod ws;

/// A text message of `sender` (a uuid) to store straight through `db::messages`, as a
/// direct conversation's send.
fn text(
    conversation: bson::oid::ObjectId,
    sender: &str,
    text: &str,
    nonce: Option<&str>,
) -> message_service::db::messages::NewMessage {
    message_service::db::messages::NewMessage {
        conversation_id: conversation,
        sender: sender.parse().unwrap(),
        text: text.to_owned(),
        reply_to: None,
        nonce: nonce.map(str::to_owned),
        mentions: Vec::new(),
        mentions_everyone: false,
        attachments: Vec::new(),
        in_group: false,
    }
}

/// The `seq` of each message of a history page (`path`, with its query), newest first, as
/// `user` reads it.
async fn page_seqs(
    stack: &chat_testkit::Stack,
    user: &chat_testkit::TestUser,
    path: &str,
) -> Vec<i64> {
    let page = stack
        .expect(
            reqwest::Method::GET,
            path,
            user,
            None,
            reqwest::StatusCode::OK,
        )
        .await;
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}
