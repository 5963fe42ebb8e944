//! Search without I/O: the analyzer the index and the queries share, what a typed query means
//! ([`parse`]), and the snippet of a found message ([`snippet`]).

use chat_models::api::search::{SnippetPart, MAX_QUERY_CHARS};
use chat_models::{ApiError, Result};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};

/// Characters of a snippet, about.
const SNIPPET_CHARS: usize = 160;
/// Characters of context kept before the first match when the text is cut.
const SNIPPET_LEAD: usize = 40;

/// Words as the index stores them: split at anything that is not a letter or digit (in any
/// script), lower-cased, accents folded (`Crème` → `creme`); words over 40 bytes dropped.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The words of `text` with their byte ranges in it.
fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let mut words = Vec::new();
    let mut stream = analyzer.token_stream(text);
    stream.process(&mut |token| {
        words.push((token.text.clone(), token.offset_from..token.offset_to));
    });
    words
}

/// What a query asks for. Each clause is a word or a phrase (its words in order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// Every result has each of these.
    pub required: Vec<Vec<String>>,
    /// No result has any of these.
    pub excluded: Vec<Vec<String>>,
    /// The last word as it is being typed: results have a word starting with its last word
    /// (right after its other words, when the chunk had several, as in `e-ma`).
    pub prefix: Option<Vec<String>>,
}

impl Parsed {
    /// Whether nothing can match: no word is asked for (only exclusions, or no words at all).
    pub fn finds_nothing(&self) -> bool {
        self.required.is_empty() && self.prefix.is_none()
    }

    /// Every word a result may be highlighted for (the prefix's last word aside).
    fn exact_words(&self) -> impl Iterator<Item = &str> {
        let prefix_head = self
            .prefix
            .iter()
            .flat_map(|words| &words[..words.len().saturating_sub(1)]);
        self.required
            .iter()
            .flatten()
            .chain(prefix_head)
            .map(String::as_str)
    }

    /// The prefix's last word.
    fn prefix_word(&self) -> Option<&str> {
        self.prefix
            .as_ref()
            .and_then(|words| words.last())
            .map(String::as_str)
    }
}

/// Reads what a user typed: words (all required), `"quoted phrases"`, `-word` or `-"phrase"`
/// to exclude; the last word, unless followed by a space or quoted, also matches as a prefix.
/// Anything else (operators, brackets, symbols) separates words and means nothing, so no input
/// can make a query fail: an empty or too long one is a `422`, and one without words to look
/// for ([`Parsed::finds_nothing`]) simply finds nothing.
pub fn parse(q: &str) -> Result<Parsed> {
    let invalid = |code: &'static str, message: String| ApiError::field("q", code, message);
    if q.is_empty() {
        return Err(invalid("empty", "Type something to look for.".to_owned()));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(invalid(
            "too_long",
            format!("Search for at most {MAX_QUERY_CHARS} characters."),
        ));
    }
    let mut analyzer = analyzer();
    let mut parsed = Parsed::default();
    let mut last_open_word = false;
    let mut rest = q;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let negated = rest.len() > 1 && rest.starts_with('-');
        if negated {
            rest = &rest[1..];
        }
        let (chunk, quoted);
        if let Some(inner) = rest.strip_prefix('"') {
            let end = inner.find('"').unwrap_or(inner.len());
            chunk = &inner[..end];
            rest = inner.get(end + 1..).unwrap_or("");
            quoted = true;
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            chunk = &rest[..end];
            rest = &rest[end..];
            quoted = false;
        }
        let clause: Vec<String> = words(&mut analyzer, chunk)
            .into_iter()
            .map(|(word, _)| word)
            .collect();
        if clause.is_empty() {
            continue;
        }
        last_open_word = !quoted && !negated && rest.is_empty();
        if negated {
            parsed.excluded.push(clause);
        } else {
            parsed.required.push(clause);
        }
    }
    if last_open_word {
        parsed.prefix = parsed.required.pop();
    }
    Ok(parsed)
}

/// The part of `text` around its first match, cut to about 160 characters at word boundaries,
/// with the matched words marked.
pub fn snippet(text: &str, query: &Parsed) -> Vec<SnippetPart> {
    let mut analyzer = analyzer();
    let exact: std::collections::HashSet<&str> = query.exact_words().collect();
    let prefix = query.prefix_word();
    let hits: Vec<std::ops::Range<usize>> = words(&mut analyzer, text)
        .into_iter()
        .filter(|(word, _)| {
            exact.contains(word.as_str()) || prefix.is_some_and(|prefix| word.starts_with(prefix))
        })
        .map(|(_, range)| range)
        .collect();

    let (start, end) = window(text, hits.first().map_or(0, |hit| hit.start));
    let mut parts = Vec::new();
    let mut push = |text: &str, highlight: bool| {
        if !text.is_empty() {
            parts.push(SnippetPart {
                text: text.to_owned(),
                highlight,
            });
        }
    };
    if start > 0 {
        push("…", false);
    }
    let mut at = start;
    for hit in hits
        .iter()
        .filter(|hit| hit.start >= start && hit.end <= end)
    {
        push(&text[at..hit.start], false);
        push(&text[hit.clone()], true);
        at = hit.end;
    }
    push(&text[at..end], false);
    if end < text.len() {
        push("…", false);
    }
    parts
}

