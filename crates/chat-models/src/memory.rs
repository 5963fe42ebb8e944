//! Answers remembered for a while, forgotten when an event says they changed (feature `redis`:
//! the services that read the event stream).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Answers remembered for a while. An answer fetched while something was forgotten is not
/// kept: it may predate the change (the call raced the event). The directories' memory, and
/// any other answer a change announced to every instance makes wrong.
#[derive(Clone, Debug)]
pub struct Memory<K, V>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    answers: moka::sync::Cache<K, V>,
    /// Incremented by every [`Memory::forget`].
    forgotten: Arc<AtomicU64>,
}

impl<K, V> Memory<K, V>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Up to `capacity` answers for `ttl` each; none for a zero `ttl`.
    pub fn new(ttl: Duration, capacity: u64) -> Option<Self> {
        (!ttl.is_zero()).then(|| Self {
            answers: moka::sync::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(capacity)
                .build(),
            forgotten: Arc::default(),
        })
    }

    /// The answer remembered for `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        self.answers.get(key)
    }

    /// Drops the answer for `key`, and keeps none asked for before this.
    pub fn forget(&self, key: &K) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.answers.invalidate(key);
    }

    /// Drops every answer, and keeps none asked for before this.
    pub fn forget_all(&self) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.answers.invalidate_all();
    }

    /// A mark to take before asking; [`Memory::keep`] keeps answers only if nothing was
    /// forgotten since.
    pub fn mark(&self) -> u64 {
        self.forgotten.load(Ordering::SeqCst)
    }

    /// Remembers `answers`, asked for after `mark`, unless something was forgotten since.
    pub fn keep(&self, mark: u64, answers: impl IntoIterator<Item = (K, V)>) {
        for (key, value) in answers {
            self.answers.insert(key.clone(), value);
            // Checked after the insert: a `forget` either counts before this check (and the
            // answer is dropped here) or invalidates after the insert.
            if self.forgotten.load(Ordering::SeqCst) != mark {
                self.answers.invalidate(&key);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn answers_asked_before_a_forget_are_not_kept() {
        let memory: Memory<u32, &str> = Memory::new(Duration::from_secs(60), 10).unwrap();
        let mark = memory.mark();
        memory.keep(mark, [(1, "fresh")]);
        assert_eq!(memory.get(&1), Some("fresh"));
        // A call in flight while something is forgotten: its answer may predate the change.
        let mark = memory.mark();
        memory.forget(&2);
        memory.keep(mark, [(3, "stale")]);
        assert_eq!(memory.get(&3), None);
        memory.forget(&1);
        assert_eq!(memory.get(&1), None);
        let mark = memory.mark();
        memory.keep(mark, [(4, "kept")]);
        memory.forget_all();
        memory.keep(mark, [(5, "stale")]);
        assert_eq!((memory.get(&4), memory.get(&5)), (None, None));
        assert!(Memory::<u32, ()>::new(Duration::ZERO, 10).is_none());
    }
}
