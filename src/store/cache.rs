//! A small in-memory read cache in front of the database, for the rows every request reads: the
//! session a page shows, its organization, the API key of a merchant's call.
//!
//! Each entry lives at most `ttl`, and the cache holds at most `capacity` entries (the oldest go
//! first: with one TTL for all, the oldest entry is also the one closest to expiring). Writes
//! that change a cached row call [`Cache::invalidate`]. A read that missed takes a
//! [`Ticket`] *before* it asks the database and may only store what it read if no invalidation
//! happened since: otherwise a read that saw the row before a write could put the old row back
//! after the write had invalidated it.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The cache's state when a read began; see [`Cache::insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

struct Entry<V> {
    value: Arc<V>,
    stored_at: Instant,
}

struct Inner<K, V> {
    map: HashMap<K, Entry<V>>,
    /// Keys in the order they were stored, with the time, to find the oldest. A key stored
    /// again appears twice; the older mention is skipped when its time no longer matches.
    order: VecDeque<(K, Instant)>,
    /// Bumped by every invalidation.
    epoch: u64,
}

pub struct Cache<K, V> {
    inner: Mutex<Inner<K, V>>,
    ttl: Duration,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> Cache<K, V> {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Cache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
                epoch: 0,
            }),
            ttl,
            capacity,
        }
    }

    /// A poisoned lock only means a thread panicked holding it; every operation leaves the maps
    /// consistent before anything can panic, so keep serving.
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value stored for `key` if it is younger than the TTL.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let inner = self.lock();
        let entry = inner.map.get(key)?;
        (entry.stored_at.elapsed() < self.ttl).then(|| Arc::clone(&entry.value))
    }

    /// To take before reading the database on a miss.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.lock().epoch)
    }

    /// Stores what a read found, unless something was invalidated since its ticket was taken.
    pub fn insert(&self, key: K, value: Arc<V>, ticket: Ticket) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
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

    /// Forgets `key`, and makes every read in flight unable to store what it found.
    pub fn invalidate(&self, key: &K) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.map.remove(key);
    }

    /// Forgets everything, as after a write whose outcome is unknown.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.map.clear();
        inner.order.clear();
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }
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
        c.insert(1, Arc::new("one".to_string()), c.ticket());
        assert_eq!(c.get(&1).as_deref().map(String::as_str), Some("one"));
        c.invalidate(&1);
        assert_eq!(c.get(&1), None);
    }

    #[test]
    fn an_entry_older_than_the_ttl_is_not_returned() {
        // Long enough that a loaded machine still reads the entry back before it lapses.
        let c = cache(10, Duration::from_millis(250));
        c.insert(1, Arc::new("one".to_string()), c.ticket());
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
        let ticket = c.ticket(); // a read starts and sees the old row in the database…
        c.invalidate(&1); // …a write changes the row and invalidates it…
        c.insert(1, Arc::new("old".to_string()), ticket); // …and the read finishes.
        assert_eq!(c.get(&1), None);
        // A read that began after the write stores what it found.
        c.insert(1, Arc::new("new".to_string()), c.ticket());
        assert_eq!(c.get(&1).as_deref().map(String::as_str), Some("new"));
    }

    #[test]
    fn clear_forgets_everything_and_stale_reads_in_flight() {
        let c = cache(10, LONG);
        let ticket = c.ticket();
        c.insert(1, Arc::new("one".to_string()), ticket);
        c.clear();
        assert_eq!(c.get(&1), None);
        c.insert(2, Arc::new("two".to_string()), ticket);
        assert_eq!(c.get(&2), None);
    }

    #[test]
    fn the_oldest_entries_go_first_when_full() {
        let c = cache(3, LONG);
        for k in 1..=3 {
            c.insert(k, Arc::new(k.to_string()), c.ticket());
        }
        c.insert(1, Arc::new("one again".to_string()), c.ticket()); // 1 is now the youngest
        c.insert(4, Arc::new("4".to_string()), c.ticket());
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&2), None, "2 was the oldest");
        for k in [1, 3, 4] {
            assert!(c.get(&k).is_some(), "{k} should still be cached");
        }
    }

    #[test]
    fn the_order_queue_stays_bounded_when_keys_are_stored_again() {
        let c = cache(4, LONG);
        for i in 0..1000 {
            c.insert(i % 2, Arc::new(i.to_string()), c.ticket());
        }
        assert!(c.lock().order.len() <= 8);
        assert_eq!(c.len(), 2);
    }
}
