//! Link previews: after a message with a link is stored, its first link is fetched in the
//! background ([`fetch`], within what [`crate::egress`] allows), the page's own description is read
//! ([`html`]) and stored on the message as a change, and members get `message.updated`.
//! Readers' browsers never contact the site for it.

pub mod fetch;
pub mod html;

use linkify::{LinkFinder, LinkKind};
use reqwest::Url;

use crate::db::changes::{self, Applied, Change};
use crate::db::conversations;
use crate::db::messages::MessageDoc;
use crate::state::AppState;
use crate::views::message_view;
use chat_models::events::{DomainEvent, MessageEvent};

pub use fetch::Fetcher;

/// The first http(s) link in a text.
pub fn first_link(text: &str) -> Option<Url> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]);
    finder
        .links(text)
        .filter_map(|link| Url::parse(link.as_str()).ok())
        .find(|url| matches!(url.scheme(), "http" | "https"))
}

/// Starts fetching the preview of a new message's first link, if previews are on and it has
/// one; a refusal or failure is logged at debug level and leaves the message as it is.
pub fn spawn_for(state: &AppState, message: &MessageDoc) {
    let (Some(fetcher), Some(link)) = (state.previews.clone(), first_link(&message.text)) else {
        return;
    };
    let (state, message) = (state.clone(), message.clone());
    tokio::spawn(async move {
        if let Err(error) = attach(&state, &fetcher, &message, link).await {
            tracing::debug!(message = %message.id, error = %error, "no link preview");
        }
    });
}

async fn attach(
    state: &AppState,
    fetcher: &Fetcher,
    message: &MessageDoc,
    link: Url,
) -> anyhow::Result<()> {
    let (page, body) = fetcher.fetch(link.clone()).await?;
    let Some(preview) = html::preview(link.as_str(), &page, &body) else {
        return Ok(());
    };
    let change = Change::Preview(preview);
    let applied = changes::apply(
        &state.store,
        message.conversation_id,
        None,
        message.id,
        change,
    )
    .await?;
    let (Applied::Changed(message), Some(conversation)) = (
        applied,
        conversations::find(&state.store, message.conversation_id).await?,
    ) else {
        return Ok(());
    };
    let view = message_view(state, &message).await?;
    state
        .publish(DomainEvent::MessageUpdated(MessageEvent {
            audience: conversation.member_uuids(),
            message: view,
        }))
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_web_link_is_previewed() {
        let found = first_link("see https://a.example/x?y=1 and http://b.example").unwrap();
        assert_eq!(found.as_str(), "https://a.example/x?y=1");
        assert!(first_link("mail me: ann@example.com, or ftp://files.example").is_none());
        assert!(first_link("no links here").is_none());
    }
}
