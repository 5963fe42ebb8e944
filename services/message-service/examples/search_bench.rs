//! The embedded search index under load, without servers: how fast it builds from scratch
//! (a rebuild), how fast it takes live changes, how fast it answers, and its size on disk.
//!
//! ```text
//! cargo run --release -p message-service --example search_bench -- --messages 1000000 --out target/bench/search.json
//! ```
//!
//! Messages are made of a Zipf-like vocabulary of 20,000 words over 2,000 conversations; each
//! query is the kind a member of 50 conversations types: one or two words (common or rare) or
//! a word and the start of another, newest first, 21 results (a page and one).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chat_models::api::search::SearchSort;
use message_service::search::embedded::Embedded;
use message_service::search::{query, Entry, Op, Plan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const VOCABULARY: usize = 20_000;
const CONVERSATIONS: usize = 2_000;
const MEMBER_OF: usize = 50;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

/// Pronounceable words, so the tokenizer sees text like people's.
fn vocabulary(rng: &mut StdRng) -> Vec<String> {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "va", "zu", "chi", "mo", "ra", "ben",
        "tor", "el", "an", "is", "um", "or", "ly", "qu", "sh",
    ];
    let mut words = std::collections::BTreeSet::new();
    while words.len() < VOCABULARY {
        let n = rng.gen_range(1..=4);
        words.insert(
            (0..n)
                .map(|_| SYLLABLES[rng.gen_range(0..SYLLABLES.len())])
                .collect::<String>(),
        );
    }
    words.into_iter().collect()
}

/// A word index with a Zipf-like skew: a few words are everywhere, most are rare.
fn zipf(rng: &mut StdRng) -> usize {
    let x: f64 = rng.gen_range(0.0..1.0);
    ((VOCABULARY as f64).powf(x) as usize)
        .saturating_sub(1)
        .min(VOCABULARY - 1)
}

fn message(rng: &mut StdRng, words: &[String], n: u64) -> Entry {
    let length = rng.gen_range(3..=25);
    let text = (0..length)
        .map(|_| words[zipf(rng)].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Entry {
        id: format!("{n:024x}"),
        conversation: format!("{:024x}", rng.gen_range(0..CONVERSATIONS)),
        sender: format!(
            "{:08x}-0000-4000-8000-000000000000",
            rng.gen_range(0..10_000)
        ),
        at_ms: 1_700_000_000_000 + n as i64,
        text,
        version: 1,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn main() {
    let total: u64 = arg("--messages", "1000000").parse().unwrap();
    let queries: usize = arg("--queries", "2000").parse().unwrap();
    let out = arg("--out", "");
    let dir = std::env::temp_dir().join(format!("search-bench-{}", std::process::id()));
    let mut rng = StdRng::seed_from_u64(7);
    let words = vocabulary(&mut rng);
    let index = Embedded::open(Some(&dir)).unwrap();

    // 1. A rebuild: every message added, one commit.
    let started = Instant::now();
    index.start_rebuild().unwrap();
    let mut batch = Vec::with_capacity(5_000);
    for n in 0..total {
        batch.push(message(&mut rng, &words, n));
        if batch.len() == 5_000 {
            index.add(&batch).unwrap();
            batch.clear();
        }
    }
    index.add(&batch).unwrap();
    index.finish_rebuild("1-0").unwrap();
    let build_secs = started.elapsed().as_secs_f64();

    // 2. Live changes: sends and edits in commits of 100, as the feed applies them under load.
    let live = 20_000_u64;
    let started = Instant::now();
    for chunk in 0..live / 100 {
        let ops: Vec<Op> = (0..100)
            .map(|i| Op::Upsert(message(&mut rng, &words, total + chunk * 100 + i)))
            .collect();
        index.apply(&ops, &format!("2-{chunk}")).unwrap();
    }
    let live_secs = started.elapsed().as_secs_f64();

    // 3. Queries of a member of 50 conversations.
    let mut latencies = Vec::with_capacity(queries);
    let mut by_kind: [Vec<f64>; 4] = Default::default();
    let mut hits = 0_usize;
    for i in 0..queries {
        let mine: Vec<String> = (0..MEMBER_OF)
            .map(|_| format!("{:024x}", rng.gen_range(0..CONVERSATIONS)))
            .collect();
        let typed = match i % 4 {
            0 => words[zipf(&mut rng)].clone(),
            1 => format!("{} {} ", words[zipf(&mut rng)], words[zipf(&mut rng)]),
            2 => words[rng.gen_range(VOCABULARY / 2..VOCABULARY)].clone() + " ",
            _ => {
                let next = &words[zipf(&mut rng)];
                format!("{} {}", words[zipf(&mut rng)], &next[..next.len().min(3)])
            }
        };
        let plan = Plan {
            parsed: query::parse(&typed).unwrap(),
            conversations: mine,
            from: None,
            after_ms: None,
            before_ms: None,
            sort: SearchSort::Newest,
            offset: 0,
            limit: 21,
        };
        let started = Instant::now();
        hits += index.search(&plan).unwrap().len();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        latencies.push(ms);
        by_kind[i % 4].push(ms);
    }
    latencies.sort_by(f64::total_cmp);
    let kinds: serde_json::Map<String, serde_json::Value> =
        ["common_word", "two_words", "rare_word", "word_and_prefix"]
            .iter()
            .zip(by_kind.iter_mut())
            .map(|(name, all)| {
                all.sort_by(f64::total_cmp);
                let round = |ms: f64| (ms * 1000.0).round() / 1000.0;
                let latency = serde_json::json!({
                    "p50_ms": round(percentile(all, 0.50)),
                    "p99_ms": round(percentile(all, 0.99)),
                });
                ((*name).to_owned(), latency)
            })
            .collect();

    // The size once the merges the commits started are done and their inputs deleted.
    std::thread::sleep(std::time::Duration::from_secs(5));
    index.collect_garbage().unwrap();
    let bytes = Embedded::disk_bytes(&dir);

    let result = serde_json::json!({
        "scenario": "search",
        "messages": total,
        "documents": index.documents(),
        "build_messages_per_sec": (total as f64 / build_secs).round(),
        "build_secs": (build_secs * 10.0).round() / 10.0,
        "live_messages_per_sec": (live as f64 / live_secs).round(),
        "index_bytes": bytes,
        "index_bytes_per_million": (bytes as f64 * 1_000_000.0 / index.documents() as f64).round(),
        "queries": queries,
        "mean_hits": (hits as f64 / queries as f64 * 10.0).round() / 10.0,
        "query": {
            "p50_ms": (percentile(&latencies, 0.50) * 1000.0).round() / 1000.0,
            "p99_ms": (percentile(&latencies, 0.99) * 1000.0).round() / 1000.0,
            "max_ms": (latencies[latencies.len() - 1] * 1000.0).round() / 1000.0,
        },
        "query_by_kind": kinds,
    });
    let text = serde_json::to_string_pretty(&result).unwrap();
    println!("{text}");
    if !out.is_empty() {
        std::fs::write(&out, text).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