/// The byte range of the snippet: all of a short text; else about [`SNIPPET_CHARS`] starting a
/// little before `first_hit`, both ends moved to the nearest space.
fn window(text: &str, first_hit: usize) -> (usize, usize) {
    if text.chars().count() <= SNIPPET_CHARS {
        return (0, text.len());
    }
    let lead_start = text[..first_hit]
        .char_indices()
        .rev()
        .nth(SNIPPET_LEAD - 1)
        .map_or(0, |(at, _)| at);
    let start = if lead_start == 0 {
        0
    } else {
        // After the first space of the lead, so no word is cut in two.
        text[lead_start..first_hit]
            .find(char::is_whitespace)
            .map_or(lead_start, |space| lead_start + space + 1)
    };
    let cut = text[start..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(text.len(), |(at, _)| start + at);
    let end = if cut == text.len() {
        cut
    } else {
        text[start..cut]
            .rfind(char::is_whitespace)
            .map_or(cut, |space| start + space)
            .max(first_hit.min(cut))
    };
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|word| (*word).to_owned()).collect()
    }

    #[test]
    fn words_phrases_exclusions_and_the_prefix() {
        let parsed = parse(r#"Crème "Brûlée recipe" -burnt DESS"#).unwrap();
        assert_eq!(
            parsed.required,
            vec![words(&["creme"]), words(&["brulee", "recipe"])]
        );
        assert_eq!(parsed.excluded, vec![words(&["burnt"])]);
        assert_eq!(parsed.prefix, Some(words(&["dess"])));
    }

    #[test]
    fn a_trailing_space_or_quote_ends_the_prefix() {
        assert_eq!(parse("hello ").unwrap().prefix, None);
        assert_eq!(parse("hello ").unwrap().required, vec![words(&["hello"])]);
        assert_eq!(parse(r#""hello""#).unwrap().prefix, None);
        assert_eq!(parse("e-ma").unwrap().prefix, Some(words(&["e", "ma"])));
    }

    #[test]
    fn other_scripts_are_words_too() {
        let parsed = parse("Привет мир ").unwrap();
        assert_eq!(parsed.required, vec![words(&["привет"]), words(&["мир"])]);
        assert_eq!(parse("Straße").unwrap().prefix, Some(words(&["strasse"])));
    }

    #[test]
    fn hostile_input_parses_into_plain_words_only() {
        for q in [
            "\"",
            "\"\"",
            "-",
            "--",
            "-\"",
            "AND OR NOT",
            "a AND (b OR c)",
            "title:x",
            "*",
            "x*",
            "~2",
            "^3",
            "[a TO z]",
            "\\",
            "\"unclosed phrase",
            "- -x",
            "\u{0}",
            "👍👍",
            "a\"b\"c",
            "{\"$where\": 1}",
            "' OR 1=1 --",
        ] {
            let parsed = parse(q).unwrap();
            let words = parsed
                .required
                .iter()
                .chain(&parsed.excluded)
                .chain(&parsed.prefix);
            assert!(
                words
                    .flatten()
                    .all(|word| word.chars().all(char::is_alphanumeric)),
                "{q:?}: {parsed:?}"
            );
        }
        assert!(parse("a AND (b OR c)").unwrap().required.len() == 4);
        assert!(parse(&"a".repeat(201)).is_err());
        assert!(parse("").is_err());
        assert!(parse(&"a ".repeat(100)).is_ok());
        for nothing in ["   ", "-only", "\"", "*", "- -x"] {
            assert!(parse(nothing).unwrap().finds_nothing(), "{nothing:?}");
        }
    }

    #[test]
    fn snippets_mark_words_and_prefixes_with_the_text_as_written() {
        let parsed = parse("crème dess").unwrap();
        let parts = snippet("Crème brûlée for DESSERT, crème again", &parsed);
        let marked: Vec<&str> = parts
            .iter()
            .filter(|part| part.highlight)
            .map(|part| part.text.as_str())
            .collect();
        assert_eq!(marked, ["Crème", "DESSERT", "crème"]);
        let whole: String = parts.iter().map(|part| part.text.as_str()).collect();
        assert_eq!(whole, "Crème brûlée for DESSERT, crème again");
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match() {
        let text = format!("{} needle {}", "hay ".repeat(100), "straw ".repeat(100));
        let parts = snippet(&text, &parse("needle ").unwrap());
        let whole: String = parts.iter().map(|part| part.text.as_str()).collect();
        assert!(whole.starts_with("…hay") && whole.ends_with('…'), "{whole}");
        assert!(whole.chars().count() <= SNIPPET_CHARS + 2, "{whole}");
        assert!(parts
            .iter()
            .any(|part| part.highlight && part.text == "needle"));
        // Multi-byte text is cut on character boundaries.
        let text = format!("{}é needle {}", "ü".repeat(300), "ß".repeat(300));
        let parts = snippet(&text, &parse("needle").unwrap());
        assert!(parts
            .iter()
            .any(|part| part.highlight && part.text == "needle"));
    }
}
