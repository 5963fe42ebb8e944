//! Search on OpenSearch (`SEARCH_URL`): one index shared by every instance, fed once by the
//! `message-search` consumer group, with the embedded index's analysis (split at anything that
//! is not a letter or digit, lower-cased, accents folded) so both find the same things.
//! Versions (a message's `version`, which only grows) keep a late, older change from
//! overwriting a newer one when two instances index at once.

use anyhow::Context as _;
use chat_models::api::search::SearchSort;
use serde_json::{json, Value};

use super::{Entry, Op, Plan};

/// An OpenSearch index of messages.
#[derive(Debug, Clone)]
pub struct OpenSearch {
    http: reqwest::Client,
    base: String,
    index: String,
}

impl OpenSearch {
    /// The index `<prefix>messages` (made a valid index name) on the server at `url`.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let index: String = format!("{prefix}messages")
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()?,
            base: url.trim_end_matches('/').to_owned(),
            index: index.trim_start_matches(['-', '_']).to_owned(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}{path}", self.base, self.index)
    }

    /// Creates the index unless it exists; `true` when it was created (it must be filled).
    pub async fn ensure_index(&self) -> anyhow::Result<bool> {
        let body = json!({
            "settings": { "analysis": {
                "tokenizer": { "words": { "type": "pattern", "pattern": "[^\\p{L}\\p{N}]+" } },
                "filter": { "short": { "type": "length", "max": 40 } },
                "analyzer": { "chat": {
                    "type": "custom", "tokenizer": "words",
                    "filter": ["short", "lowercase", "asciifolding"]
                } }
            } },
            "mappings": { "properties": {
                "conversation": { "type": "keyword" },
                "sender": { "type": "keyword" },
                "at": { "type": "long" },
                "text": { "type": "text", "analyzer": "chat" }
            } }
        });
        let response = self.http.put(self.url("")).json(&body).send().await?;
        if response.status().is_success() {
            return Ok(true);
        }
        let error: Value = response.json().await.unwrap_or_default();
        if error["error"]["type"] == "resource_already_exists_exception" {
            return Ok(false);
        }
        anyhow::bail!("creating the search index: {error}")
    }

    /// Indexes messages (a rebuild).
    pub async fn add(&self, entries: &[Entry]) -> anyhow::Result<()> {
        let mut lines = String::new();
        for entry in entries {
            push_upsert(&mut lines, entry);
        }
        self.bulk(lines).await
    }

    /// Applies one change.
    pub async fn apply(&self, op: &Op) -> anyhow::Result<()> {
        match op {
            Op::Upsert(entry) => {
                let mut lines = String::new();
                push_upsert(&mut lines, entry);
                self.bulk(lines).await
            }
            Op::Remove(id) => {
                let response = self
                    .http
                    .delete(self.url(&format!("/_doc/{id}")))
                    .send()
                    .await?;
                if response.status().is_success() || response.status() == 404 {
                    Ok(())
                } else {
                    anyhow::bail!("removing a message: {}", response.status())
                }
            }
            Op::RemoveConversation(id) => self.delete_where("conversation", id).await,
            Op::RemoveSender(user) => self.delete_where("sender", user).await,
        }
    }

    async fn delete_where(&self, field: &str, value: &str) -> anyhow::Result<()> {
        let body = json!({ "query": { "term": { field: value } } });
        self.http
            .post(self.url("/_delete_by_query?conflicts=proceed"))
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn bulk(&self, lines: String) -> anyhow::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let reply: Value = self
            .http
            .post(format!("{}/_bulk", self.base))
            .header("content-type", "application/x-ndjson")
            .body(lines)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        // A version conflict means a newer change is already there: nothing to do.
        let failed = reply["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|item| {
                let status = item["index"]["status"].as_u64().unwrap_or(200);
                status >= 300 && status != 409
            });
        match failed {
            Some(item) => anyhow::bail!("indexing a message: {item}"),
            None => Ok(()),
        }
    }

    /// The ids of a page of matches.
    pub async fn search(&self, plan: &Plan) -> anyhow::Result<Vec<String>> {
        let text = |words: &[String]| words.join(" ");
        let mut must: Vec<Value> = plan
            .parsed
            .required
            .iter()
            .map(|words| json!({ "match_phrase": { "text": text(words) } }))
            .collect();
        if let Some(words) = &plan.parsed.prefix {
            must.push(json!({ "match_phrase_prefix": {
                "text": { "query": text(words), "max_expansions": 100 } } }));
        }
        let must_not: Vec<Value> = plan
            .parsed
            .excluded
            .iter()
            .map(|words| json!({ "match_phrase": { "text": text(words) } }))
            .collect();
        let mut filter = vec![json!({ "terms": { "conversation": plan.conversations } })];
        if let Some(sender) = &plan.from {
            filter.push(json!({ "term": { "sender": sender } }));
        }
        let mut range = serde_json::Map::new();
        if let Some(after) = plan.after_ms {
            range.insert("gt".to_owned(), after.into());
        }
        if let Some(before) = plan.before_ms {
            range.insert("lt".to_owned(), before.into());
        }
        if !range.is_empty() {
            filter.push(json!({ "range": { "at": range } }));
        }
        let sort = match plan.sort {
            SearchSort::Newest => json!([{ "at": "desc" }]),
            SearchSort::Relevance => json!(["_score", { "at": "desc" }]),
        };
        let body = json!({
            "from": plan.offset, "size": plan.limit, "_source": false, "sort": sort,
            "query": { "bool": { "must": must, "must_not": must_not, "filter": filter } }
        });
        let reply: Value = self
            .http
            .post(self.url("/_search"))
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .context("reading search results")?;
        Ok(reply["hits"]["hits"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|hit| hit["_id"].as_str().map(str::to_owned))
            .collect())
    }
}

/// A bulk `index` of one message, versioned by the message's own version.
fn push_upsert(lines: &mut String, entry: &Entry) {
    let action = json!({ "index": {
        "_id": entry.id, "version": entry.version, "version_type": "external_gte" } });
    let source = json!({
        "conversation": entry.conversation, "sender": entry.sender,
        "at": entry.at_ms, "text": entry.text,
    });
    lines.push_str(&action.to_string());
    lines.push('\n');
    lines.push_str(&source.to_string());
    lines.push('\n');
}
