//! The embedded search index (Tantivy): in a directory of the instance's own, or in memory.
//! Its commits carry the id of the last stream entry applied, so a restarted instance knows
//! where to go on from. Every call blocks: run them off the async runtime.

use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context as _;
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    BooleanQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value as _, FAST, INDEXED,
    STORED, STRING,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

use super::{Entry, Op, Plan};
use chat_models::api::search::SearchSort;

const TOKENIZER: &str = "chat";
/// Memory the writer may fill before it writes a segment.
const WRITER_MEMORY: usize = 32 * 1024 * 1024;
/// Words a typed prefix may expand to.
const PREFIX_EXPANSIONS: u32 = 100;

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    conversation: Field,
    sender: Field,
    at: Field,
    text: Field,
}

/// One index, its writer and its reader.
pub struct Embedded {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        conversation: builder.add_text_field("conversation", STRING),
        sender: builder.add_text_field("sender", STRING),
        at: builder.add_i64_field("at", INDEXED | FAST),
        text: builder.add_text_field("text", text),
    };
    (builder.build(), fields)
}

impl Embedded {
    /// The index in `dir` (created, or started again when unreadable: it is rebuilt from
    /// MongoDB), or in memory.
    pub fn open(dir: Option<&Path>) -> anyhow::Result<Self> {
        let (schema, fields) = schema();
        let index = match dir {
            None => Index::create_in_ram(schema),
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let open = |schema| -> anyhow::Result<Index> {
                    let directory = MmapDirectory::open(dir)?;
                    Ok(Index::open_or_create(directory, schema)?)
                };
                match open(schema.clone()) {
                    Ok(index) => index,
                    Err(error) => {
                        tracing::warn!(error = ?error, dir = %dir.display(),
                            "search index unreadable; starting a new one");
                        std::fs::remove_dir_all(dir)?;
                        std::fs::create_dir_all(dir)?;
                        open(schema)?
                    }
                }
            }
        };
        index
            .tokenizers()
            .register(TOKENIZER, super::query::analyzer());
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY).context(
            "opening the search index for writing (is another instance using its directory?)",
        )?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    /// The last stream entry the index holds (`None`: nothing committed yet).
    pub fn position(&self) -> anyhow::Result<Option<String>> {
        Ok(self.index.load_metas()?.payload)
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn document(&self, entry: &Entry) -> TantivyDocument {
        let f = self.fields;
        doc!(
            f.id => entry.id.as_str(),
            f.conversation => entry.conversation.as_str(),
            f.sender => entry.sender.as_str(),
            f.at => entry.at_ms,
            f.text => entry.text.as_str(),
        )
    }

    /// Applies changes and commits them with the stream position they bring the index to.
    pub fn apply(&self, ops: &[Op], position: &str) -> anyhow::Result<()> {
        let mut writer = self.writer();
        let f = self.fields;
        for op in ops {
            match op {
                Op::Upsert(entry) => {
                    writer.delete_term(Term::from_field_text(f.id, &entry.id));
                    writer.add_document(self.document(entry))?;
                }
                Op::Remove(id) => {
                    writer.delete_term(Term::from_field_text(f.id, id));
                }
                Op::RemoveConversation(id) => {
                    writer.delete_term(Term::from_field_text(f.conversation, id));
                }
                Op::RemoveSender(user) => {
                    writer.delete_term(Term::from_field_text(f.sender, user));
                }
            }
        }
        self.commit(&mut writer, position)
    }

    fn commit(&self, writer: &mut IndexWriter, position: &str) -> anyhow::Result<()> {
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(position);
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Starts over: the next [`Self::add`]s fill an empty index, which searches see at
    /// [`Self::finish_rebuild`] (until then they see the old one).
    pub fn start_rebuild(&self) -> anyhow::Result<()> {
        self.writer().delete_all_documents()?;
        Ok(())
    }

    /// Adds entries to a rebuild.
    pub fn add(&self, entries: &[Entry]) -> anyhow::Result<()> {
        let writer = self.writer();
        for entry in entries {
            writer.add_document(self.document(entry))?;
        }
        Ok(())
    }

    /// Commits a rebuild at the stream position read before it started.
    pub fn finish_rebuild(&self, position: &str) -> anyhow::Result<()> {
        let mut writer = self.writer();
        self.commit(&mut writer, position)
    }

    /// Drops what a failed rebuild added.
    pub fn abandon_rebuild(&self) {
        if let Err(error) = self.writer().rollback() {
            tracing::warn!(error = ?error, "search index rollback failed");
        }
    }

    /// Documents searches see.
    pub fn documents(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Deletes the files no commit uses any more (merges leave them behind for a while).
    pub fn collect_garbage(&self) -> anyhow::Result<()> {
        self.writer().garbage_collect_files().wait()?;
        Ok(())
    }

    /// Bytes of the index files (0 in memory).
    pub fn disk_bytes(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.metadata().ok())
            .filter(std::fs::Metadata::is_file)
            .map(|meta| meta.len())
            .sum()
    }

    /// The ids of a page of matches, in the order asked for.
    pub fn search(&self, plan: &Plan) -> anyhow::Result<Vec<String>> {
        let query = self.query(plan);
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(plan.limit).and_offset(plan.offset);
        let addresses: Vec<_> = match plan.sort {
            SearchSort::Newest => searcher
                .search(&query, &top.order_by_fast_field::<i64>("at", Order::Desc))?
                .into_iter()
                .map(|(_, address)| address)
                .collect(),
            SearchSort::Relevance => searcher
                .search(&query, &top.order_by_score())?
                .into_iter()
                .map(|(_, address)| address)
                .collect(),
        };
        addresses
            .into_iter()
            .map(|address| {
                let document: TantivyDocument = searcher.doc(address)?;
                document
                    .get_first(self.fields.id)
                    .and_then(|value| value.as_str())
                    .map(str::to_owned)
                    .context("an indexed message without id")
            })
            .collect()
    }

    fn query(&self, plan: &Plan) -> BooleanQuery {
        let f = self.fields;
        let text = |word: &str| Term::from_field_text(f.text, word);
        let clause = |words: &[String]| -> Box<dyn Query> {
            if let [word] = words {
                Box::new(TermQuery::new(text(word), IndexRecordOption::WithFreqs))
            } else {
                Box::new(PhraseQuery::new(
                    words.iter().map(|word| text(word)).collect(),
                ))
            }
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for words in &plan.parsed.required {
            clauses.push((Occur::Must, clause(words)));
        }
        for words in &plan.parsed.excluded {
            clauses.push((Occur::MustNot, clause(words)));
        }
        if let Some(words) = &plan.parsed.prefix {
            // Words starting so match (unscored); the word itself, when complete, also scores.
            let mut prefix = PhrasePrefixQuery::new(words.iter().map(|word| text(word)).collect());
            prefix.set_max_expansions(PREFIX_EXPANSIONS);
            let either: Vec<(Occur, Box<dyn Query>)> = vec![
                (Occur::Should, clause(words)),
                (Occur::Should, Box::new(prefix)),
            ];
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(either))));
        }
        let conversations = plan
            .conversations
            .iter()
            .map(|id| Term::from_field_text(f.conversation, id));
        clauses.push((Occur::Must, Box::new(TermSetQuery::new(conversations))));
        if let Some(sender) = &plan.from {
            let term = Term::from_field_text(f.sender, sender);
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
        if plan.after_ms.is_some() || plan.before_ms.is_some() {
            let bound = |ms: Option<i64>| {
                ms.map_or(Bound::Unbounded, |ms| {
                    Bound::Excluded(Term::from_field_i64(f.at, ms))
                })
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(plan.after_ms), bound(plan.before_ms))),
            ));
        }
        BooleanQuery::new(clauses)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::search::query::parse;

    fn entry(id: u8, conversation: &str, at_ms: i64, text: &str) -> Entry {
        Entry {
            id: format!("{id:024x}"),
            conversation: conversation.to_owned(),
            sender: format!("user-{}", id % 2),
            at_ms,
            text: text.to_owned(),
            version: 1,
        }
    }

    fn plan(q: &str, conversations: &[&str]) -> Plan {
        Plan {
            parsed: parse(q).unwrap(),
            conversations: conversations.iter().map(|c| (*c).to_owned()).collect(),
            from: None,
            after_ms: None,
            before_ms: None,
            sort: SearchSort::Newest,
            offset: 0,
            limit: 10,
        }
    }

    fn ids(index: &Embedded, plan: &Plan) -> Vec<u8> {
        index
            .search(plan)
            .unwrap()
            .iter()
            .map(|id| u8::from_str_radix(id, 16).unwrap())
            .collect()
    }

    fn index() -> Embedded {
        let index = Embedded::open(None).unwrap();
        let ops: Vec<Op> = [
            entry(1, "a", 1_000, "The quick brown fox"),
            entry(2, "a", 2_000, "Crème brûlée for DESSERT?"),
            entry(
                3,
                "b",
                3_000,
                "quick quick quick, says the other conversation",
            ),
            entry(4, "a", 4_000, "a brown fox is quick"),
        ]
        .into_iter()
        .map(Op::Upsert)
        .collect();
        index.apply(&ops, "5-0").unwrap();
        index
    }

    #[test]
    fn words_prefixes_phrases_and_exclusions() {
        let index = index();
        assert_eq!(ids(&index, &plan("quick ", &["a"])), [4, 1]);
        assert_eq!(ids(&index, &plan("QUI", &["a", "b"])), [4, 3, 1]);
        assert_eq!(ids(&index, &plan("creme dess", &["a"])), [2]);
        assert_eq!(ids(&index, &plan("\"brown fox\"", &["a"])), [4, 1]);
        assert_eq!(
            ids(&index, &plan("\"fox brown\"", &["a"])),
            Vec::<u8>::new()
        );
        assert_eq!(ids(&index, &plan("quick -\"brown fox\"", &["a", "b"])), [3]);
        assert_eq!(index.position().unwrap().as_deref(), Some("5-0"));
    }

    #[test]
    fn matches_across_segments() {
        let index = Embedded::open(None).unwrap();
        index
            .apply(
                &[Op::Upsert(entry(1, "a", 1_000, "The quick brown fox"))],
                "1-0",
            )
            .unwrap();
        index
            .apply(
                &[Op::Upsert(entry(
                    2,
                    "a",
                    2_000,
                    "Crème brûlée for DESSERT?",
                ))],
                "2-0",
            )
            .unwrap();
        assert_eq!(ids(&index, &plan("creme dess", &["a"])), [2]);
        assert_eq!(ids(&index, &plan("qui", &["a"])), [1]);
    }

    #[test]
    fn filters_and_orders() {
        let index = index();
        let mut by_sender = plan("quick ", &["a", "b"]);
        by_sender.from = Some("user-1".to_owned());
        assert_eq!(ids(&index, &by_sender), [3, 1]);
        let mut window = plan("quick ", &["a", "b"]);
        (window.after_ms, window.before_ms) = (Some(1_000), Some(4_000));
        assert_eq!(ids(&index, &window), [3]);
        let mut relevance = plan("quick ", &["a", "b"]);
        relevance.sort = SearchSort::Relevance;
        assert_eq!(ids(&index, &relevance)[0], 3);
        // The last word is a prefix, and still scores when it is a whole word.
        relevance.parsed = parse("quick").unwrap();
        assert_eq!(ids(&index, &relevance)[0], 3);
        let mut page = plan("quick ", &["a", "b"]);
        (page.offset, page.limit) = (1, 1);
        assert_eq!(ids(&index, &page), [3]);
    }

    #[test]
    fn upserts_replace_and_removals_remove() {
        let index = index();
        index
            .apply(
                &[
                    Op::Upsert(entry(1, "a", 1_000, "A slow turtle")),
                    Op::Remove(format!("{:024x}", 4)),
                ],
                "6-0",
            )
            .unwrap();
        assert_eq!(ids(&index, &plan("quick ", &["a"])), Vec::<u8>::new());
        assert_eq!(ids(&index, &plan("turtle", &["a"])), [1]);
        index
            .apply(&[Op::RemoveConversation("a".to_owned())], "7-0")
            .unwrap();
        assert_eq!(ids(&index, &plan("turtle", &["a"])), Vec::<u8>::new());
        index
            .apply(&[Op::RemoveSender("user-1".to_owned())], "8-0")
            .unwrap();
        assert_eq!(ids(&index, &plan("quick", &["b"])), Vec::<u8>::new());
        assert_eq!(index.documents(), 0);
    }
}
