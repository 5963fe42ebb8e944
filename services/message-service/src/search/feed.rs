//! Keeping an index up to date from the event stream.
//!
//! The embedded index ([`run_embedded`]) tails the whole stream from the position its last
//! commit recorded; when it has none (a new or deleted directory, an index in memory) or the
//! stream no longer holds everything after it (trimmed while the instance was down, or Redis
//! lost its data), it rebuilds from MongoDB first, from a position read before the scan, so
//! the changes made during the scan are applied again afterwards (every change is idempotent).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chat_models::events::{blocking_connection, read_after, stream_bounds};
use futures::TryStreamExt as _;

use super::embedded::Embedded;
use super::{ops_for, Entry};
use crate::db::messages as message_store;
use crate::db::Store;

/// Least time between two commits: changes arriving meanwhile share the next one (the first
/// change after a quiet second is committed at once). A commit writes a segment whatever it
/// holds (its cost is mostly fixed), and every instance commits every change of the
/// deployment: at ten a second, commits were most of an instance's indexing cost (issue 18).
const COMMIT_EVERY: Duration = Duration::from_secs(1);
/// Stream entries read at once.
const READ_BATCH: usize = 2_000;
/// Messages added to a rebuild at once.
const REBUILD_BATCH: usize = 5_000;
/// Messages sent to OpenSearch in one bulk request when filling its index.
const OPENSEARCH_BATCH: usize = 1_000;

/// Runs `work` on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("the search index task panicked")?
}

/// Feeds `index` until the task is dropped, starting again after failures.
pub async fn run_embedded(
    index: Arc<Embedded>,
    store: Store,
    client: redis::Client,
    stream: String,
) {
    loop {
        if let Err(error) = session(&index, &store, &client, &stream).await {
            tracing::warn!(error = ?error, "search indexing failed; retrying");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn session(
    index: &Arc<Embedded>,
    store: &Store,
    client: &redis::Client,
    stream: &str,
) -> anyhow::Result<()> {
    let mut conn = blocking_connection(client)
        .await
        .context("connecting to Redis")?;
    let stored = {
        let index = index.clone();
        blocking(move || index.position()).await?
    };
    let bounds = stream_bounds(&mut conn, stream, stored.as_deref().unwrap_or("0-0")).await?;
    let mut position = match stored {
        Some(position) if !bounds.gap_after => position,
        _ => {
            rebuild(index, store, &bounds.last).await?;
            bounds.last
        }
    };
    let mut last_commit = Instant::now();
    loop {
        let entries = read_after(&mut conn, stream, &position, READ_BATCH).await?;
        let Some((last, _)) = entries.last() else {
            continue;
        };
        let last = last.clone();
        let ops: Vec<_> = entries
            .iter()
            .filter_map(|(_, envelope)| envelope.as_ref().and_then(|e| ops_for(&e.event)))
            .collect();
        // Entries without changes for the index move the position in memory only, so quiet
        // traffic (presence, typing reads) costs no commit.
        if !ops.is_empty() {
            let wait = COMMIT_EVERY.saturating_sub(last_commit.elapsed());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let index = index.clone();
            let at = last.clone();
            blocking(move || index.apply(&ops, &at)).await?;
            last_commit = Instant::now();
        }
        position = last;
    }
}

/// Fills the index again from MongoDB; searches see the old one until it is done.
async fn rebuild(index: &Arc<Embedded>, store: &Store, position: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    tracing::info!("rebuilding the search index from MongoDB");
    let result = async {
        let begun = index.clone();
        blocking(move || begun.start_rebuild()).await?;
        let count = each_batch(store, REBUILD_BATCH, |entries| {
            let index = index.clone();
            blocking(move || index.add(&entries))
        })
        .await?;
        let position = position.to_owned();
        let finished = index.clone();
        blocking(move || finished.finish_rebuild(&position)).await?;
        anyhow::Ok(count)
    }
    .await;
    match result {
        Ok(count) => {
            count_rebuild();
            tracing::info!(
                messages = count,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "search index rebuilt"
            );
            Ok(())
        }
        Err(error) => {
            let index = index.clone();
            let _ = tokio::task::spawn_blocking(move || index.abandon_rebuild()).await;
            Err(error)
        }
    }
}

/// Feeds the shared OpenSearch index: creates it (and fills it from MongoDB) when missing, then
/// applies each event once across instances, as a member of the `message-search` group.
pub async fn run_opensearch(
    index: Arc<super::opensearch::OpenSearch>,
    store: Store,
    client: redis::Client,
    prefix: String,
) {
    loop {
        match fill_opensearch(&index, &store).await {
            Ok(()) => break,
            Err(error) => {
                tracing::warn!(error = ?error, "preparing the search index failed; retrying")
            }
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let consumer = chat_models::events::EventConsumer::joining(client, &prefix, "message-search");
    consumer
        .run(move |envelope| {
            let index = index.clone();
            async move {
                match ops_for(&envelope.event) {
                    Some(op) => index.apply(&op).await,
                    None => Ok(()),
                }
            }
        })
        .await;
}

async fn fill_opensearch(
    index: &super::opensearch::OpenSearch,
    store: &Store,
) -> anyhow::Result<()> {
    if !index.ensure_index().await? {
        return Ok(());
    }
    each_batch(store, OPENSEARCH_BATCH, |entries| async move {
        index.add(&entries).await
    })
    .await?;
    count_rebuild();
    Ok(())
}

/// Hands every searchable message of the store to `add`, `size` at a time; how many there were.
async fn each_batch<F, Fut>(store: &Store, size: usize, mut add: F) -> anyhow::Result<u64>
where
    F: FnMut(Vec<Entry>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut messages = message_store::all_searchable(store).await?;
    let mut batch = Vec::with_capacity(size);
    let mut count = 0_u64;
    while let Some(message) = messages.try_next().await.context("reading messages")? {
        batch.push(Entry::from(message));
        if batch.len() == size {
            count += size as u64;
            add(std::mem::replace(&mut batch, Vec::with_capacity(size))).await?;
        }
    }
    if !batch.is_empty() {
        count += batch.len() as u64;
        add(batch).await?;
    }
    Ok(count)
}

/// Counts a completed rebuild (`search_index_rebuilds_total`).
fn count_rebuild() {
    metrics::counter!("search_index_rebuilds_total", "service" => "message-service").increment(1);
}
