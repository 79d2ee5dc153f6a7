//! A small in-memory read cache in front of the database, for the rows every request reads: the
//! session a page shows, its organization, the API key of a merchant's call.
//!
//! Each entry lives at most `ttl`, and the cache holds at most `capacity` entries (the oldest go
//! first: with one TTL for all, the oldest entry is also the one closest to expiring). Writes
//! that change a cached row call [`Cache::invalidate`]. A read that missed takes a
//! [`Ticket`] *before* it asks the database and may only store what it read if no invalidation
//! happened since: otherwise a read that saw the row before a write could put the old row back
//! after the write had invalidated it.
//!
//! The entries are split over shards by key, each behind its own lock. Every page view reads
//! the cache; with one lock, both workers' cores took the same lock in turn on every view, and
//! its cache line travelled between them each time. With shards, two views meet on a lock only
//! when their keys fall in the same shard. Capacity, age and invalidation are per shard.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Keys are ids and hashes that caisse made itself (random UUIDs, SHA-256 digests of API
/// keys), never text a client chose to collide, so a fast hash is safe here.
type Hasher = foldhash::fast::FixedState;

/// Enough that two workers rarely meet on a lock.
const SHARDS: usize = 16;
/// Entries per shard at least: a key's shard is chance, so small shards would fill unevenly
/// and evict early. A cache this small or smaller has one shard, and exact oldest-first order.
const MIN_SHARD_CAPACITY: usize = 256;

/// The cache's state when a read began; see [`Cache::insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

struct Entry<V> {
    value: Arc<V>,
    stored_at: Instant,
}

struct Inner<K, V> {
    map: HashMap<K, Entry<V>, Hasher>,
    /// Keys in the order they were stored, with the time, to find the oldest. A key stored
    /// again appears twice; the older mention is skipped when its time no longer matches.
    order: VecDeque<(K, Instant)>,
    /// Bumped by every invalidation in this shard.
    epoch: u64,
}

/// One shard, on a cache line of its own so two shards' locks never share one.
#[repr(align(128))]
struct Shard<K, V>(Mutex<Inner<K, V>>);

pub struct Cache<K, V> {
    shards: Box<[Shard<K, V>]>,
    hasher: Hasher,
    ttl: Duration,
    /// Per shard.
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> Cache<K, V> {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        let shards = (capacity / MIN_SHARD_CAPACITY).clamp(1, SHARDS);
        Cache {
            shards: (0..shards)
                .map(|_| {
                    Shard(Mutex::new(Inner {
                        map: HashMap::with_hasher(Hasher::default()),
                        order: VecDeque::new(),
                        epoch: 0,
                    }))
                })
                .collect(),
            hasher: Hasher::with_seed(0x5eed_ca15_5e00_0001),
            ttl,
            capacity: capacity.div_ceil(shards),
        }
    }

    /// A poisoned lock only means a thread panicked holding it; every operation leaves the maps
    /// consistent before anything can panic, so keep serving.
    fn lock(&self, key: &K) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        let shard = self.hasher.hash_one(key) as usize % self.shards.len();
        lock(&self.shards[shard])
    }

    /// The value stored for `key` if it is younger than the TTL.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let inner = self.lock(key);
        let entry = inner.map.get(key)?;
        (entry.stored_at.elapsed() < self.ttl).then(|| Arc::clone(&entry.value))
    }

    /// To take before reading the database for `key` on a miss.
    pub fn ticket(&self, key: &K) -> Ticket {
        Ticket(self.lock(key).epoch)
    }

    /// Stores what a read found, unless something was invalidated since its ticket was taken.
    pub fn insert(&self, key: K, value: Arc<V>, ticket: Ticket) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock(&key);
        if inner.epoch != ticket.0 {
            return;
        }
        let now = Instant::now();
        // Expired entries at the front go whatever the size, so an idle cache shrinks too.
        while let Some((oldest, at)) = inner.order.front() {
            if now.duration_since(*at) < self.ttl {
                break;
            }
            let (oldest, at) = (oldest.clone(), *at);
            inner.order.pop_front();
            if inner.map.get(&oldest).is_some_and(|e| e.stored_at == at) {
                inner.map.remove(&oldest);
            }
        }
        while inner.map.len() >= self.capacity && !inner.map.contains_key(&key) {
            let Some((oldest, at)) = inner.order.pop_front() else {
                break;
            };
            if inner.map.get(&oldest).is_some_and(|e| e.stored_at == at) {
                inner.map.remove(&oldest);
            }
        }
        // Mentions of keys stored again or removed pile up in `order`; drop them before it grows
        // past twice the capacity.
        if inner.order.len() >= 2 * self.capacity {
            let Inner { map, order, .. } = &mut *inner;
            order.retain(|(k, at)| map.get(k).is_some_and(|e| e.stored_at == *at));
        }
        inner.order.push_back((key.clone(), now));
        inner.map.insert(
            key,
            Entry {
                value,
                stored_at: now,
            },
        );
    }

    /// Forgets `key`, and makes every read of its shard in flight unable to store what it
    /// found.
    pub fn invalidate(&self, key: &K) {
        let mut inner = self.lock(key);
        inner.epoch += 1;
        inner.map.remove(key);
    }

    /// Forgets everything, as after a write whose outcome is unknown.
    pub fn clear(&self) {
        for shard in &self.shards {
            let mut inner = lock(shard);
            inner.epoch += 1;
            inner.map.clear();
            inner.order.clear();
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map.len()).sum()
    }
}

