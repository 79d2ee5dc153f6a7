//! How much a caller can make caisse do: API requests per key, failed key lookups per client
//! address, coupon codes tried per client address and refused per organization, payment
//! attempts started per session and per address, and reads at a provider on a customer's
//! return per payment.
//!
//! Each limit is a GCRA bucket per key (`governor`), kept in memory on each node: a deployment
//! of N nodes allows N times as much, which is still a bound. Buckets of keys not seen lately
//! are forgotten once a limit holds many, so memory follows the traffic.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::domain::session::Environment;

/// Buckets a limit holds before it forgets those that are full again.
const KEEP: usize = 10_000;

/// How often a customer's return may read one payment at its provider.
pub const RETURN_READ_EVERY: Duration = Duration::from_secs(3);
/// Failed key lookups an address may make: a burst, then one every few seconds. A client that
/// goes past it is answered 429 without a lookup until its bucket refills.
const FAILED_KEYS: (u32, Duration) = (20, Duration::from_secs(3));
/// Coupon codes one address may try on the page, across sessions: a burst, then one a minute.
const COUPON_TRIES: (u32, Duration) = (10, Duration::from_secs(60));
/// Payment attempts one session may start (each asks the merchant's provider for a payment,
/// and a switch of method ends one there): a burst, then one every half minute.
const SESSION_STARTS: (u32, Duration) = (10, Duration::from_secs(30));
/// Payment attempts one address may start, across sessions: a burst, then one every 10 s.
const ADDRESS_STARTS: (u32, Duration) = (30, Duration::from_secs(10));
/// Unknown coupon codes an organization's pages may be sent, across sessions and addresses:
/// a burst, then one every ten seconds. Codes that exist do not count, so a sale's customers
/// are not held back; guessing is.
const UNKNOWN_COUPONS: (u32, Duration) = (60, Duration::from_secs(10));

/// One limit: a bucket per key.
struct Keyed<K: Hash + Eq + Clone>(DefaultKeyedRateLimiter<K>);

impl<K: Hash + Eq + Clone> Keyed<K> {
    /// `burst` at once, then one every `every`.
    fn new((burst, every): (u32, Duration)) -> Keyed<K> {
        let quota = Quota::with_period(every)
            .expect("a period above zero")
            .allow_burst(NonZeroU32::new(burst).expect("a burst above zero"));
        Keyed(RateLimiter::keyed(quota))
    }

    /// Takes one from `key`'s bucket: `Err(wait)` when it is empty.
    fn take(&self, key: &K) -> Result<(), Duration> {
        let taken = self
            .0
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()));
        if self.0.len() > KEEP {
            self.0.retain_recent();
        }
        taken
    }
}

