//! What a page says about itself: Open Graph tags, else its `<title>` and description.

use reqwest::Url;
use scraper::{Html, Selector};

use crate::db::messages::LinkPreviewDoc;

/// Longest title kept, in characters.
const TITLE_CHARS: usize = 200;
/// Longest description kept, in characters.
const DESCRIPTION_CHARS: usize = 500;
/// Longest image URL kept.
const IMAGE_URL_CHARS: usize = 2048;

/// The preview of `html`, fetched from `page` for the link `link`; `None` when the page says
/// nothing worth showing (no title and no description).
pub fn preview(link: &str, page: &Url, html: &str) -> Option<LinkPreviewDoc> {
    let document = Html::parse_document(html);
    let meta = |names: &[&str]| {
        names.iter().find_map(|name| {
            let selector =
                Selector::parse(&format!("meta[property=\"{name}\"], meta[name=\"{name}\"]"))
                    .ok()?;
            document
                .select(&selector)
                .find_map(|element| element.value().attr("content"))
                .map(clean)
                .filter(|text| !text.is_empty())
        })
    };
    let title = meta(&["og:title", "twitter:title"]).or_else(|| {
        let selector = Selector::parse("title").ok()?;
        document
            .select(&selector)
            .next()
            .map(|element| clean(&element.text().collect::<String>()))
            .filter(|text| !text.is_empty())
    });
    let description = meta(&["og:description", "twitter:description", "description"]);
    if title.is_none() && description.is_none() {
        return None;
    }
    let image_url = meta(&["og:image", "twitter:image"])
        .and_then(|image| page.join(&image).ok())
        .filter(|image| matches!(image.scheme(), "http" | "https"))
        .map(String::from)
        .filter(|image| image.len() <= IMAGE_URL_CHARS);
    let site_name = meta(&["og:site_name"]).or_else(|| page.host_str().map(str::to_owned));
    Some(LinkPreviewDoc {
        url: link.to_owned(),
        title: title.map(|text| cut(&text, TITLE_CHARS)),
        description: description.map(|text| cut(&text, DESCRIPTION_CHARS)),
        image_url,
        site_name: site_name.map(|text| cut(&text, TITLE_CHARS)),
    })
}

/// Whitespace folded to single spaces, trimmed.
fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cut(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_graph_wins_and_plain_pages_still_preview() {
        let page = Url::parse("https://news.example/story/1").unwrap();
        let html = r#"<html><head><title>Plain</title>
            <meta property="og:title" content="  The   story ">
            <meta name="description" content="What happened.">
            <meta property="og:image" content="/img/1.png"></head></html>"#;
        let preview = preview("https://news.example/story/1", &page, html).unwrap();
        assert_eq!(preview.title.as_deref(), Some("The story"));
        assert_eq!(preview.description.as_deref(), Some("What happened."));
        assert_eq!(
            preview.image_url.as_deref(),
            Some("https://news.example/img/1.png")
        );
        assert_eq!(preview.site_name.as_deref(), Some("news.example"));

        let plain = "<html><head><title>Just a title</title></head><body>x</body></html>";
        let preview = super::preview("https://a.example/", &page, plain).unwrap();
        assert_eq!(preview.title.as_deref(), Some("Just a title"));
        assert!(super::preview("x", &page, "<html><body>nothing</body></html>").is_none());
    }

    #[test]
    fn script_images_are_dropped() {
        let page = Url::parse("https://a.example/").unwrap();
        let html = r#"<title>t</title><meta property="og:image" content="javascript:alert(1)">"#;
        assert_eq!(
            preview("https://a.example/", &page, html)
                .unwrap()
                .image_url,
            None
        );
    }
}