fn lock<K, V>(shard: &Shard<K, V>) -> std::sync::MutexGuard<'_, Inner<K, V>> {
    shard.0.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(3600);

    fn cache(capacity: usize, ttl: Duration) -> Cache<u32, String> {
        Cache::new(capacity, ttl)
    }

    #[test]
    fn a_stored_value_is_returned_until_it_is_invalidated() {
        let c = cache(10, LONG);
        c.insert(1, Arc::new("one".to_string()), c.ticket(&1));
        assert_eq!(c.get(&1).as_deref().map(String::as_str), Some("one"));
        c.invalidate(&1);
        assert_eq!(c.get(&1), None);
    }

    #[test]
    fn an_entry_older_than_the_ttl_is_not_returned() {
        // Long enough that a loaded machine still reads the entry back before it lapses.
        let c = cache(10, Duration::from_millis(250));
        c.insert(1, Arc::new("one".to_string()), c.ticket(&1));
        assert!(c.get(&1).is_some());
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            c.get(&1),
            None,
            "an expired entry must send the read to the database"
        );
    }

    #[test]
    fn a_read_that_began_before_an_invalidation_does_not_store_its_stale_row() {
        let c = cache(10, LONG);
        let ticket = c.ticket(&1); // a read starts and sees the old row in the database…
        c.invalidate(&1); // …a write changes the row and invalidates it…
        c.insert(1, Arc::new("old".to_string()), ticket); // …and the read finishes.
        assert_eq!(c.get(&1), None);
        // A read that began after the write stores what it found.
        c.insert(1, Arc::new("new".to_string()), c.ticket(&1));
        assert_eq!(c.get(&1).as_deref().map(String::as_str), Some("new"));
    }

    #[test]
    fn clear_forgets_everything_and_stale_reads_in_flight() {
        // Large enough for several shards: clearing reaches every one.
        let c = cache(100 * MIN_SHARD_CAPACITY, LONG);
        let tickets: Vec<_> = (0..1000).map(|k| c.ticket(&k)).collect();
        for k in 0..500 {
            c.insert(k, Arc::new(k.to_string()), tickets[k as usize]);
        }
        assert_eq!(c.len(), 500);
        c.clear();
        assert_eq!(c.len(), 0);
        for k in 500..1000 {
            c.insert(k, Arc::new(k.to_string()), tickets[k as usize]);
        }
        assert_eq!(c.len(), 0, "reads begun before the clear must not store");
    }

    #[test]
    fn the_oldest_entries_go_first_when_full() {
        let c = cache(3, LONG);
        for k in 1..=3 {
            c.insert(k, Arc::new(k.to_string()), c.ticket(&k));
        }
        c.insert(1, Arc::new("one again".to_string()), c.ticket(&1)); // 1 is now the youngest
        c.insert(4, Arc::new("4".to_string()), c.ticket(&4));
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&2), None, "2 was the oldest");
        for k in [1, 3, 4] {
            assert!(c.get(&k).is_some(), "{k} should still be cached");
        }
    }

    #[test]
    fn a_sharded_cache_holds_about_its_capacity_and_invalidates_by_key() {
        let capacity = 16 * MIN_SHARD_CAPACITY;
        let c = cache(capacity, LONG);
        assert!(c.shards.len() > 1);
        for k in 0..capacity as u32 {
            c.insert(k, Arc::new(k.to_string()), c.ticket(&k));
        }
        // Keys fall in shards by chance: a few shards fill before the rest.
        assert!(c.len() > capacity * 9 / 10, "{} of {capacity}", c.len());
        assert!(c.len() <= capacity);
        let cached: Vec<u32> = (0..capacity as u32)
            .filter(|k| c.get(k).is_some())
            .collect();
        let (gone, kept) = (cached[0], cached[1]);
        let ticket = c.ticket(&gone);
        c.invalidate(&gone);
        assert!(c.get(&gone).is_none());
        assert!(c.get(&kept).is_some(), "only the invalidated key goes");
        c.insert(gone, Arc::new("stale".to_string()), ticket);
        assert!(
            c.get(&gone).is_none(),
            "a read begun before the invalidation"
        );
    }

    #[test]
    fn the_order_queue_stays_bounded_when_keys_are_stored_again() {
        let c = cache(4, LONG);
        for i in 0..1000 {
            c.insert(i % 2, Arc::new(i.to_string()), c.ticket(&(i % 2)));
        }
        assert!(c.lock(&0).order.len() <= 8);
        assert_eq!(c.len(), 2);
    }
}