/// A limit on failures, which are known only once the work is done (a key looked up, a code
/// found unknown): each failure takes from the key's bucket, and a key whose bucket is empty
/// is refused the work itself until it has room again.
struct Failures<K: Hash + Eq + Clone> {
    bucket: Keyed<K>,
    refused: Mutex<std::collections::HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> Failures<K> {
    fn new(quota: (u32, Duration)) -> Failures<K> {
        Failures {
            bucket: Keyed::new(quota),
            refused: Mutex::default(),
        }
    }

    /// `Err(wait)` while `key` is refused.
    fn check(&self, key: &K) -> Result<(), Duration> {
        let now = Instant::now();
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        match refused
            .get(key)
            .and_then(|until| until.checked_duration_since(now))
        {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    fn failed(&self, key: &K) {
        if let Err(wait) = self.bucket.take(key) {
            let now = Instant::now();
            let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
            if refused.len() > KEEP {
                refused.retain(|_, until| *until > now);
            }
            refused.insert(key.clone(), now + wait);
        }
    }
}

pub struct Limits {
    /// `None` when the operator turned the API's limit off (`CAISSE_API_RATE_LIMIT=0`).
    api: Option<Keyed<Uuid>>,
    failed_keys: Failures<IpAddr>,
    coupon_tries: Keyed<IpAddr>,
    unknown_coupons: Failures<(Uuid, Environment)>,
    return_reads: Keyed<Uuid>,
    session_starts: Keyed<Uuid>,
    address_starts: Keyed<IpAddr>,
}

impl Limits {
    /// The limits, with `api_per_second` requests a second per API key (and as many at once);
    /// 0 turns that one off.
    pub fn new(api_per_second: u32) -> Limits {
        let api = NonZeroU32::new(api_per_second)
            .map(|n| Keyed(RateLimiter::keyed(Quota::per_second(n).allow_burst(n))));
        Limits {
            api,
            failed_keys: Failures::new(FAILED_KEYS),
            coupon_tries: Keyed::new(COUPON_TRIES),
            unknown_coupons: Failures::new(UNKNOWN_COUPONS),
            return_reads: Keyed::new((1, RETURN_READ_EVERY)),
            session_starts: Keyed::new(SESSION_STARTS),
            address_starts: Keyed::new(ADDRESS_STARTS),
        }
    }

    /// One API request with the key `key_id`: `Err(wait)` when its bucket is empty.
    pub fn api_request(&self, key_id: Uuid) -> Result<(), Duration> {
        self.api.as_ref().map_or(Ok(()), |api| api.take(&key_id))
    }

    /// Whether `address` may have a key looked up now: `Err(wait)` while its failures are over
    /// the limit.
    pub fn key_lookup(&self, address: Option<IpAddr>) -> Result<(), Duration> {
        address.map_or(Ok(()), |a| self.failed_keys.check(&a))
    }

    /// A key from `address` was not found: counted, and once past the limit the address is
    /// refused lookups until its bucket has room again.
    pub fn key_lookup_failed(&self, address: Option<IpAddr>) {
        if let Some(address) = address {
            self.failed_keys.failed(&address);
        }
    }

    /// Whether a coupon code may be looked up on one of the organization's pages, from
    /// `address`: each address has its own budget, and an organization whose pages were sent
    /// too many unknown codes takes none for a while. `Err(wait)` past either limit.
    ///
    /// While an organization is refused, its customers' good codes wait too: telling them apart
    /// would tell a guesser which codes exist.
    pub fn coupon_try(
        &self,
        address: Option<IpAddr>,
        organization: Uuid,
        environment: Environment,
    ) -> Result<(), Duration> {
        self.unknown_coupons.check(&(organization, environment))?;
        address.map_or(Ok(()), |a| self.coupon_tries.take(&a))
    }

    /// A code the organization does not have was tried on one of its pages.
    pub fn unknown_coupon(&self, organization: Uuid, environment: Environment) {
        self.unknown_coupons.failed(&(organization, environment));
    }

    /// A payment attempt started on `session`'s page from `address`: `Err(wait)` past either
    /// limit, so that posting "pay" and "use another method" in a loop cannot spend the
    /// merchant's quota at the provider.
    pub fn attempt_start(&self, session: Uuid, address: Option<IpAddr>) -> Result<(), Duration> {
        self.session_starts.take(&session)?;
        address.map_or(Ok(()), |a| self.address_starts.take(&a))
    }

    /// Whether `payment` may be read at its provider now, on a customer's return.
    pub fn return_read(&self, payment: Uuid) -> bool {
        self.return_reads.take(&payment).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_says_how_long_to_wait() {
        let limit: Keyed<u8> = Keyed::new((3, Duration::from_secs(60)));
        for _ in 0..3 {
            assert_eq!(limit.take(&1), Ok(()));
        }
        let wait = limit.take(&1).unwrap_err();
        assert!(
            wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert_eq!(limit.take(&2), Ok(()), "another key has its own bucket");
    }

    #[test]
    fn an_address_past_its_failed_lookups_is_refused_lookups() {
        let limits = Limits::new(0);
        let address = Some(IpAddr::from([203, 0, 113, 7]));
        for _ in 0..FAILED_KEYS.0 {
            assert!(limits.key_lookup(address).is_ok());
            limits.key_lookup_failed(address);
        }
        assert!(limits.key_lookup(address).is_ok(), "the burst is allowed");
        limits.key_lookup_failed(address);
        assert!(limits.key_lookup(address).is_err());
        assert!(
            limits
                .key_lookup(Some(IpAddr::from([203, 0, 113, 8])))
                .is_ok()
        );
        assert_eq!(
            limits.api_request(Uuid::new_v4()),
            Ok(()),
            "0 turns the API's limit off"
        );
    }
}
